/**
 * `npm run simulate`: one customer's whole story, played against a running server through its
 * public GraphQL API only, as the merchant, the consumer and the card partner would play it.
 *
 * The admin key sets up a dedicated merchant (one location with a fresh VISA MID, a 10% cashback
 * offer with no return period, so its credit is due at once); a new consumer signs up, links a
 * fresh test card and taps "Get Offer"; the partner posts the AUTH, a CLEARING for a slightly
 * different amount and a partial REFUND; the server's own job runner turns the confirmed cashback
 * into a statement credit, which the partner settles ISSUED; last, the consumer's timeline,
 * totals and e-mails, and the confirmations its app received live over graphql-ws. Every answer is checked (top-level errors, userErrors, the amounts the offer
 * rules promise), and the first surprise stops the story with a readable message.
 *
 * Then buying by hashtag, with the social platform's key: a second consumer links a card and proves
 * an X handle (a code from the app, a post the platform delivers), chooses CONFIRM_BY_POST and
 * follows orderUpdates over graphql-ws; the platform delivers a post with #BuyGiftCard25 (the
 * seed's purchase offer, or one of the simulation merchant's when it is missing or nearly sold
 * out), reads the confirm prompt hashback asks it to post, posts it (acknowledge) and delivers the
 * buyer's #ConfirmGiftCard25 answering it: the order is paid at once, with its receipt e-mail and
 * live push. Last, a card the sandbox declines (no order, the unit goes back) and a confirmation
 * with no purchase open (nothing charged). With LATE_CONFIRMATION=wait, a really late one too: an
 * offer with a one-minute window, a confirmation after 65 s, and the server's expiry job
 * releasing the unit (about 70 s in all).
 *
 * Settings: HASHBACK_URL (http://localhost:4000/graphql); keys from ADMIN_KEY / PARTNER_KEY /
 * SOCIAL_KEY, else from <DATA_DIR>/demo-keys.json (DATA_DIR defaults to ./.hashback-data), which
 * the first `npm start` on an embedded data folder writes (without a social key, the admin key
 * makes a social partner); CREDIT_TIMEOUT_MS (15000) bounds the wait for the server's job to make
 * the statement credit.
 */
import { randomBytes, randomInt } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { formatMoney } from '../src/lib/money.js';
import { randomCardNumber } from '../src/modules/cards/card-number.js';

/** The GraphQL endpoint: HASHBACK_URL as given, with `/graphql` added when it names only the server. */
const URL_ = (() => {
  const given = process.env.HASHBACK_URL || 'http://localhost:4000/graphql';
  try {
    const url = new URL(given);
    if (url.pathname === '/') url.pathname = '/graphql';
    return url.toString();
  } catch {
    return given; // fetch then says what is wrong with it
  }
})();
const DATA_DIR = process.env.DATA_DIR || './.hashback-data';
const CREDIT_TIMEOUT_MS = Number(process.env.CREDIT_TIMEOUT_MS || 15_000);
const CURRENCY = 'USD';
const REWARD_BASIS_POINTS = 1000; // 10%
const DAY = 24 * 60 * 60 * 1000;

const started = performance.now();
const run = randomBytes(3).toString('hex');
const usd = (amount: number) => formatMoney({ amount, currency: CURRENCY });

/** An expected stop: printed as a message, not a stack trace. */
class Stop extends Error {}

// ---------------------------------------------------------------------------------------------
// Output
// ---------------------------------------------------------------------------------------------

let stepNumber = 0;
function step(label: string, line: string, ...more: string[]): void {
  stepNumber++;
  console.log(`${String(stepNumber).padStart(2)}. ${label.padEnd(10)} ${line}`);
  for (const m of more) console.log(`    ${''.padEnd(10)} ${m}`);
}

// ---------------------------------------------------------------------------------------------
// Keys and the server
// ---------------------------------------------------------------------------------------------

interface Keys {
  admin: string;
  partner: string | undefined;
  /** The demo social platform's key (posts:write), if the seed saved one. */
  social: string | undefined;
  source: string;
}

function loadKeys(): Keys {
  const keysFile = path.resolve(DATA_DIR, 'demo-keys.json');
  let fromFile: { admin?: unknown; partner?: unknown; social?: unknown } = {};
  let fileProblem: string | undefined;
  try {
    fromFile = JSON.parse(fs.readFileSync(keysFile, 'utf8')) as typeof fromFile;
  } catch (error) {
    fileProblem = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : `unreadable (${(error as Error).message})`;
  }
  const admin = process.env.ADMIN_KEY || (typeof fromFile.admin === 'string' ? fromFile.admin : undefined);
  const partner = process.env.PARTNER_KEY || (typeof fromFile.partner === 'string' ? fromFile.partner : undefined);
  if (!admin) {
    throw new Stop(
      [
        'No admin key: set ADMIN_KEY (and optionally PARTNER_KEY), or point DATA_DIR at the data folder',
        `of a server whose first start saved demo-keys.json (${keysFile}: ${fileProblem ?? 'has no admin key'}).`,
      ].join('\n'),
    );
  }
  const social = process.env.SOCIAL_KEY || (typeof fromFile.social === 'string' ? fromFile.social : undefined);
  const source = process.env.ADMIN_KEY ? 'ADMIN_KEY' + (process.env.PARTNER_KEY ? ' / PARTNER_KEY' : '') + (process.env.SOCIAL_KEY ? ' / SOCIAL_KEY' : '') : keysFile;
  return { admin, partner, social, source };
}

interface GraphQLError {
  message: string;
  extensions?: { code?: string };
}

interface UserError {
  field: string[] | null;
  message: string;
  code: string;
}

/** One GraphQL request; any transport problem or top-level error stops the story. */
async function gql<T>(what: string, query: string, variables: Record<string, unknown> = {}, key?: string): Promise<T> {
  let response: Response;
  try {
    response = await fetch(URL_, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
      body: JSON.stringify({ query, variables }),
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    throw new Stop(
      `${what}: no hashback server answers at ${URL_} (${cause?.code ?? cause?.message ?? (error as Error).message}).\n` +
        'Start one with `npm start` (or set HASHBACK_URL to where it runs).',
    );
  }
  const text = await response.text();
  let body: { data?: T | null; errors?: GraphQLError[] };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    throw new Stop(
      `${what}: ${URL_} answered HTTP ${response.status} with something that is not GraphQL: ${text.slice(0, 200) || '(an empty body)'}` +
        (response.status === 404 ? '\nHASHBACK_URL names the GraphQL endpoint, e.g. http://localhost:4000/graphql.' : ''),
    );
  }
  if (response.status === 401) {
    throw new Stop(`${what}: the server refused the key (HTTP 401). Are the keys from this server's data folder (${DATA_DIR})?`);
  }
  if (body.errors?.length) {
    throw new Stop(`${what}: ${body.errors.map((e) => `${e.message}${e.extensions?.code ? ` [${e.extensions.code}]` : ''}`).join('; ')}`);
  }
  if (!body.data) throw new Stop(`${what}: HTTP ${response.status} without data`);
  return body.data;
}

/** A mutation that must succeed: its userErrors stop the story. */
async function mutate<P extends { userErrors: UserError[] }>(
  what: string,
  name: string,
  query: string,
  input: Record<string, unknown>,
  key?: string,
): Promise<P> {
  const data = await gql<Record<string, P>>(what, query, { input }, key);
  const payload = data[name]!;
  if (payload.userErrors.length > 0) {
    throw new Stop(`${what}: ${payload.userErrors.map((e) => `${e.code}: ${e.message}${e.field ? ` (${e.field.join('.')})` : ''}`).join('; ')}`);
  }
  return payload;
}

function check(condition: boolean, what: string, detail: string): void {
  if (!condition) throw new Stop(`${what}: ${detail}`);
}

// ---------------------------------------------------------------------------------------------
// Test card: a fresh Luhn-valid Visa number (only ever printed as ••last4)
// ---------------------------------------------------------------------------------------------

function freshVisaNumber(): string {
  return randomCardNumber('4', 16);
}

// ---------------------------------------------------------------------------------------------
// Operations
// ---------------------------------------------------------------------------------------------

const USER_ERRORS = 'userErrors { field message code }';
const MONEY = 'amount formatted';
const CASHBACK = `id status amount { ${MONEY} } purchaseAmount { ${MONEY} } refundedAmount { ${MONEY} } reason expectedCreditAt`;
const INGEST = `mutation($input: IngestTransactionsInput!) {
  ingestTransactions(input: $input) {
    results { externalId outcome reason errors { field message code } transaction { amount { ${MONEY} } } cashback { ${CASHBACK} } }
    ${USER_ERRORS}
  }
}`;

interface MoneyOut {
  amount: number;
  formatted: string;
}

interface CashbackOut {
  id: string;
  status: string;
  amount: MoneyOut;
  purchaseAmount: MoneyOut;
  refundedAmount: MoneyOut;
  reason: string | null;
  expectedCreditAt: string | null;
}

interface IngestResultOut {
  externalId: string;
  outcome: string;
  reason: string | null;
  errors: UserError[];
  transaction: { amount: MoneyOut } | null;
  cashback: CashbackOut | null;
}

async function postTransaction(what: string, partnerKey: string, item: Record<string, unknown>): Promise<IngestResultOut> {
  const payload = await mutate<{ results: IngestResultOut[] | null; userErrors: UserError[] }>(
    what,
    'ingestTransactions',
    INGEST,
    { transactions: [item], idempotencyKey: `sim-${run}-${String(item.externalId)}` },
    partnerKey,
  );
  const result = payload.results?.[0];
  if (!result) throw new Stop(`${what}: no result for the transaction`);
  if (result.outcome === 'REJECTED') {
    throw new Stop(`${what}: REJECTED: ${result.errors.map((e) => `${e.code}: ${e.message}`).join('; ')}`);
  }
  check(result.outcome === 'QUALIFIED', what, `expected QUALIFIED, got ${result.outcome} (${result.reason ?? 'no reason'})`);
  if (!result.cashback) throw new Stop(`${what}: QUALIFIED but no cashback in the answer`);
  return result;
}

interface CreditOut {
  id: string;
  status: string;
  amount: MoneyOut;
  cardNetwork: string;
  cardLast4: string;
  transactionExternalId: string;
  reference: string | null;
  createdAt: string;
}

const CREDIT = `id status amount { ${MONEY} } cardNetwork cardLast4 transactionExternalId reference createdAt`;

/** Pages through the PENDING statement credits for the one earned by `externalIds`. */
async function findPendingCredit(partnerKey: string, externalIds: string[]): Promise<CreditOut | undefined> {
  let after: string | null = null;
  for (let page = 0; page < 50; page++) {
    const data: { statementCredits: { edges: { node: CreditOut }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } } = await gql(
      'looking for the statement credit',
      `query($after: String) { statementCredits(first: 100, after: $after, status: PENDING) {
        edges { node { ${CREDIT} } } pageInfo { hasNextPage endCursor } } }`,
      { after },
      partnerKey,
    );
    const found = data.statementCredits.edges.find((e) => externalIds.includes(e.node.transactionExternalId));
    if (found) return found.node;
    if (!data.statementCredits.pageInfo.hasNextPage) return undefined;
    after = data.statementCredits.pageInfo.endCursor;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// The story
// ---------------------------------------------------------------------------------------------

interface Confirmation {
  type: string;
  amount: { formatted: string };
  cursor: string;
}

/**
 * An app following one of its live streams over graphql-ws from `after` (the log's position when
 * it started), so nothing is missed while the subscription registers: `field` is the
 * subscription's root field, `selection` what it selects.
 */
function follow<T>(token: string, field: string, selection: string, after: string): { events: T[]; waitFor(count: number, ms: number): Promise<void>; close(): Promise<void> } {
  const client: Client = createClient({
    url: URL_.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    lazy: false,
    connectionParams: { authorization: `Bearer ${token}` },
    onNonLazyError: () => undefined,
  });
  const events: T[] = [];
  client.subscribe<Record<string, T>>(
    { query: `subscription($after: String) { ${field}(after: $after) { ${selection} } }`, variables: { after } },
    { next: ({ data }) => void (data?.[field] && events.push(data[field]!)), error: () => undefined, complete: () => undefined },
  );
  return {
    events,
    async waitFor(count, ms) {
      const deadline = Date.now() + ms;
      while (events.length < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    },
    close: () => client.dispose() as Promise<void>,
  };
}

/** The consumer's app following its purchase confirmations. */
const followConfirmations = (token: string, after: string) => follow<Confirmation>(token, 'purchaseConfirmations', 'type amount { formatted } cursor', after);

async function simulate(keys: Keys): Promise<{ merchantKey: string; locationId: string; merchantName: string }> {
  console.log(`hashback simulation against ${URL_}`);
  console.log(`keys from ${keys.source}\n`);

  await gql<{ __typename: string }>('reaching the server', '{ __typename }');

  // ---- the merchant, set up by the admin ----
  const merchantName = `Simulated Café ${run}`;
  const { merchant } = await mutate<{ merchant: { id: string; name: string }; userErrors: UserError[] }>(
    'creating the simulation merchant (admin key)',
    'createMerchant',
    `mutation($input: CreateMerchantInput!) { createMerchant(input: $input) { merchant { id name } ${USER_ERRORS} } }`,
    { name: merchantName, country: 'US', category: 'Coffee', socialHandle: `@simcafe${run}` },
    keys.admin,
  );
  await mutate(
    'approving the merchant',
    'approveMerchant',
    `mutation($input: ApproveMerchantInput!) { approveMerchant(input: $input) { merchant { status } ${USER_ERRORS} } }`,
    { merchantId: merchant.id },
    keys.admin,
  );
  const { secret: merchantKey } = await mutate<{ secret: string; userErrors: UserError[] }>(
    'creating a merchant key',
    'createApiKey',
    `mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret ${USER_ERRORS} } }`,
    { name: `simulation merchant ${run}`, role: 'MERCHANT', merchantId: merchant.id },
    keys.admin,
  );
  const mid = `SIM-${run.toUpperCase()}-${randomBytes(3).toString('hex').toUpperCase()}`;
  const { location } = await mutate<{ location: { id: string; name: string; mids: { network: string; mid: string }[] }; userErrors: UserError[] }>(
    'creating the location (merchant key)',
    'createLocation',
    `mutation($input: CreateLocationInput!) { createLocation(input: $input) { location { id name mids { network mid } } ${USER_ERRORS} } }`,
    { name: `${merchantName} — Main St`, channel: 'IN_STORE', country: 'US', timezone: 'America/New_York', address: '1 Main St, New York, NY', mids: [{ network: 'VISA', mid }] },
    merchantKey,
  );
  step(
    'Merchant',
    `admin created and approved "${merchant.name}" with a merchant key;`,
    `location "${location.name}" takes cards as ${location.mids.map((m) => `${m.network} ${m.mid}`).join(', ')}`,
  );

  const { offer: draft } = await mutate<{ offer: { id: string }; userErrors: UserError[] }>(
    'creating the offer (merchant key)',
    'createOffer',
    `mutation($input: CreateOfferInput!) { createOffer(input: $input) { offer { id } ${USER_ERRORS} } }`,
    {
      kind: 'CASHBACK',
      title: `10% back at ${merchantName}`,
      description: 'Simulation offer: no return period, so its statement credit is due at once.',
      currency: CURRENCY,
      rewardType: 'PERCENT',
      rewardBasisPoints: REWARD_BASIS_POINTS,
      budget: 100_000,
      activationRequired: true,
      returnPeriodDays: 0,
      startsAt: new Date(Date.now() - 60_000).toISOString(),
      endsAt: new Date(Date.now() + 30 * DAY).toISOString(),
      locationIds: [location.id],
    },
    merchantKey,
  );
  const { offer: published } = await mutate<{ offer: { status: string; rewardSummary: string; budget: MoneyOut }; userErrors: UserError[] }>(
    'publishing the offer',
    'publishOffer',
    `mutation($input: PublishOfferInput!) { publishOffer(input: $input) { offer { status rewardSummary budget { ${MONEY} } } ${USER_ERRORS} } }`,
    { offerId: draft.id },
    merchantKey,
  );
  check(published.status === 'LIVE', 'publishing the offer', `expected LIVE, got ${published.status}`);
  step('Offer', `published "${published.rewardSummary}" (budget ${published.budget.formatted}, return period 0 days, Get Offer required): ${published.status}`);

  // ---- the partner key: the demo one if it may settle credits, else a new one ----
  let partnerKey = keys.partner;
  let partnerNote = 'the demo partner key';
  if (partnerKey) {
    try {
      await gql('checking the partner key', '{ statementCredits(first: 1) { edges { node { id } } } }', {}, partnerKey);
    } catch (error) {
      if (!(error instanceof Stop)) throw error;
      partnerKey = undefined;
      partnerNote = `a new partner key (the given one cannot read credits: ${error.message.replace(/^[^:]*: /, '')})`;
    }
  }
  if (!partnerKey) {
    const { partner } = await mutate<{ partner: { id: string }; userErrors: UserError[] }>(
      'creating a partner (admin key)',
      'createPartner',
      `mutation($input: CreatePartnerInput!) { createPartner(input: $input) { partner { id } ${USER_ERRORS} } }`,
      { name: `simulation partner ${run}`, scopes: ['TRANSACTIONS_WRITE', 'CREDITS_WRITE'] },
      keys.admin,
    );
    const created = await mutate<{ secret: string; userErrors: UserError[] }>(
      'creating a partner key (admin key)',
      'createApiKey',
      `mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret ${USER_ERRORS} } }`,
      { name: `simulation partner ${run} key`, role: 'PARTNER', partnerId: partner.id },
      keys.admin,
    );
    partnerKey = created.secret;
    if (!keys.partner) partnerNote = 'a new partner key (none was given)';
  }

  // ---- the consumer ----
  const email = `sim-${run}@example.com`;
  const signUp = await mutate<{ token: string; user: { displayName: string; email: string }; userErrors: UserError[] }>(
    'signing up',
    'signUp',
    `mutation($input: SignUpInput!) { signUp(input: $input) { token user { displayName email } ${USER_ERRORS} } }`,
    { email, password: `sim-password-${randomBytes(8).toString('hex')}`, displayName: 'Ada Simulated', country: 'US' },
  );
  const token = signUp.token;
  step('Sign up', `${signUp.user.displayName} <${signUp.user.email}> (US) signed up and holds a token; the app follows purchaseConfirmations over graphql-ws`);
  const { eventCursor } = await gql<{ eventCursor: string }>('reading the event cursor', '{ eventCursor }', {}, token);
  const app = followConfirmations(token, eventCursor);

  let cardNumber = '';
  let card: { network: string; last4: string } | undefined;
  for (let attempt = 1; !card; attempt++) {
    cardNumber = freshVisaNumber();
    const data = await gql<{ linkCard: { card: { network: string; last4: string } | null; userErrors: UserError[] } }>(
      'linking the card',
      `mutation($input: LinkCardInput!) { linkCard(input: $input) { card { network last4 } ${USER_ERRORS} } }`,
      { input: { number: cardNumber, expMonth: 12, expYear: new Date().getUTCFullYear() + 3 } },
      token,
    );
    const errors = data.linkCard.userErrors;
    // A random number someone else linked already: draw another.
    if (errors.length === 1 && errors[0]!.code === 'CARD_UNAVAILABLE' && attempt < 5) continue;
    if (errors.length > 0) throw new Stop(`linking the card: ${errors.map((e) => `${e.code}: ${e.message}`).join('; ')}`);
    card = data.linkCard.card!;
  }
  const last4 = `••${card.last4}`;
  step('Card', `linked a fresh test ${card.network} card ${last4} (Luhn-valid, expires 12/${new Date().getUTCFullYear() + 3})`);

  // ---- Get Offer: the consumer finds the offer in the public feed ----
  interface FeedOffer {
    id: string;
    title: string;
    rewardSummary: string;
    status: string;
    returnPeriodDays: number;
    merchant: { name: string };
    locations: { name: string; mids: { network: string; mid: string }[] | null }[];
  }
  const feed = await gql<{ offers: { edges: { node: FeedOffer }[] } }>(
    'reading the offer feed',
    `{ offers(first: 100, filter: { kind: CASHBACK, country: "US" }) { edges { node {
        id title rewardSummary status returnPeriodDays merchant { name } locations { name mids { network mid } } } } } }`,
    {},
    token,
  );
  const live = feed.offers.edges.map((e) => e.node).filter((o) => o.status === 'LIVE' && o.locations.length > 0);
  const chosen = live.find((o) => o.id === draft.id);
  if (!chosen) throw new Stop(`reading the offer feed: the simulation offer is not among the ${live.length} live cashback offers the consumer sees`);
  const demo = live.find((o) => o.merchant.name === 'Blue Bottle Coffee' && o.rewardSummary.startsWith('15%'));
  const demoNote = !demo
    ? '(the demo Blue Bottle 15% offer is not in this feed)'
    : demo.returnPeriodDays > 0
      ? `(the demo "${demo.title}" is there too, but holds credits ${demo.returnPeriodDays} days for returns)`
      : `(the demo "${demo.title}" is there too)`;
  const activation = await mutate<{ offer: { viewerHasActivated: boolean }; userErrors: UserError[] }>(
    'Get Offer (activateOffer)',
    'activateOffer',
    `mutation($input: ActivateOfferInput!) { activateOffer(input: $input) { offer { viewerHasActivated } ${USER_ERRORS} } }`,
    { offerId: chosen.id },
    token,
  );
  check(activation.offer.viewerHasActivated, 'Get Offer', 'the offer does not say the viewer activated it');
  step(
    'Get Offer',
    `found "${chosen.title}" (${chosen.rewardSummary}) among ${live.length} live cashback offers and tapped Get Offer`,
    demoNote,
  );

  // ---- the purchase, as the card partner posts it ----
  const authAmount = randomInt(30, 80) * 100 + randomInt(0, 4) * 25; // $30.00 … $79.75
  const clearingAmount = authAmount + randomInt(2, 9) * 50; // a tip added at the till
  const refundAmount = Math.round(clearingAmount / 4); // one item of four returned
  const authId = `sim-${run}-auth`;
  const clearingId = `sim-${run}-clearing`;
  const refundId = `sim-${run}-refund`;
  const at = () => new Date().toISOString();
  const base = { cardNumber, network: 'VISA', mid, currency: CURRENCY };

  const expectedAuthReward = Math.floor((authAmount * REWARD_BASIS_POINTS) / 10_000);
  const auth = await postTransaction('posting the AUTH', partnerKey, { ...base, externalId: authId, type: 'AUTH', amount: authAmount, occurredAt: at() });
  check(
    auth.cashback!.status === 'PENDING' && auth.cashback!.amount.amount === expectedAuthReward,
    'posting the AUTH',
    `expected cashback ${usd(expectedAuthReward)} PENDING, got ${auth.cashback!.amount.formatted} ${auth.cashback!.status}`,
  );
  step('AUTH', `partner posted ${usd(authAmount)} on ${last4} at ${mid}: ${auth.outcome}, cashback ${auth.cashback!.amount.formatted} PENDING`);

  const expectedClearingReward = Math.floor((clearingAmount * REWARD_BASIS_POINTS) / 10_000);
  const clearing = await postTransaction('posting the CLEARING', partnerKey, {
    ...base,
    externalId: clearingId,
    type: 'CLEARING',
    amount: clearingAmount,
    authExternalId: authId,
    occurredAt: at(),
  });
  check(
    clearing.cashback!.id === auth.cashback!.id && clearing.cashback!.status === 'CONFIRMED' && clearing.cashback!.amount.amount === expectedClearingReward,
    'posting the CLEARING',
    `expected the same cashback CONFIRMED at ${usd(expectedClearingReward)}, got ${clearing.cashback!.amount.formatted} ${clearing.cashback!.status}`,
  );
  step(
    'CLEARING',
    `cleared at ${usd(clearingAmount)} (a ${usd(clearingAmount - authAmount)} tip): cashback CONFIRMED, recomputed ${auth.cashback!.amount.formatted} → ${clearing.cashback!.amount.formatted}`,
  );

  const confirmedAt = performance.now(); // the cashback is due from here (no return period)
  const remaining = clearingAmount - refundAmount;
  const expectedAfterRefund = Math.floor((expectedClearingReward * remaining) / clearingAmount);
  const refund = await postTransaction('posting the REFUND', partnerKey, {
    ...base,
    externalId: refundId,
    type: 'REFUND',
    amount: refundAmount,
    originalExternalId: clearingId,
    occurredAt: at(),
  });
  check(
    refund.cashback!.id === auth.cashback!.id && refund.cashback!.amount.amount === expectedAfterRefund,
    'posting the REFUND',
    `expected the cashback to shrink to ${usd(expectedAfterRefund)}, got ${refund.cashback!.amount.formatted} ${refund.cashback!.status}`,
  );
  step(
    'REFUND',
    `${usd(refundAmount)} of ${usd(clearingAmount)} refunded: cashback shrinks in proportion ${clearing.cashback!.amount.formatted} → ${refund.cashback!.amount.formatted}` +
      ` (${refund.cashback!.status}, ${refund.cashback!.reason ?? 'no reason'})`,
  );

  // ---- the statement credit: made by the server's job runner, settled by the partner ----
  const waitStarted = performance.now();
  let credit = await findPendingCredit(partnerKey, [authId, clearingId]);
  if (!credit) process.stdout.write(`    ${''.padEnd(10)} waiting for the server's job to make the statement credit `);
  while (!credit) {
    if (performance.now() - waitStarted > CREDIT_TIMEOUT_MS) {
      process.stdout.write('\n');
      throw new Stop(
        [
          `no statement credit appeared within ${(CREDIT_TIMEOUT_MS / 1000).toFixed(0)} s for the cashback (${refund.cashback!.amount.formatted} ${refund.cashback!.status},`,
          `expected on the card at ${refund.cashback!.expectedCreditAt ?? 'unknown'}).`,
          "Statement credits are made by the server's job runner: start the server with JOBS=true (the default)",
          'and a short JOB_INTERVAL_MS (default 1000).',
        ].join('\n'),
      );
    }
    process.stdout.write('.');
    await new Promise((resolve) => setTimeout(resolve, 500));
    credit = await findPendingCredit(partnerKey, [authId, clearingId]);
    if (credit) process.stdout.write('\n');
  }
  const waited = (performance.now() - confirmedAt) / 1000;
  check(
    credit.amount.amount === refund.cashback!.amount.amount,
    'the statement credit',
    `expected ${refund.cashback!.amount.formatted}, the credit is ${credit.amount.formatted}`,
  );
  step('Credit', `the server's job made a PENDING statement credit of ${credit.amount.formatted} for ${credit.cardNetwork} ••${credit.cardLast4} (${waited.toFixed(1)} s after the clearing)`);

  const reference = `SIM-REF-${run.toUpperCase()}`;
  const settled = await mutate<{ credits: CreditOut[]; userErrors: UserError[] }>(
    'settling the statement credit',
    'settleStatementCredits',
    `mutation($input: SettleStatementCreditsInput!) { settleStatementCredits(input: $input) { credits { ${CREDIT} } ${USER_ERRORS} } }`,
    { credits: [{ id: credit.id, status: 'ISSUED', reference }], idempotencyKey: `sim-${run}-settle` },
    partnerKey,
  );
  check(settled.credits[0]?.status === 'ISSUED', 'settling the statement credit', `expected ISSUED, got ${settled.credits[0]?.status}`);

  // ---- what the consumer sees ----
  interface ViewerOut {
    viewer: {
      cashback: {
        edges: {
          node: CashbackOut & {
            cardLast4: string | null;
            merchant: { name: string } | null;
            history: { type: string; status: string; amount: MoneyOut; reason: string | null; at: string }[];
          };
        }[];
      };
      cashbackTotals: { currency: string; pending: MoneyOut; confirmed: MoneyOut; credited: MoneyOut }[];
      emails: { kind: string; subject: string; status: string; sentAt: string | null }[];
    } | null;
  }
  const seen = await gql<ViewerOut>(
    "reading the consumer's cashback",
    `{ viewer {
        cashback(first: 10) { edges { node { ${CASHBACK} cardLast4 merchant { name } history { type status amount { ${MONEY} } reason at } } } }
        cashbackTotals { currency pending { ${MONEY} } confirmed { ${MONEY} } credited { ${MONEY} } }
        emails(first: 20) { kind subject status sentAt }
      } }`,
    {},
    token,
  );
  if (!seen.viewer) throw new Stop("reading the consumer's cashback: viewer is null for the consumer's token");
  const cashback = seen.viewer.cashback.edges.find((e) => e.node.id === auth.cashback!.id)?.node;
  if (!cashback) throw new Stop("reading the consumer's cashback: the purchase's cashback is not in the timeline");
  check(cashback.status === 'CREDITED', 'the settled cashback', `expected CREDITED, got ${cashback.status}`);
  step('Settle', `partner settled the credit ISSUED (reference ${reference}): cashback ${cashback.amount.formatted} ${cashback.status}`);

  const timeline = cashback.history.map((h) => `${h.type} ${h.amount.formatted}${h.reason ? ` (${h.reason})` : ''}`);
  const totals = seen.viewer.cashbackTotals.map((t) => `${t.currency}: pending ${t.pending.formatted}, confirmed ${t.confirmed.formatted}, credited ${t.credited.formatted}`);
  step('Timeline', timeline.join(' → '), ...totals.map((t) => `totals ${t}`));
  const emails = [...seen.viewer.emails].reverse(); // oldest first, as the story happened
  step(
    'E-mails',
    `${emails.length} written to ${email}:`,
    ...emails.map((e) => `${e.status.padEnd(6)} "${e.subject}"`),
  );
  const queued = emails.filter((e) => e.status === 'QUEUED').length;
  await app.waitFor(4, 3000);
  await app.close();
  const pushed = app.events.map((e) => e.type).join(', ');
  check(pushed === 'PENDING, CONFIRMED, REVERSED, CREDITED', 'the live confirmations', `expected PENDING, CONFIRMED, REVERSED, CREDITED over graphql-ws, got "${pushed}" (is LIVE_EVENTS off on the server?)`);
  step('Live push', `${app.events.length} confirmations reached the app as they happened: ${app.events.map((e) => `${e.type} ${e.amount.formatted}`).join(' → ')}`);

  // ---- summary ----
  const seconds = (performance.now() - started) / 1000;
  const sentCount = emails.filter((e) => e.status === 'SENT').length;
  console.log(
    [
      '',
      'Summary',
      `  merchant   ${merchant.name}, MID VISA ${mid}, offer "${published.rewardSummary}"`,
      `  consumer   ${email}, card ${card.network} ${last4}, offer activated`,
      `  purchase   auth ${usd(authAmount)} → cleared ${usd(clearingAmount)} → refunded ${usd(refundAmount)} = ${usd(remaining)} kept`,
      `  cashback   ${auth.cashback!.amount.formatted} PENDING → ${clearing.cashback!.amount.formatted} CONFIRMED → ${refund.cashback!.amount.formatted} after the refund → CREDITED`,
      `  credit     ${credit.amount.formatted} made by the server's job ${waited.toFixed(1)} s after the clearing, settled ISSUED by ${partnerNote}`,
      `  live push  ${app.events.map((e) => e.type).join(', ')} over graphql-ws, each with a cursor to resume from`,
      `  e-mails    ${emails.length} (${sentCount} SENT, ${queued} QUEUED${queued > 0 ? ': stored; they go out once the server has an SMTP server (SMTP_URL)' : ''})`,
      `  took       ${seconds.toFixed(1)} s`,
      '',
    ].join('\n'),
  );
  return { merchantKey, locationId: location.id, merchantName };
}

// ---------------------------------------------------------------------------------------------
// Buying by hashtag
// ---------------------------------------------------------------------------------------------

const DEMO_BUY_HASHTAG = '#BuyGiftCard25';
/** Sandbox cards that decline every charge (sandbox-cards.ts); one is linked by one user at a time, so the story unlinks it again. */
const DECLINING_CARDS = ['4000 0000 0000 0002', '4000 0000 0000 9995', '4000 0000 0000 0341'];
const LATE_WAIT = process.env.LATE_CONFIRMATION === 'wait';

const POST_RESULT = 'platform postId outcome reason errors { code message } offer { title }';
const INGEST_POSTS = `mutation($input: IngestPostsInput!) { ingestPosts(input: $input) { results { ${POST_RESULT} } ${USER_ERRORS} } }`;

interface PostResultOut {
  platform: string;
  postId: string;
  outcome: string;
  reason: string | null;
  errors: { code: string; message: string }[];
  offer: { title: string } | null;
}

interface ReplyOut {
  id: string;
  kind: string;
  text: string;
  inReplyToPostId: string;
  platformPostId: string | null;
}

interface PurchaseOfferOut {
  id: string;
  title: string;
  status: string;
  hashtag: string | null;
  confirmHashtag: string | null;
  confirmWindowMinutes: number | null;
  quantityRemaining: number | null;
  quantityHeld: number;
  price: MoneyOut | null;
  merchant: { name: string };
}

const PURCHASE_OFFER = `id title status hashtag confirmHashtag confirmWindowMinutes quantityRemaining quantityHeld price { ${MONEY} } merchant { name }`;

/** The social platform delivers one post; the result must have `expected` as its outcome (and `reason`, if given). */
async function deliverPost(
  what: string,
  socialKey: string,
  post: { postId: string; handle: string; text: string; inReplyToPostId?: string },
  expected: string,
  reason?: string,
): Promise<PostResultOut> {
  const payload = await mutate<{ results: PostResultOut[] | null; userErrors: UserError[] }>(what, 'ingestPosts', INGEST_POSTS, {
    posts: [{ platform: 'X', postId: post.postId, authorHandle: `@${post.handle}`, text: post.text, postedAt: new Date().toISOString(), ...(post.inReplyToPostId ? { inReplyToPostId: post.inReplyToPostId } : {}) }],
    idempotencyKey: `sim-${run}-${post.postId}`,
  }, socialKey);
  const result = payload.results?.[0];
  if (!result) throw new Stop(`${what}: no result for the post`);
  const got = `${result.outcome}${result.reason ? ` ${result.reason}` : ''}${result.errors.length ? ` (${result.errors.map((e) => `${e.code}: ${e.message}`).join('; ')})` : ''}`;
  check(result.outcome === expected && (reason === undefined || result.reason === reason), what, `expected ${expected}${reason ? ` ${reason}` : ''}, got ${got}`);
  return result;
}

/** The replies hashback asks the platform to post for `postId` that it has not posted yet (pages through). */
async function repliesTo(socialKey: string, postId: string): Promise<ReplyOut[]> {
  const found: ReplyOut[] = [];
  let after: string | null = null;
  for (let page = 0; page < 50; page++) {
    const data: { socialReplies: { edges: { node: ReplyOut }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } } = await gql(
      'reading the social replies',
      `query($after: String) { socialReplies(platform: X, unacknowledgedOnly: true, first: 100, after: $after) {
        edges { node { id kind text inReplyToPostId platformPostId } } pageInfo { hasNextPage endCursor } } }`,
      { after },
      socialKey,
    );
    found.push(...data.socialReplies.edges.map((e) => e.node).filter((r) => r.inReplyToPostId === postId));
    if (!data.socialReplies.pageInfo.hasNextPage) break;
    after = data.socialReplies.pageInfo.endCursor;
  }
  return found;
}

/** The platform posts hashback's reply to `postId` of kind `kind` and records its id (acknowledge). */
async function postReply(what: string, socialKey: string, postId: string, kind: string): Promise<ReplyOut & { platformPostId: string }> {
  const replies = await repliesTo(socialKey, postId);
  const reply = replies.find((r) => r.kind === kind);
  if (!reply) throw new Stop(`${what}: no ${kind} reply to post ${postId} (found: ${replies.map((r) => r.kind).join(', ') || 'none'})`);
  const platformPostId = `sim-${run}-reply-${reply.id.slice(-8)}`;
  const acked = await mutate<{ replies: ReplyOut[] | null; userErrors: UserError[] }>(
    `${what} (acknowledgeSocialReplies)`,
    'acknowledgeSocialReplies',
    `mutation($input: AcknowledgeSocialRepliesInput!) { acknowledgeSocialReplies(input: $input) { replies { id kind text inReplyToPostId platformPostId } ${USER_ERRORS} } }`,
    { replies: [{ id: reply.id, platformPostId }] },
    socialKey,
  );
  const recorded = acked.replies?.[0]?.platformPostId;
  check(recorded === platformPostId, what, `the reply was acknowledged as ${recorded ?? 'nothing'}, not ${platformPostId}`);
  return { ...reply, platformPostId };
}

interface OrderUpdateOut {
  type: string;
  status: string;
  cursor: string;
  order: { amount: { formatted: string }; offer: { title: string } | null } | null;
}

/** The buyer's app following its orders. */
const followOrders = (token: string, after: string) =>
  follow<OrderUpdateOut>(token, 'orderUpdates', 'type status cursor order { amount { formatted } offer { title } }', after);

/** A new consumer with a linked card (the first of `numbers` nobody holds, else a fresh approving number) and a verified X handle. */
async function newHashtagBuyer(
  label: string,
  socialKey: string,
  handle: string,
  numbers: string[],
): Promise<{ token: string; email: string; card: { id: string; network: string; last4: string } }> {
  const email = `sim-${run}-${label}@example.com`;
  const { token } = await mutate<{ token: string; userErrors: UserError[] }>(
    `signing up the ${label}`,
    'signUp',
    `mutation($input: SignUpInput!) { signUp(input: $input) { token ${USER_ERRORS} } }`,
    { email, password: `sim-password-${randomBytes(8).toString('hex')}`, displayName: `Sim ${label}`, country: 'US' },
  );
  let card: { id: string; network: string; last4: string } | undefined;
  const candidates = numbers.length > 0 ? numbers : Array.from({ length: 5 }, freshVisaNumber);
  for (const number of candidates) {
    const data = await gql<{ linkCard: { card: { id: string; network: string; last4: string } | null; userErrors: UserError[] } }>(
      `linking the ${label}'s card`,
      `mutation($input: LinkCardInput!) { linkCard(input: $input) { card { id network last4 } ${USER_ERRORS} } }`,
      { input: { number, expMonth: 12, expYear: new Date().getUTCFullYear() + 3 } },
      token,
    );
    const errors = data.linkCard.userErrors;
    // Held by another user (a test card another run left linked, or a random number taken): next.
    if (errors.length === 1 && errors[0]!.code === 'CARD_UNAVAILABLE') continue;
    if (errors.length > 0) throw new Stop(`linking the ${label}'s card: ${errors.map((e) => `${e.code}: ${e.message}`).join('; ')}`);
    card = data.linkCard.card!;
    break;
  }
  if (!card) throw new Stop(`linking the ${label}'s card: every candidate (${candidates.map((n) => `••${n.slice(-4)}`).join(', ')}) is linked by another user`);

  const { verification } = await mutate<{ verification: { code: string; handle: string; expiresAt: string }; userErrors: UserError[] }>(
    `starting the ${label}'s handle verification`,
    'startHandleVerification',
    `mutation($input: StartHandleVerificationInput!) { startHandleVerification(input: $input) { verification { code handle expiresAt } ${USER_ERRORS} } }`,
    { platform: 'X', handle: `@${handle}` },
    token,
  );
  await deliverPost(`the ${label}'s verification post`, socialKey, { postId: `sim-${run}-${label}-verify`, handle, text: `Linking my hashback account ${verification.code}` }, 'VERIFIED_HANDLE');
  const settings = await mutate<{ hashtagSettings: { hashtagBuying: string }; userErrors: UserError[] }>(
    `choosing CONFIRM_BY_POST for the ${label}`,
    'updateHashtagSettings',
    `mutation($input: UpdateHashtagSettingsInput!) { updateHashtagSettings(input: $input) { hashtagSettings { hashtagBuying } ${USER_ERRORS} } }`,
    { hashtagBuying: 'CONFIRM_BY_POST' },
    token,
  );
  check(settings.hashtagSettings.hashtagBuying === 'CONFIRM_BY_POST', 'hashtag settings', `got ${settings.hashtagSettings.hashtagBuying}`);
  return { token, email, card };
}

async function readPurchaseOffer(offerId: string, token: string): Promise<PurchaseOfferOut> {
  const data = await gql<{ node: PurchaseOfferOut | null }>('reading the purchase offer', `query($id: ID!) { node(id: $id) { ... on Offer { ${PURCHASE_OFFER} } } }`, { id: offerId }, token);
  if (!data.node) throw new Stop('reading the purchase offer: not found');
  return data.node;
}

/** A live purchase offer of the simulation merchant, for when the demo one is missing or nearly sold out, or for LATE_CONFIRMATION=wait. */
async function simulationPurchaseOffer(merchantKey: string, locationId: string, tag: string, confirmWindowMinutes: number): Promise<string> {
  const { offer } = await mutate<{ offer: { id: string }; userErrors: UserError[] }>(
    'creating a purchase offer (merchant key)',
    'createOffer',
    `mutation($input: CreateOfferInput!) { createOffer(input: $input) { offer { id } ${USER_ERRORS} } }`,
    {
      kind: 'PURCHASE',
      title: `$25 gift card for $15 (simulation ${run})`,
      description: 'Simulation purchase offer.',
      currency: CURRENCY,
      price: 1_500,
      quantity: 20,
      hashtag: `#Buy${tag}`,
      confirmWindowMinutes,
      startsAt: new Date(Date.now() - 60_000).toISOString(),
      endsAt: new Date(Date.now() + DAY).toISOString(),
      locationIds: [locationId],
    },
    merchantKey,
  );
  await mutate('publishing the purchase offer', 'publishOffer', `mutation($input: PublishOfferInput!) { publishOffer(input: $input) { offer { status } ${USER_ERRORS} } }`, { offerId: offer.id }, merchantKey);
  return offer.id;
}

async function socialKeyFor(keys: Keys): Promise<{ key: string; note: string }> {
  if (keys.social) {
    try {
      await gql('checking the social key', '{ socialReplies(platform: X, first: 1) { edges { node { id } } } }', {}, keys.social);
      return { key: keys.social, note: 'the demo social platform key' };
    } catch (error) {
      if (!(error instanceof Stop)) throw error;
    }
  }
  const { partner } = await mutate<{ partner: { id: string }; userErrors: UserError[] }>(
    'creating a social partner (admin key)',
    'createPartner',
    `mutation($input: CreatePartnerInput!) { createPartner(input: $input) { partner { id } ${USER_ERRORS} } }`,
    { name: `simulation social platform ${run}`, scopes: ['POSTS_WRITE'] },
    keys.admin,
  );
  const created = await mutate<{ secret: string; userErrors: UserError[] }>(
    'creating a social partner key (admin key)',
    'createApiKey',
    `mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret ${USER_ERRORS} } }`,
    { name: `simulation social platform ${run} key`, role: 'PARTNER', partnerId: partner.id },
    keys.admin,
  );
  return { key: created.secret, note: keys.social ? 'a new social partner key (the saved one was refused)' : 'a new social partner key (none was saved)' };
}

async function simulateHashtagPurchase(keys: Keys, cashback: { merchantKey: string; locationId: string; merchantName: string }): Promise<void> {
  const storyStarted = performance.now();
  console.log('Buy by hashtag\n');
  const social = await socialKeyFor(keys);

  // ---- the buyer: a card, a verified handle, confirmation by post, the app following orders ----
  const handle = `sim_${run}`;
  const buyer = await newHashtagBuyer('buyer', social.key, handle, []);
  step('Buyer', `${buyer.email} signed up and linked ${buyer.card.network} ••${buyer.card.last4} (any number but the declining test cards is approved by the sandbox)`);
  step('Handle', `startHandleVerification gave a code; the platform delivered @${handle}'s post holding it: VERIFIED_HANDLE`, 'hashtag settings: CONFIRM_BY_POST (a post may confirm; the default CONFIRM_IN_APP never lets one charge)');
  const { eventCursor } = await gql<{ eventCursor: string }>('reading the event cursor', '{ eventCursor }', {}, buyer.token);
  const app = followOrders(buyer.token, eventCursor);

  // ---- the offer: the seed's #BuyGiftCard25, else one of the simulation merchant ----
  const purchaseFeed = await gql<{ offers: { edges: { node: PurchaseOfferOut }[] } }>(
    'reading the purchase offers',
    `{ offers(first: 100, filter: { kind: PURCHASE }) { edges { node { ${PURCHASE_OFFER} } } } }`,
    {},
    buyer.token,
  );
  let offer = purchaseFeed.offers.edges
    .map((e) => e.node)
    .find((o) => o.hashtag?.toLowerCase() === DEMO_BUY_HASHTAG.toLowerCase() && o.status === 'LIVE' && (o.quantityRemaining ?? 0) >= 2);
  let offerNote = 'the demo offer';
  if (!offer) {
    offer = await readPurchaseOffer(await simulationPurchaseOffer(cashback.merchantKey, cashback.locationId, `Sim${run}`, 15), buyer.token);
    offerNote = `the simulation merchant's (no live ${DEMO_BUY_HASHTAG} with stock in this database)`;
  }
  const buyTag = offer.hashtag!;
  const confirmTag = offer.confirmHashtag!;
  const stockBefore = offer.quantityRemaining!;
  step('Offer', `"${offer.title}" by ${offer.merchant.name} at ${offer.price!.formatted}: ${buyTag} to buy, ${confirmTag} within ${offer.confirmWindowMinutes} min to confirm, ${stockBefore} left (${offerNote})`);

  // ---- buy, prompt, confirm ----
  const buyPostId = `sim-${run}-buy`;
  const buy = await deliverPost('the buy post', social.key, { postId: buyPostId, handle, text: `Treating myself ${buyTag}` }, 'INTENT_CREATED');
  const held = await readPurchaseOffer(offer.id, buyer.token);
  check(held.quantityRemaining === stockBefore - 1, 'the buy post', `expected ${stockBefore - 1} units left while one is held, got ${held.quantityRemaining}`);
  step('Buy post', `@${handle}: "Treating myself ${buyTag}" → ${buy.outcome} (one unit held: ${held.quantityRemaining} left, ${held.quantityHeld} held)`);

  const prompt = await postReply('posting the confirm prompt', social.key, buyPostId, 'CONFIRM_PROMPT');
  step('Prompt', `socialReplies: ${prompt.kind} "${prompt.text}"`, `the platform posted it as ${prompt.platformPostId} and acknowledged it`);

  const confirmPostId = `sim-${run}-confirm`;
  const confirmStarted = performance.now();
  const confirm = await deliverPost('the confirm post', social.key, { postId: confirmPostId, handle, text: `${confirmTag} yes please`, inReplyToPostId: prompt.platformPostId }, 'ORDER_PLACED');
  const confirmMs = performance.now() - confirmStarted;
  step('Confirm', `@${handle} answered the prompt "${confirmTag} yes please" → ${confirm.outcome} (card charged in the same call, ${confirmMs.toFixed(0)} ms)`);
  const placedReply = await postReply('posting the order reply', social.key, confirmPostId, 'ORDER_PLACED');
  step('Reply', `${placedReply.kind} "${placedReply.text}"`);

  // ---- what the buyer sees ----
  interface BuyerView {
    viewer: {
      orders: { edges: { node: { id: string; status: string; amount: MoneyOut; offer: { title: string } | null; card: { network: string; last4: string } | null; paidAt: string; purchaseIntent: { status: string; confirmedVia: string | null } | null } }[] };
      emails: { kind: string; subject: string; status: string; body: string }[];
    } | null;
  }
  const view = await gql<BuyerView>(
    "reading the buyer's orders and e-mails",
    `{ viewer {
        orders(first: 5) { edges { node { id status amount { ${MONEY} } offer { title } card { network last4 } paidAt purchaseIntent { status confirmedVia } } } }
        emails(first: 20) { kind subject status body }
      } }`,
    {},
    buyer.token,
  );
  if (!view.viewer) throw new Stop("reading the buyer's orders: viewer is null for the buyer's token");
  const order = view.viewer.orders.edges[0]?.node;
  if (!order) throw new Stop("reading the buyer's orders: no order after ORDER_PLACED");
  check(order.status === 'PAID' && order.amount.amount === offer.price!.amount, 'the order', `expected PAID ${offer.price!.formatted}, got ${order.status} ${order.amount.formatted}`);
  check(view.viewer.orders.edges.length === 1, 'the order', `expected one order, the buyer has ${view.viewer.orders.edges.length}`);
  step('Order', `${order.status} ${order.amount.formatted} for "${order.offer?.title}" on ${order.card?.network} ••${order.card?.last4}; intent ${order.purchaseIntent?.status} (confirmed via ${order.purchaseIntent?.confirmedVia})`);
  const emails = [...view.viewer.emails].reverse();
  const receipt = emails.find((e) => /order|receipt/i.test(e.kind));
  if (!receipt) throw new Stop(`the receipt e-mail: none among ${emails.map((e) => e.kind).join(', ') || 'no e-mails'}`);
  check(!/\d{12,19}/.test(receipt.body.replace(/\s/g, '')), 'the receipt e-mail', 'it holds a long run of digits (a card number?)');
  step('E-mail', `${emails.length} for ${buyer.email}: ${emails.map((e) => `${e.kind} ${e.status}`).join(', ')}`, `receipt: "${receipt.subject}"`);

  await app.waitFor(1, 5000);
  await app.close();
  const pushed = app.events.map((e) => `${e.type} ${e.order?.amount.formatted ?? ''}`.trim());
  check(app.events[0]?.type === 'PAID', 'the live push', `expected PAID over graphql-ws, got "${pushed.join(', ') || 'nothing'}" (is LIVE_EVENTS off on the server?)`);
  step('Live push', `orderUpdates over graphql-ws: ${pushed.join(' → ')} for "${app.events[0]!.order?.offer?.title}"`);

  // ---- a confirmation with no purchase open: nothing happens ----
  const again = await deliverPost('the second confirm post', social.key, { postId: `sim-${run}-confirm-again`, handle, text: `${confirmTag} one more?` }, 'REJECTED', 'NO_OPEN_INTENT');
  const orders = await gql<{ viewer: { orders: { edges: unknown[] } } }>("re-reading the buyer's orders", '{ viewer { orders(first: 5) { edges { node { id } } } } }', {}, buyer.token);
  check(orders.viewer.orders.edges.length === 1, 'the second confirm post', `expected still one order, got ${orders.viewer.orders.edges.length}`);
  step('No intent', `another "${confirmTag}" from @${handle}, with nothing awaiting confirmation → ${again.outcome} ${again.reason}: still one order, one charge`);

  // ---- a declined card: no order, the unit goes back ----
  const declineHandle = `simd_${run}`;
  const decliner = await newHashtagBuyer('decliner', social.key, declineHandle, DECLINING_CARDS);
  const beforeDecline = await readPurchaseOffer(offer.id, decliner.token);
  const declineBuyId = `sim-${run}-decline-buy`;
  await deliverPost('the declined buyer\'s buy post', social.key, { postId: declineBuyId, handle: declineHandle, text: buyTag }, 'INTENT_CREATED');
  const declinePrompt = await postReply('posting the second confirm prompt', social.key, declineBuyId, 'CONFIRM_PROMPT');
  const declined = await deliverPost(
    "the declined buyer's confirm post",
    social.key,
    { postId: `sim-${run}-decline-confirm`, handle: declineHandle, text: confirmTag, inReplyToPostId: declinePrompt.platformPostId },
    'REJECTED',
    'PAYMENT_DECLINED',
  );
  const afterDecline = await readPurchaseOffer(offer.id, decliner.token);
  const declineView = await gql<{ viewer: { orders: { edges: unknown[] }; purchaseIntents: { edges: { node: { status: string; reason: string | null; declineCode: string | null } }[] } } }>(
    "reading the declined buyer's intents",
    '{ viewer { orders(first: 5) { edges { node { id } } } purchaseIntents(first: 5) { edges { node { status reason declineCode } } } } }',
    {},
    decliner.token,
  );
  const declinedIntent = declineView.viewer.purchaseIntents.edges[0]?.node;
  check(declineView.viewer.orders.edges.length === 0, 'the declined card', 'an order exists');
  check(afterDecline.quantityRemaining === beforeDecline.quantityRemaining, 'the declined card', `expected the unit back (${beforeDecline.quantityRemaining} left), got ${afterDecline.quantityRemaining}`);
  const declineReply = await postReply('posting the decline reply', social.key, `sim-${run}-decline-confirm`, 'PAYMENT_DECLINED');
  step(
    'Declined',
    `@${declineHandle} with test card ••${decliner.card.last4}: ${buyTag} → INTENT_CREATED, ${confirmTag} → ${declined.outcome} ${declined.reason}`,
    `intent ${declinedIntent?.status} (${declinedIntent?.reason}, ${declinedIntent?.declineCode}); no order; the unit went back (${afterDecline.quantityRemaining} left)`,
    `reply: "${declineReply.text}"`,
  );
  // The declining test card is free for the next run.
  await mutate('unlinking the declining test card', 'unlinkCard', `mutation($input: UnlinkCardInput!) { unlinkCard(input: $input) { card { id } ${USER_ERRORS} } }`, { cardId: decliner.card.id }, decliner.token);

  // ---- optionally, a confirmation after the window ----
  let lateLine = 'not waited for (LATE_CONFIRMATION=wait shows one: about 70 s more)';
  if (LATE_WAIT) {
    const lateOfferId = await simulationPurchaseOffer(cashback.merchantKey, cashback.locationId, `Late${run}`, 1);
    const lateOffer = await readPurchaseOffer(lateOfferId, buyer.token);
    await deliverPost('the late buy post', social.key, { postId: `sim-${run}-late-buy`, handle, text: lateOffer.hashtag! }, 'INTENT_CREATED');
    process.stdout.write(`    ${''.padEnd(10)} waiting 65 s for the one-minute window of ${lateOffer.hashtag} to end `);
    for (let i = 0; i < 13; i++) {
      await new Promise((r) => setTimeout(r, 5000));
      process.stdout.write('.');
    }
    process.stdout.write('\n');
    const late = await deliverPost('the late confirm post', social.key, { postId: `sim-${run}-late-confirm`, handle, text: lateOffer.confirmHashtag! }, 'REJECTED', 'INTENT_EXPIRED');
    // The server's expiry job releases the unit (it runs every JOB_INTERVAL_MS; intents are due a little after their window).
    const deadline = Date.now() + 90_000;
    let status = '';
    while (Date.now() < deadline) {
      const intents = await gql<{ viewer: { purchaseIntents: { edges: { node: { status: string; offer: { id: string } | null } }[] } } }>(
        'reading the late intent',
        '{ viewer { purchaseIntents(first: 5) { edges { node { status offer { id } } } } } }',
        {},
        buyer.token,
      );
      status = intents.viewer.purchaseIntents.edges.find((e) => e.node.offer?.id === lateOfferId)?.node.status ?? 'missing';
      if (status === 'EXPIRED') break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    const lateStock = await readPurchaseOffer(lateOfferId, buyer.token);
    check(status === 'EXPIRED' && lateStock.quantityHeld === 0, 'the late confirmation', `expected the intent EXPIRED and no unit held, got ${status} with ${lateStock.quantityHeld} held`);
    lateLine = `${lateOffer.hashtag} then ${lateOffer.confirmHashtag} 65 s later → ${late.outcome} ${late.reason}; the expiry job released the unit`;
    step('Late', lateLine);
  }

  const seconds = (performance.now() - storyStarted) / 1000;
  console.log(
    [
      '',
      'Summary (buy by hashtag)',
      `  platform   ${social.note}; every reply read from socialReplies and acknowledged with the id it was posted as`,
      `  offer      "${offer.title}" ${offer.price!.formatted}, ${buyTag} / ${confirmTag}, ${offer.confirmWindowMinutes} min window (${offerNote})`,
      `  buyer      ${buyer.email}, @${handle} VERIFIED_HANDLE, CONFIRM_BY_POST, card ${buyer.card.network} ••${buyer.card.last4}`,
      `  purchase   ${buyTag} → INTENT_CREATED → prompt → ${confirmTag} → ORDER_PLACED in ${confirmMs.toFixed(0)} ms: order ${order.status} ${order.amount.formatted}`,
      `  receipt    "${receipt.subject}" (${receipt.status})`,
      `  live push  orderUpdates: ${app.events.map((e) => e.type).join(', ')} over graphql-ws`,
      `  no intent  a second ${confirmTag} → REJECTED NO_OPEN_INTENT, nothing charged`,
      `  declined   test card ••${decliner.card.last4} → REJECTED PAYMENT_DECLINED, no order, unit released (card unlinked again)`,
      `  late       ${lateLine}`,
      `  took       ${seconds.toFixed(1)} s`,
      '',
    ].join('\n'),
  );
}

try {
  const keys = loadKeys();
  const cashback = await simulate(keys);
  await simulateHashtagPurchase(keys, cashback);
} catch (error) {
  if (error instanceof Stop) {
    console.error(`\nStopped: ${error.message}`);
    process.exit(1);
  }
  throw error;
}
