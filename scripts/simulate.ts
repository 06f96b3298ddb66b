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
 * Settings: HASHBACK_URL (http://localhost:4000/graphql); keys from ADMIN_KEY / PARTNER_KEY, else
 * from <DATA_DIR>/demo-keys.json (DATA_DIR defaults to ./.hashback-data), which the first
 * `npm start` on an embedded data folder writes; CREDIT_TIMEOUT_MS (15000) bounds the wait for the
 * server's job to make the statement credit.
 */
import { randomBytes, randomInt } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { formatMoney } from '../src/lib/money.js';
import { randomCardNumber } from '../src/modules/cards/card-number.js';

const URL_ = process.env.HASHBACK_URL || 'http://localhost:4000/graphql';
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
  source: string;
}

function loadKeys(): Keys {
  const keysFile = path.resolve(DATA_DIR, 'demo-keys.json');
  let fromFile: { admin?: unknown; partner?: unknown } = {};
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
  const source = process.env.ADMIN_KEY ? 'ADMIN_KEY' + (process.env.PARTNER_KEY ? ' / PARTNER_KEY' : '') : keysFile;
  return { admin, partner, source };
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
    throw new Stop(`${what}: ${URL_} answered HTTP ${response.status} with something that is not GraphQL: ${text.slice(0, 200)}`);
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
 * The consumer's app: follows its purchase confirmations live over graphql-ws, from `after` (the
 * log's position when it started), so nothing is missed while the subscription registers.
 */
function followConfirmations(token: string, after: string): { events: Confirmation[]; waitFor(count: number, ms: number): Promise<void>; close(): Promise<void> } {
  const client: Client = createClient({
    url: URL_.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    lazy: false,
    connectionParams: { authorization: `Bearer ${token}` },
    onNonLazyError: () => undefined,
  });
  const events: Confirmation[] = [];
  client.subscribe<{ purchaseConfirmations: Confirmation }>(
    { query: 'subscription($after: String) { purchaseConfirmations(after: $after) { type amount { formatted } cursor } }', variables: { after } },
    { next: ({ data }) => void (data && events.push(data.purchaseConfirmations)), error: () => undefined, complete: () => undefined },
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

async function simulate(): Promise<void> {
  const keys = loadKeys();
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
  const demoNote = demo
    ? `(the demo "${demo.title}" is there too, but holds credits ${demo.returnPeriodDays} days for returns)`
    : '(the demo Blue Bottle 15% offer is not in this feed)';
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
}

try {
  await simulate();
} catch (error) {
  if (error instanceof Stop) {
    console.error(`\nStopped: ${error.message}`);
    process.exit(1);
  }
  throw error;
}
