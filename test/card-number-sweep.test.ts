/**
 * Card numbers never leave the card store. Every text input of every mutation, found by walking
 * the schema (so a new mutation or field is covered without touching this file), is sent a card
 * number and must refuse it with CARD_NUMBER_NOT_ALLOWED naming the field. Then the API is used
 * as partners and users use it, with card numbers where they belong (linkCard, ingest, passwords),
 * and every text column of every table (from information_schema), every log line, every response
 * body and header and every subscription frame is scanned: no card number anywhere, except in
 * the encrypted card column.
 *
 * The scan has its own finder, written from the definition and independent of the app's
 * (`cardNumberSpans`), and stricter: it looks at every 13–19 digit window of a run.
 */
import { once } from 'node:events';
import {
  getNamedType,
  getNullableType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isScalarType,
  type GraphQLInputField,
  type GraphQLInputType,
} from 'graphql';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { encodeGlobalId } from '../src/lib/ids.js';
import { luhnValid } from '../src/modules/cards/card-number.js';
import { issueDueStatementCredits } from '../src/modules/cashback/cashback.service.js';
import { schema } from '../src/schema/index.js';
import { ingest, item, newShop } from './cashback-fixtures.js';
import { apiFixtures, dbId, httpGql, randomCardNumber, startHarness, unique, type ApiFixtures, type Harness } from './harness.js';

const DAY = 24 * 60 * 60 * 1000;

/** Uuids and hex digests (32+ hex digits) stand for ids and hashes; their digits are not numbers. */
const IDENTIFIER = /(?<![0-9A-Za-z])(?:[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}|[0-9a-f]{32,}|[0-9A-F]{32,})(?![0-9A-Za-z])/g;

/**
 * Every card number in `text`, by the definition: in a run of digit groups joined by single
 * spaces or dashes (letters around do not matter), any consecutive groups holding 13–19 digits,
 * starting with 2–9, that pass the Luhn check. Described as "16 digits ending 4444", never printed.
 */
function cardNumbersIn(text: string): string[] {
  const found: string[] = [];
  for (const run of text.replace(IDENTIFIER, ' ').matchAll(/\d+(?:[ -]\d+)*/g)) {
    const groups = run[0].split(/[ -]/);
    for (let from = 0; from < groups.length; from++) {
      let digits = '';
      for (let to = from; to < groups.length && digits.length + groups[to]!.length <= 19; to++) {
        digits += groups[to];
        if (digits.length >= 13 && digits[0]! >= '2' && luhnValid(digits)) found.push(`${digits.length} digits ending ${digits.slice(-4)}`);
      }
    }
  }
  return found;
}

/** The card number in the forms people and programs type it, glued to letters too. */
function cardNumberVariants(): string[] {
  const visa = randomCardNumber('4');
  const mastercard = randomCardNumber('51');
  const amex = randomCardNumber('37', 15);
  return [
    visa,
    `req-${mastercard}`,
    `abc${randomCardNumber('4')}xyz`,
    `${visa.slice(0, 4)} ${visa.slice(4, 8)} ${visa.slice(8, 12)} ${visa.slice(12)}`,
    `${amex.slice(0, 4)}-${amex.slice(4, 10)}-${amex.slice(10)}`,
    `my card is ${randomCardNumber('6011')}!`,
  ];
}

type Caller = 'anonymous' | 'admin' | 'merchant' | 'partner' | 'user';

/** Who may call each mutation; a mutation missing here is called by an admin (the guard runs first anyway). */
const CALLERS: Record<string, Caller> = {
  signUp: 'anonymous',
  logIn: 'anonymous',
  createMerchant: 'admin',
  approveMerchant: 'admin',
  suspendMerchant: 'admin',
  createApiKey: 'admin',
  revokeApiKey: 'admin',
  createPartner: 'admin',
  suspendPartner: 'admin',
  activatePartner: 'admin',
  createLocation: 'merchant',
  updateLocation: 'merchant',
  createOffer: 'merchant',
  updateOffer: 'merchant',
  publishOffer: 'merchant',
  pauseOffer: 'merchant',
  resumeOffer: 'merchant',
  attachOfferToPost: 'merchant',
  linkCard: 'user',
  unlinkCard: 'user',
  activateOffer: 'user',
  deactivateOffer: 'user',
  ingestTransactions: 'partner',
  settleStatementCredits: 'partner',
};

/**
 * The input fields where a card number belongs, as `Type.field`: a change here is a decision.
 * A social post's text is what a person typed: it is redacted before storage, never refused.
 */
const EXEMPT = ['LinkCardInput.number', 'LogInInput.password', 'SignUpInput.password', 'SocialPostInput.text', 'TransactionInput.cardNumber'];

const exempt = (field: GraphQLInputField) => field.extensions.cardNumberAllowed === true;

/** A value of `type` that coerces; only required fields are filled. */
function filler(type: GraphQLInputType, depth = 0): unknown {
  const t = getNullableType(type);
  if (isListType(t)) return [filler(t.ofType, depth + 1)];
  // The name, as a client sends it (an enum's internal value may differ, e.g. PartnerScope's).
  if (isEnumType(t)) return t.getValues()[0]!.name;
  if (isInputObjectType(t)) {
    if (depth > 8) return {};
    const value: Record<string, unknown> = {};
    for (const f of Object.values(t.getFields())) if (isNonNullType(f.type)) value[f.name] = filler(f.type, depth + 1);
    return value;
  }
  if (isScalarType(t)) {
    switch (t.name) {
      case 'Int':
      case 'Float':
        return 1;
      case 'Boolean':
        return false;
      case 'DateTime':
        return new Date().toISOString();
      default:
        return 'filler';
    }
  }
  throw new Error(`no filler for ${String(type)}`);
}

interface TextInput {
  /** Path from the mutation input, as user errors give it: ["mids", "0", "mid"]. */
  path: string[];
  /** The input with `value` at `path` and filler elsewhere. */
  input(value: string): Record<string, unknown>;
}

/** Every String or ID in an input type (lists as their first item), skipping exempt fields. */
function textInputs(type: GraphQLInputType, path: string[] = [], depth = 0): { path: string[]; set: (value: string) => unknown }[] {
  const t = getNullableType(type);
  if (isListType(t)) return textInputs(t.ofType, [...path, '0'], depth + 1).map((p) => ({ path: p.path, set: (v) => [p.set(v)] }));
  if (isInputObjectType(t)) {
    if (depth > 8) return [];
    return Object.values(t.getFields())
      .filter((f) => !exempt(f))
      .flatMap((f) =>
        textInputs(f.type, [...path, f.name], depth + 1).map((p) => ({
          path: p.path,
          set: (v: string) => ({ ...(filler(t, depth) as Record<string, unknown>), [f.name]: p.set(v) }),
        })),
      );
  }
  if (isScalarType(t) && (t.name === 'String' || t.name === 'ID')) return [{ path, set: (v) => v }];
  return [];
}

function sweepCases(): { mutation: string; inputType: string; target: TextInput }[] {
  const mutations = Object.values(schema.getMutationType()!.getFields());
  return mutations.flatMap((field) => {
    const arg = field.args.find((a) => a.name === 'input')!;
    return textInputs(arg.type).map((p) => ({
      mutation: field.name,
      inputType: getNamedType(arg.type).name,
      target: { path: p.path, input: (v: string) => p.set(v) as Record<string, unknown> },
    }));
  });
}

let h: Harness;
let api: ApiFixtures;
let wsUrl: string;
/** Every response of this file: status line, headers and body, as received. */
const responses: string[] = [];
/** Every graphql-ws frame the server sent in this file. */
const frames: string[] = [];
const keys = {} as Record<Caller, string | null>;

/** A raw POST to the app, recorded. */
async function post(body: string, headers: Record<string, string> = {}): Promise<Response> {
  const response = await h.app.yoga.fetch('http://hashback.test/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', ...headers },
    body,
  });
  responses.push(`${response.status} ${JSON.stringify([...response.headers])} ${await response.clone().text()}`);
  return response;
}

/** The server's frames of one graphql-ws subscription, until `done` says enough arrived. */
async function subscriptionFrames(query: string, variables: Record<string, unknown>, token: string | null, done: (messages: any[]) => boolean) {
  const ws = new WebSocket(wsUrl, 'graphql-transport-ws');
  const received: string[] = [];
  ws.on('message', (data) => received.push(String(data)));
  await once(ws, 'open');
  try {
    ws.send(JSON.stringify({ type: 'connection_init', payload: token ? { authorization: `Bearer ${token}` } : {} }));
    await vi.waitFor(() => expect(received.map((f) => JSON.parse(f).type)).toContain('connection_ack'));
    ws.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query, variables } }));
    await vi.waitFor(() => expect(done(received.map((f) => JSON.parse(f)))).toBe(true), { timeout: 15_000, interval: 50 });
  } finally {
    ws.close();
    frames.push(...received);
  }
  return received.map((f) => JSON.parse(f));
}

beforeAll(async () => {
  h = await startHarness({ LIVE_EVENTS: 'true', EVENT_POLL_MS: '200' });
  wsUrl = (await h.app.listen(0, '127.0.0.1')).replace('http', 'ws');
  const gql = httpGql('http://hashback.test/graphql', async (url, init) => {
    const response = await h.app.yoga.fetch(url, init);
    responses.push(`${response.status} ${JSON.stringify([...response.headers])} ${await response.clone().text()}`);
    return response;
  });
  api = apiFixtures(gql, h.adminKey);
  const merchant = await api.newMerchant();
  keys.anonymous = null;
  keys.admin = h.adminKey;
  keys.merchant = merchant.key;
  keys.partner = (await api.newPartner(['TRANSACTIONS_WRITE', 'CREDITS_WRITE', 'POSTS_WRITE'])).key;
  keys.user = (await api.newUser()).token;
});
afterAll(() => h?.close());

describe('card numbers in mutation inputs', () => {
  it('exempts exactly the card number fields and the passwords, declared where they are defined', () => {
    const declared: string[] = [];
    for (const type of Object.values(schema.getTypeMap())) {
      if (!isInputObjectType(type)) continue;
      for (const field of Object.values(type.getFields())) if (exempt(field)) declared.push(`${type.name}.${field.name}`);
    }
    expect(declared.sort()).toEqual(EXEMPT);
    const swept = sweepCases().map((c) => `${c.mutation}:${c.target.path.join('.')}`);
    expect(swept).not.toContain('linkCard:number');
    expect(swept).not.toContain('ingestTransactions:transactions.0.cardNumber');
    expect(swept).not.toContain('signUp:password');
  });

  it('refuses a card number in every text input of every mutation with CARD_NUMBER_NOT_ALLOWED naming the field', async () => {
    const cases = sweepCases();
    // The walk reaches nested objects and lists: these must be among the paths it found.
    const found = cases.map((c) => `${c.mutation}:${c.target.path.join('.')}`);
    expect(found).toEqual(
      expect.arrayContaining([
        'createLocation:mids.0.mid',
        'ingestTransactions:transactions.0.externalId',
        'ingestTransactions:idempotencyKey',
        'settleStatementCredits:credits.0.reference',
        'attachOfferToPost:post.text',
        'createOffer:countries.0',
        'signUp:email',
        'createApiKey:name',
      ]),
    );

    // Every case is sent before anything is asserted, so on a server without the guard every
    // value is stored and the scans below have something to find.
    const wrong: unknown[] = [];
    let variant = 0;
    for (const { mutation, inputType, target } of cases) {
      const variants = cardNumberVariants();
      const value = variants[variant++ % variants.length]!;
      expect(cardNumbersIn(value)).toHaveLength(1);
      const res = await api.gql(
        `mutation($input: ${inputType}!) { ${mutation}(input: $input) { __typename userErrors { field message code } } }`,
        { input: target.input(value) },
        keys[CALLERS[mutation] ?? 'admin'],
      );
      const userErrors = (res.data as Record<string, { userErrors: { field: string[]; message: string; code: string }[] }> | null)?.[mutation]
        ?.userErrors;
      const message = userErrors?.[0]?.message ?? '';
      const refused =
        !res.errors &&
        userErrors?.length === 1 &&
        userErrors[0]!.code === 'CARD_NUMBER_NOT_ALLOWED' &&
        JSON.stringify(userErrors[0]!.field) === JSON.stringify(target.path) &&
        message.includes(target.path.join('.')) &&
        !/\d{4}/.test(message);
      if (!refused) wrong.push({ mutation, path: target.path, errors: res.errors, userErrors });
    }
    expect(wrong).toEqual([]);
  });
});

describe('card numbers where they belong', () => {
  it('links cards, takes passwords with digits, and turns a purchase into cashback, an e-mail, events and ledger rows', async () => {
    const cursorBefore = (await api.gql('{ eventCursor }')).data.eventCursor as string;
    // Due for a statement credit: cleared 10 days ago, return period 7 days.
    const shop = await newShop(api, { returnPeriodDays: 7, startsAt: new Date(Date.now() - 20 * DAY).toISOString() });
    const attached = await api.gql(
      'mutation($input: AttachOfferToPostInput!) { attachOfferToPost(input: $input) { offer { id } userErrors { field code } } }',
      { input: { offerId: shop.offerId, post: { externalId: unique('post'), url: 'https://social.example/p/1', authorHandle: 'brand', text: 'Get 10% back #coffee' } } },
      shop.merchant.key,
    );
    expect(attached.data.attachOfferToPost.userErrors).toEqual([]);

    const email = `${unique('shopper')}@example.com`;
    const password = `pass ${randomCardNumber('4')} word`;
    const signUp = await api.gql(
      'mutation($input: SignUpInput!) { signUp(input: $input) { token userErrors { field code } } }',
      { input: { email, password, displayName: 'Shopper', country: 'US' } },
    );
    expect(signUp.data.signUp.userErrors).toEqual([]);
    const logIn = await api.gql('mutation($input: LogInInput!) { logIn(input: $input) { token userErrors { field code } } }', {
      input: { email, password },
    });
    expect(logIn.data.logIn.userErrors).toEqual([]);
    const token = logIn.data.logIn.token as string;

    const number = randomCardNumber('4');
    const spaced = number.replace(/(\d{4})(?=\d)/g, '$1 ');
    const link = await api.gql(
      'mutation($input: LinkCardInput!) { linkCard(input: $input) { card { id first6 last4 } userErrors { field code } } }',
      { input: { number: spaced, expMonth: 12, expYear: new Date().getUTCFullYear() + 3 } },
      token,
    );
    expect(link.data.linkCard).toMatchObject({ card: { first6: number.slice(0, 6), last4: number.slice(-4) }, userErrors: [] });
    const second = await api.linkCard(token, randomCardNumber('5555'));
    const unlink = await api.gql('mutation($input: UnlinkCardInput!) { unlinkCard(input: $input) { card { id } userErrors { code } } }', { input: { cardId: second.id } }, token);
    expect(unlink.data.unlinkCard.userErrors).toEqual([]);

    const activate = await api.gql('mutation($input: ActivateOfferInput!) { activateOffer(input: $input) { userErrors { code } } }', { input: { offerId: shop.offerId } }, token);
    expect(activate.data.activateOffer.userErrors).toEqual([]);

    const auth = item(shop, number, { amount: 12_000, occurredAt: new Date(Date.now() - 10 * DAY - 60_000).toISOString() });
    const clearing = item(shop, number, { type: 'CLEARING', amount: 12_000, authExternalId: auth.externalId, occurredAt: new Date(Date.now() - 10 * DAY).toISOString() });
    const first = await ingest(api, keys.partner!, [auth], crypto.randomUUID());
    expect(first.results![0]).toMatchObject({ outcome: 'QUALIFIED', cashback: { status: 'PENDING' } });
    const cleared = await ingest(api, keys.partner!, [clearing]);
    const cashbackId = cleared.results![0]!.cashback!.id;
    expect(cleared.results![0]).toMatchObject({ outcome: 'QUALIFIED', cashback: { status: 'CONFIRMED', amount: { amount: 1200 } } });

    await issueDueStatementCredits(h.db, new Date());
    const credit = await h.db.selectFrom('statement_credits').select('id').where('cashback_id', '=', dbId(cashbackId)).executeTakeFirstOrThrow();
    const settled = await api.gql(
      'mutation($input: SettleStatementCreditsInput!) { settleStatementCredits(input: $input) { credits { status reference } userErrors { field code } } }',
      { input: { credits: [{ id: encodeGlobalId('StatementCredit', credit.id), status: 'ISSUED', reference: 'ref-2026-0001' }] } },
      keys.partner,
    );
    expect(settled.data.settleStatementCredits).toMatchObject({ credits: [{ status: 'ISSUED' }], userErrors: [] });

    const viewer = await api.gql('{ viewer { cards { first6 last4 } } }', {}, token);
    expect(viewer.data.viewer.cards).toEqual([{ first6: number.slice(0, 6), last4: number.slice(-4) }]);

    // The stores the scan below must find something in, so it is not scanning empty tables.
    const cashbackDbId = dbId(cashbackId);
    expect(await h.db.selectFrom('emails').select('kind').where('subject_type', '=', 'Cashback').where('subject_id', '=', cashbackDbId).execute()).not.toEqual([]);
    expect(await h.db.selectFrom('ledger_entries').select('id').where('subject_id', '=', cashbackDbId).execute()).not.toEqual([]);
    expect(await h.db.selectFrom('events').select('type').where('subject_id', '=', cashbackDbId).execute()).not.toEqual([]);

    // Live frames: the user's confirmations and the merchant's redemptions, replayed from before the purchase.
    const confirmations = await subscriptionFrames(
      'subscription($after: String) { purchaseConfirmations(after: $after) { type status amount { formatted } cashback { id } cursor } }',
      { after: cursorBefore },
      token,
      (messages) => messages.some((m) => m.type === 'next' && m.payload.data?.purchaseConfirmations.status === 'CONFIRMED'),
    );
    expect(confirmations.filter((m) => m.type === 'next').map((m) => m.payload.data.purchaseConfirmations.status)).toEqual(
      expect.arrayContaining(['PENDING', 'CONFIRMED']),
    );
    const redemptions = await subscriptionFrames(
      'subscription($after: String) { merchantRedemptions(after: $after) { __typename cursor } }',
      { after: cursorBefore },
      shop.merchant.key,
      (messages) => messages.filter((m) => m.type === 'next').length >= 2,
    );
    expect(redemptions.filter((m) => m.type === 'next').length).toBeGreaterThanOrEqual(2);
  });

  it('never quotes a malformed JSON body in its parse error', async () => {
    const number = randomCardNumber('4');
    const response = await post(`{"query": "{ offers(first: 1) { edges { node { title } } } } ${number}`);
    const body = await response.text();
    expect(response.status).toBe(400);
    expect(JSON.parse(body).errors[0].extensions.code).toBe('BAD_REQUEST');
    expect(body).not.toContain(number.slice(-8));
    expect(body).not.toContain('offers');
  });

  it('does not echo an x-request-id holding a card number', async () => {
    const requestId = `req-${randomCardNumber('5555')}`;
    const response = await post(JSON.stringify({ query: '{ __typename }' }), { 'x-request-id': requestId });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-request-id')).toBeTruthy();
    expect(response.headers.get('x-request-id')).not.toBe(requestId);
    expect(h.logs.join('')).not.toContain(requestId);
  });
});

describe('the scan', () => {
  it('finds no card number in any text column of any table, except the encrypted card column', async () => {
    // The finder itself sees what it must and nothing else.
    expect(cardNumbersIn('x-request-id: req-5555555555554444')).toEqual(['16 digits ending 4444']);
    expect(cardNumbersIn('abc4242424242424242xyz 4111 1111 1111 1111')).toEqual(['16 digits ending 4242', '16 digits ending 1111']);
    expect(cardNumbersIn('42424242-4242-4242-a234-123456789abc ts 1732363200000 4242424242424241')).toEqual([]);

    const columns = await sql<{ table_name: string; column_name: string }>`
      select table_name, column_name from information_schema.columns
      where table_schema = 'public'
        and (data_type in ('text', 'character varying', 'character', 'json', 'jsonb') or udt_name in ('_text', '_varchar'))
      order by table_name, column_name`.execute(h.db);
    const scanned = columns.rows.filter((c) => !(c.table_name === 'cards' && c.column_name === 'ciphertext'));
    // The tables the sweep and the purchase wrote to are among those scanned.
    expect(scanned.map((c) => `${c.table_name}.${c.column_name}`)).toEqual(
      expect.arrayContaining(['merchants.name', 'locations.address', 'location_mids.mid', 'posts.text', 'emails.body', 'events.data', 'transactions.external_id']),
    );
    const hits: string[] = [];
    let values = 0;
    for (const { table_name, column_name } of scanned) {
      const rows = await sql<{ v: string }>`select ${sql.ref(column_name)}::text as v from ${sql.table(table_name)} where ${sql.ref(column_name)} is not null`.execute(h.db);
      for (const { v } of rows.rows) {
        values++;
        for (const hit of cardNumbersIn(v)) hits.push(`${table_name}.${column_name}: ${hit}`);
      }
    }
    expect(values).toBeGreaterThan(100);
    expect(hits).toEqual([]);
  });

  it('finds no card number in the log, in any response or in any subscription frame', () => {
    expect(h.logs.length).toBeGreaterThan(50);
    expect(responses.length).toBeGreaterThan(50);
    expect(frames.some((f) => f.includes('"next"'))).toBe(true);
    expect(h.logs.flatMap((line, i) => cardNumbersIn(line).map((hit) => `log line ${i}: ${hit}`))).toEqual([]);
    expect(responses.flatMap((r, i) => cardNumbersIn(r).map((hit) => `response ${i}: ${hit}`))).toEqual([]);
    expect(frames.flatMap((f, i) => cardNumbersIn(f).map((hit) => `frame ${i}: ${hit}`))).toEqual([]);
  });
});
