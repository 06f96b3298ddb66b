import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { daysAgo, externalId, INGEST, ingest, item, newShop, newShopper, type Shop } from '../../../test/cashback-fixtures.js';
import { dbId, randomCardNumber, startHarness, type Harness } from '../../../test/harness.js';
import { expectLedgerMatches as expectLedgerMatchesFor } from '../../../test/ledger-checks.js';
import { weekdayIn } from '../cashback/cashback.rules.js';

let h: Harness;
let partner: { id: string; key: string };

beforeAll(async () => {
  h = await startHarness();
  partner = await h.newPartner();
});
afterAll(() => h.close());

async function budgetUsed(shop: Shop): Promise<number> {
  const offer = await h.db.selectFrom('offers').select(['budget', 'budget_remaining']).where('id', '=', shop.offerDbId).executeTakeFirstOrThrow();
  return offer.budget! - offer.budget_remaining!;
}

async function cashbackRow(globalId: string) {
  return h.db.selectFrom('cashbacks').selectAll().where('id', '=', dbId(globalId)).executeTakeFirstOrThrow();
}

/** The ledger of one cashback agrees with its row (see ledger.ts). */
const expectLedgerMatches = (globalId: string) => expectLedgerMatchesFor(h.db, [dbId(globalId)]);

describe('the cashback lifecycle', () => {
  it('turns a qualifying auth into pending cashback and its clearing into confirmed cashback, recomputed on the cleared amount', async () => {
    const shop = await newShop(h);
    const shopper = await newShopper(h);
    const auth = item(shop, shopper.card.number, { amount: 12_345 });
    const first = await ingest(h, partner.key, [auth]);
    expect(first.userErrors).toEqual([]);
    expect(first.results![0]).toMatchObject({ outcome: 'QUALIFIED', reason: null, cashback: { status: 'PENDING', amount: { amount: 1234 } } });
    expect(await budgetUsed(shop)).toBe(1234);

    const clearing = item(shop, shopper.card.number, { type: 'CLEARING', amount: 12_000, authExternalId: auth.externalId });
    const second = await ingest(h, partner.key, [clearing]);
    const cashbackId = first.results![0]!.cashback!.id;
    expect(second.results![0]).toMatchObject({ outcome: 'QUALIFIED', cashback: { id: cashbackId, status: 'CONFIRMED', amount: { amount: 1200 } } });
    expect(await budgetUsed(shop)).toBe(1200);
    await expectLedgerMatches(cashbackId);
    const emails = await h.db.selectFrom('emails').select(['kind', 'subject', 'body']).where('subject_type', '=', 'Cashback').where('subject_id', '=', dbId(cashbackId)).execute();
    expect(emails).toHaveLength(1);
    expect(emails[0]!.kind).toBe('CASHBACK_CONFIRMED');
    expect(emails[0]!.body).toContain(`••${shopper.card.number.slice(-4)}`);
    expect(emails[0]!.body).toContain('$12.00');
    expect(JSON.stringify(emails)).not.toContain(shopper.card.number);
  });

  it('confirms a standalone clearing directly and writes the confirmation e-mail once', async () => {
    const shop = await newShop(h);
    const shopper = await newShopper(h);
    const res = await ingest(h, partner.key, [item(shop, shopper.card.number, { type: 'CLEARING', amount: 5000 })]);
    expect(res.results![0]).toMatchObject({ outcome: 'QUALIFIED', cashback: { status: 'CONFIRMED', amount: { amount: 500 } } });
    const history = await h.gql(`{ node(id: "${res.results![0]!.cashback!.id}") { ... on Cashback { history { type status amount { amount } } } } }`, {}, shopper.token);
    expect(history.data.node.history).toEqual([{ type: 'CONFIRMED', status: 'CONFIRMED', amount: { amount: 500 } }]);
  });

  it('raises the reward on a larger clearing only as far as the budget allows', async () => {
    const shop = await newShop(h, { budget: 1500 });
    const shopper = await newShopper(h);
    const auth = item(shop, shopper.card.number, { amount: 10_000 });
    await ingest(h, partner.key, [auth]);
    const res = await ingest(h, partner.key, [item(shop, shopper.card.number, { type: 'CLEARING', amount: 20_000, authExternalId: auth.externalId })]);
    expect(res.results![0]!.cashback).toMatchObject({ status: 'CONFIRMED', amount: { amount: 1500 } });
    expect((await cashbackRow(res.results![0]!.cashback!.id)).reason).toBe('LIMITED_BY_BUDGET');
    expect(await budgetUsed(shop)).toBe(1500);
  });

  it('reverses pending cashback when the clearing falls below the minimum spend, and gives the budget back', async () => {
    const shop = await newShop(h, { minSpend: 5000 });
    const shopper = await newShopper(h);
    const auth = item(shop, shopper.card.number, { amount: 6000 });
    await ingest(h, partner.key, [auth]);
    const res = await ingest(h, partner.key, [item(shop, shopper.card.number, { type: 'CLEARING', amount: 4000, authExternalId: auth.externalId })]);
    expect(res.results![0]).toMatchObject({ outcome: 'NOT_QUALIFIED', reason: 'BELOW_MIN_SPEND', cashback: { status: 'REVERSED', amount: { amount: 0 } } });
    expect(await budgetUsed(shop)).toBe(0);
    await expectLedgerMatches(res.results![0]!.cashback!.id);
  });

  it('keeps a clearing of an auth that earned nothing at the same reason', async () => {
    const shop = await newShop(h, { activationRequired: true });
    const shopper = await newShopper(h);
    const auth = item(shop, shopper.card.number);
    expect((await ingest(h, partner.key, [auth])).results![0]!.reason).toBe('NOT_ACTIVATED');
    const res = await ingest(h, partner.key, [item(shop, shopper.card.number, { type: 'CLEARING', authExternalId: auth.externalId })]);
    expect(res.results![0]).toMatchObject({ outcome: 'NOT_QUALIFIED', reason: 'NOT_ACTIVATED', cashback: null });
  });

  it('handles an auth and its clearing in the same batch, in order', async () => {
    const shop = await newShop(h);
    const shopper = await newShopper(h);
    const auth = item(shop, shopper.card.number, { amount: 3000 });
    const clearing = item(shop, shopper.card.number, { type: 'CLEARING', amount: 2500, authExternalId: auth.externalId });
    const res = await ingest(h, partner.key, [auth, clearing]);
    expect(res.results!.map((r) => r.outcome)).toEqual(['QUALIFIED', 'QUALIFIED']);
    expect(res.results![1]!.cashback).toMatchObject({ id: res.results![0]!.cashback!.id, status: 'CONFIRMED', amount: { amount: 250 } });
    expect(await budgetUsed(shop)).toBe(250);
  });
});

describe('refunds', () => {
  it('shrinks cashback in proportion to the refunded amount, rounding down', async () => {
    const shop = await newShop(h, { rewardBasisPoints: 1500 });
    const shopper = await newShopper(h);
    const purchase = item(shop, shopper.card.number, { type: 'CLEARING', amount: 9999 });
    const bought = await ingest(h, partner.key, [purchase]);
    expect(bought.results![0]!.cashback!.amount.amount).toBe(1499);
    const refund = await ingest(h, partner.key, [item(shop, shopper.card.number, { type: 'REFUND', amount: 3333, originalExternalId: purchase.externalId })]);
    // 1499 × 6666 / 9999 = 999.33… → 999
    expect(refund.results![0]).toMatchObject({ outcome: 'QUALIFIED', cashback: { status: 'CONFIRMED', amount: { amount: 999 } } });
    const row = await cashbackRow(refund.results![0]!.cashback!.id);
    expect(row).toMatchObject({ refunded_amount: 3333, reason: 'PARTIALLY_REFUNDED' });
    expect(await budgetUsed(shop)).toBe(999);
    await expectLedgerMatches(refund.results![0]!.cashback!.id);
  });

  it('reverses cashback whose remaining purchase is below the minimum spend, and in full on a full refund', async () => {
    const shop = await newShop(h, { minSpend: 5000 });
    const shopper = await newShopper(h);
    const a = item(shop, shopper.card.number, { type: 'CLEARING', amount: 8000 });
    const b = item(shop, shopper.card.number, { type: 'CLEARING', amount: 8000 });
    await ingest(h, partner.key, [a, b]);
    const res = await ingest(h, partner.key, [
      item(shop, shopper.card.number, { type: 'REFUND', amount: 4000, originalExternalId: a.externalId }),
      item(shop, shopper.card.number, { type: 'REFUND', amount: 8000, originalExternalId: b.externalId }),
    ]);
    expect(res.results!.map((r) => r.cashback?.status)).toEqual(['REVERSED', 'REVERSED']);
    expect((await cashbackRow(res.results![0]!.cashback!.id)).reason).toBe('BELOW_MIN_SPEND');
    expect((await cashbackRow(res.results![1]!.cashback!.id)).reason).toBe('REFUNDED');
    expect(await budgetUsed(shop)).toBe(0);
  });

  it('answers a refund of an unknown purchase, of one without cashback, and in another currency with their reasons', async () => {
    const shop = await newShop(h);
    const shopper = await newShopper(h);
    const stranger = randomCardNumber('4');
    const noCashback = item(shop, stranger, { type: 'CLEARING' });
    const purchase = item(shop, shopper.card.number, { type: 'CLEARING' });
    await ingest(h, partner.key, [noCashback, purchase]);
    const res = await ingest(h, partner.key, [
      item(shop, shopper.card.number, { type: 'REFUND', originalExternalId: 'never-sent' }),
      item(shop, stranger, { type: 'REFUND', originalExternalId: noCashback.externalId }),
      item(shop, shopper.card.number, { type: 'REFUND', currency: 'EUR', originalExternalId: purchase.externalId }),
    ]);
    expect(res.results!.map((r) => [r.outcome, r.reason])).toEqual([
      ['NOT_QUALIFIED', 'ORIGINAL_NOT_FOUND'],
      ['NOT_QUALIFIED', 'NO_CASHBACK'],
      ['NOT_QUALIFIED', 'CURRENCY_MISMATCH'],
    ]);
    expect(await budgetUsed(shop)).toBe(1000);
  });
});

describe('matching', () => {
  async function reasonFor(shop: Shop, shopper: { card: { number: string } }, overrides: Record<string, unknown> = {}) {
    const res = await ingest(h, partner.key, [item(shop, shopper.card.number, overrides)]);
    return [res.results![0]!.outcome, res.results![0]!.reason];
  }

  it('stores every non-qualifying transaction with its reason code', async () => {
    const shop = await newShop(h, { minSpend: 5000 });
    const shopper = await newShopper(h);
    expect(await reasonFor(shop, { card: { number: randomCardNumber('4') } })).toEqual(['NOT_QUALIFIED', 'CARD_NOT_LINKED']);
    expect(await reasonFor(shop, shopper, { mid: 'NO-SUCH-MID' })).toEqual(['NOT_QUALIFIED', 'UNKNOWN_LOCATION']);
    expect(await reasonFor(shop, shopper, { occurredAt: daysAgo(3) })).toEqual(['NOT_QUALIFIED', 'NO_LIVE_OFFER']);
    expect(await reasonFor(shop, shopper, { amount: 4999 })).toEqual(['NOT_QUALIFIED', 'BELOW_MIN_SPEND']);
    expect(await reasonFor(shop, shopper, { currency: 'EUR' })).toEqual(['NOT_QUALIFIED', 'CURRENCY_MISMATCH']);

    const online = await newShop(h, { channels: ['ONLINE'] });
    expect(await reasonFor(online, shopper)).toEqual(['NOT_QUALIFIED', 'CHANNEL_NOT_ELIGIBLE']);
    const canadian = await newShop(h, { countries: ['CA'] });
    expect(await reasonFor(canadian, shopper)).toEqual(['NOT_QUALIFIED', 'COUNTRY_NOT_ELIGIBLE']);

    const occurredAt = new Date(Date.now() - 60_000);
    const today = weekdayIn(occurredAt, 'America/New_York');
    const days = ['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY', 'SUNDAY'];
    const otherDay = days[today % 7]!;
    const weekly = await newShop(h, { daysOfWeek: [otherDay] });
    expect(await reasonFor(weekly, shopper, { occurredAt: occurredAt.toISOString() })).toEqual(['NOT_QUALIFIED', 'OUTSIDE_SCHEDULE']);
    const todayOnly = await newShop(h, { daysOfWeek: [days[today - 1]!] });
    expect(await reasonFor(todayOnly, shopper, { occurredAt: occurredAt.toISOString() })).toEqual(['QUALIFIED', null]);

    const gated = await newShop(h, { activationRequired: true });
    expect(await reasonFor(gated, shopper)).toEqual(['NOT_QUALIFIED', 'NOT_ACTIVATED']);
    // Activated now: a purchase a minute ago still came before the activation.
    await h.mutate('activateOffer', 'mutation($input: ActivateOfferInput!) { activateOffer(input: $input) { offer { id } userErrors { field message code } } }', { offerId: gated.offerId }, shopper.token);
    expect(await reasonFor(gated, shopper)).toEqual(['NOT_QUALIFIED', 'NOT_ACTIVATED']);
    expect(await reasonFor(gated, shopper, { occurredAt: new Date().toISOString() })).toEqual(['QUALIFIED', null]);

    const once = await newShop(h, { perUserLimit: 1 });
    expect(await reasonFor(once, shopper)).toEqual(['QUALIFIED', null]);
    expect(await reasonFor(once, shopper)).toEqual(['NOT_QUALIFIED', 'USER_LIMIT_REACHED']);

    const rows = await h.db.selectFrom('transactions').select(['outcome', 'reason']).where('user_id', '=', dbId(shopper.id)).execute();
    expect(rows.filter((r) => r.outcome === 'NOT_QUALIFIED').every((r) => r.reason !== null)).toBe(true);
  });

  it('cuts a reward that does not fit the budget, then answers BUDGET_EXHAUSTED and shows the offer EXHAUSTED', async () => {
    const shop = await newShop(h, { rewardType: 'FIXED', rewardBasisPoints: null, rewardAmount: 700, budget: 1000 });
    const shopper = await newShopper(h);
    const res = await ingest(h, partner.key, [1, 2, 3].map(() => item(shop, shopper.card.number)));
    expect(res.results!.map((r) => [r.outcome, r.reason, r.cashback?.amount.amount ?? null])).toEqual([
      ['QUALIFIED', null, 700],
      ['QUALIFIED', null, 300],
      ['NOT_QUALIFIED', 'BUDGET_EXHAUSTED', null],
    ]);
    expect((await cashbackRow(res.results![1]!.cashback!.id)).reason).toBe('LIMITED_BY_BUDGET');
    const offer = await h.gql(`{ offer(id: "${shop.offerId}") { status budgetRemaining { amount } } }`, {}, shop.merchant.key);
    expect(offer.data.offer).toEqual({ status: 'EXHAUSTED', budgetRemaining: { amount: 0 } });
  });

  it('gives the highest reward when several offers qualify, the newest on a tie', async () => {
    const merchant = await h.newMerchant();
    const mid = `MID${Date.now()}${Math.floor(Math.random() * 1e6)}`;
    const locationId = await h.newLocation(merchant.key, { mids: [{ network: 'VISA', mid }] });
    const small = await h.newOffer(merchant.key, { rewardBasisPoints: 500, locationIds: [locationId] });
    const big = await h.newOffer(merchant.key, { rewardBasisPoints: 800, locationIds: [locationId] });
    const shopper = await newShopper(h);
    const first = await ingest(h, partner.key, [item({ mid }, shopper.card.number)]);
    expect((await cashbackRow(first.results![0]!.cashback!.id)).offer_id).toBe(dbId(big));
    const tie = await h.newOffer(merchant.key, { rewardBasisPoints: 800, locationIds: [locationId] });
    const second = await ingest(h, partner.key, [item({ mid }, shopper.card.number)]);
    expect((await cashbackRow(second.results![0]!.cashback!.id)).offer_id).toBe(dbId(tie));
    expect(small).not.toBe(tie);
  });

  it('matches a card given by id as well as by number', async () => {
    const shop = await newShop(h);
    const shopper = await newShopper(h);
    const res = await ingest(h, partner.key, [{ ...item(shop, ''), cardNumber: undefined, cardId: shopper.card.id }]);
    expect(res.results![0]).toMatchObject({ outcome: 'QUALIFIED' });
  });
});

describe('duplicates and malformed items', () => {
  it('answers an item sent again with its first outcome as DUPLICATE and changes nothing', async () => {
    const shop = await newShop(h);
    const shopper = await newShopper(h);
    const auth = item(shop, shopper.card.number);
    const miss = item(shop, randomCardNumber('4'));
    const first = await ingest(h, partner.key, [auth, miss]);
    const again = await ingest(h, partner.key, [auth, miss, auth]);
    expect(again.results!.map((r) => [r.outcome, r.reason])).toEqual([
      ['DUPLICATE', null],
      ['DUPLICATE', 'CARD_NOT_LINKED'],
      ['DUPLICATE', null],
    ]);
    expect(again.results![0]!.transaction!.id).toBe(first.results![0]!.transaction!.id);
    expect(again.results![0]!.cashback!.id).toBe(first.results![0]!.cashback!.id);
    expect(await budgetUsed(shop)).toBe(1000);
    const stored = await h.db.selectFrom('transactions').select('id').where('external_id', 'in', [auth.externalId, miss.externalId]).execute();
    expect(stored).toHaveLength(2);
  });

  it('treats a repeated externalId within one batch as a duplicate of the first', async () => {
    const shop = await newShop(h);
    const shopper = await newShopper(h);
    const auth = item(shop, shopper.card.number);
    const res = await ingest(h, partner.key, [auth, { ...auth, amount: 99_999 }]);
    expect(res.results!.map((r) => r.outcome)).toEqual(['QUALIFIED', 'DUPLICATE']);
    expect(await budgetUsed(shop)).toBe(1000);
  });

  it('answers a rejected item without echoing its input at length', async () => {
    const shop = await newShop(h);
    const shopper = await newShopper(h);
    const res = await ingest(h, partner.key, [{ ...item(shop, shopper.card.number), externalId: 'x'.repeat(100_000) }]);
    expect(res.results![0]).toMatchObject({ outcome: 'REJECTED', errors: [expect.objectContaining({ code: 'INVALID_LENGTH' })] });
    expect(res.results![0]!.externalId.length).toBeLessThanOrEqual(128);
  });

  it('rejects malformed items with typed errors and still processes the others', async () => {
    const shop = await newShop(h);
    const shopper = await newShopper(h);
    const good = item(shop, shopper.card.number);
    const broken = [
      item(shop, '4111 1111 1111 1112'),
      item(shop, '6761000000000006'),
      { ...item(shop, shopper.card.number), amount: 0 },
      { ...item(shop, shopper.card.number), currency: 'XXY' },
      { ...item(shop, shopper.card.number), externalId: '' },
      { ...item(shop, shopper.card.number), cardId: shopper.card.id },
      { ...item(shop, shopper.card.number), type: 'REFUND' },
      { ...item(shop, shopper.card.number), authExternalId: 'x' },
      { ...item(shop, shopper.card.number), occurredAt: new Date(Date.now() + 3 * 86_400_000).toISOString() },
      { ...item(shop, ''), cardNumber: undefined, cardId: 'not-an-id' },
    ];
    const res = await ingest(h, partner.key, [...broken, good]);
    expect(res.results!.slice(0, broken.length).map((r) => [r.outcome, r.errors.map((e) => e.code)])).toEqual([
      ['REJECTED', ['INVALID_CARD_NUMBER']],
      ['REJECTED', ['UNSUPPORTED_CARD_NETWORK']],
      ['REJECTED', ['OUT_OF_RANGE']],
      ['REJECTED', ['INVALID_CURRENCY']],
      ['REJECTED', ['INVALID_LENGTH']],
      ['REJECTED', ['INVALID_INPUT']],
      ['REJECTED', ['INVALID_INPUT']],
      ['REJECTED', ['INVALID_INPUT']],
      ['REJECTED', ['OUT_OF_RANGE']],
      ['REJECTED', ['INVALID_ID']],
    ]);
    expect(res.results![2]!.errors[0]!.field).toEqual(['transactions', '2', 'amount']);
    expect(res.results![broken.length]!.outcome).toBe('QUALIFIED');
    const stored = await h.db.selectFrom('transactions').select('external_id').where('mid', '=', shop.mid).execute();
    expect(stored.map((r) => r.external_id)).toEqual([good.externalId]);
  });

  it('refuses an empty or oversized batch as a whole', async () => {
    const shop = await newShop(h);
    const empty = await ingest(h, partner.key, []);
    expect(empty.userErrors).toMatchObject([{ code: 'OUT_OF_RANGE', field: ['transactions'] }]);
    const big = await ingest(h, partner.key, Array.from({ length: 501 }, () => item(shop, randomCardNumber('4'))));
    expect(big).toMatchObject({ results: null, userErrors: [{ code: 'OUT_OF_RANGE' }] });
  });
});

describe('idempotency keys', () => {
  it('returns the first answer to a replay with the same key and refuses the key with another input', async () => {
    const shop = await newShop(h);
    const shopper = await newShopper(h);
    const key = externalId('idem');
    const items = [item(shop, shopper.card.number)];
    const first = await ingest(h, partner.key, items, key);
    const replay = await ingest(h, partner.key, items, key);
    expect(replay).toEqual(first);
    expect(replay.results![0]!.outcome).toBe('QUALIFIED');
    const other = await ingest(h, partner.key, [item(shop, shopper.card.number)], key);
    expect(other).toMatchObject({ results: null, userErrors: [{ code: 'IDEMPOTENCY_KEY_REUSED', field: ['idempotencyKey'] }] });
    expect(await budgetUsed(shop)).toBe(1000);
    // Keys belong to their caller: another partner may use the same key for its own call.
    const otherPartner = await h.newPartner(['TRANSACTIONS_WRITE']);
    expect((await ingest(h, otherPartner.key, [item(shop, shopper.card.number)], key)).results![0]!.outcome).toBe('QUALIFIED');
  });
});

describe('who may do what', () => {
  it('lets only partners with transactions:write ingest', async () => {
    const shop = await newShop(h);
    const items = [item(shop, randomCardNumber('4'))];
    const creditsOnly = await h.newPartner(['CREDITS_WRITE']);
    const shopper = await newShopper(h);
    for (const [key, code] of [
      [null, 'UNAUTHENTICATED'],
      [shop.merchant.key, 'FORBIDDEN'],
      [h.adminKey, 'FORBIDDEN'],
      [shopper.token, 'FORBIDDEN'],
      [creditsOnly.key, 'FORBIDDEN'],
    ] as const) {
      expect((await ingest(h, key as string, items)).userErrors.map((e) => e.code)).toEqual([code]);
    }
    expect(await h.db.selectFrom('transactions').select('id').where('mid', '=', shop.mid).execute()).toEqual([]);
  });

  it("lets a partner read its own transactions only, and the user its own cashback only", async () => {
    const shop = await newShop(h);
    const shopper = await newShopper(h);
    const res = await ingest(h, partner.key, [item(shop, shopper.card.number)]);
    const { transaction, cashback } = res.results![0]!;
    const read = (id: string, key: string) => h.gql(`{ node(id: "${id}") { id } }`, {}, key);
    expect((await read(transaction!.id, partner.key)).data.node).toEqual({ id: transaction!.id });
    const other = await h.newPartner();
    expect((await read(transaction!.id, other.key)).data.node).toBeNull();
    expect((await read(cashback!.id, other.key)).data.node).toBeNull();
    expect((await read(transaction!.id, shop.merchant.key)).data.node).toBeNull();
    expect((await read(cashback!.id, shop.merchant.key)).data.node).toBeNull();
    expect((await read(cashback!.id, shopper.token)).data.node).toEqual({ id: cashback!.id });
    const stranger = await h.newUser();
    expect((await read(cashback!.id, stranger.token)).data.node).toBeNull();
    expect((await read(transaction!.id, stranger.token)).data.node).toBeNull();
  });

  it("gives the offer's merchant its redemption figures and no one else", async () => {
    const shop = await newShop(h);
    const a = await newShopper(h);
    const b = await newShopper(h);
    await ingest(h, partner.key, [item(shop, a.card.number, { amount: 5000 }), item(shop, b.card.number, { amount: 7000 })]);
    const query = `{ offer(id: "${shop.offerId}") { redemptionCount rewardsTotal { amount currency } } }`;
    expect((await h.gql(query, {}, shop.merchant.key)).data.offer).toEqual({ redemptionCount: 2, rewardsTotal: { amount: 1200, currency: 'USD' } });
    expect((await h.gql(query, {}, h.adminKey)).data.offer.redemptionCount).toBe(2);
    expect((await h.gql(query, {}, null)).data.offer).toEqual({ redemptionCount: null, rewardsTotal: null });
    expect((await h.gql(query, {}, a.token)).data.offer.redemptionCount).toBeNull();
  });
});

describe('the user\'s view', () => {
  it('shows cashback as a timeline with history, card last 4, totals per currency, and the stored e-mails', async () => {
    const shop = await newShop(h, { returnPeriodDays: 14 });
    const shopper = await newShopper(h);
    const auth = item(shop, shopper.card.number, { amount: 4000 });
    await ingest(h, partner.key, [auth, item(shop, shopper.card.number, { amount: 2000 })]);
    await ingest(h, partner.key, [item(shop, shopper.card.number, { type: 'CLEARING', amount: 4000, authExternalId: auth.externalId })]);
    await ingest(h, partner.key, [item(shop, shopper.card.number, { type: 'REFUND', amount: 1000, originalExternalId: auth.externalId })]);
    const res = await h.gql(
      `{ viewer {
          cashback(first: 10) { edges { node { status amount { amount } cardLast4 reason merchant { id } offer { id } expectedCreditAt history { type status amount { amount } reason } } } }
          pending: cashback(first: 10, status: PENDING) { edges { node { amount { amount } } } }
          cashbackTotals { currency pending { amount } confirmed { amount } credited { amount } }
          emails { kind subject status }
      } }`,
      {},
      shopper.token,
    );
    const viewer = res.data.viewer;
    const nodes = viewer.cashback.edges.map((e: { node: unknown }) => e.node);
    expect(nodes).toHaveLength(2);
    const confirmed = nodes.find((n: { status: string }) => n.status === 'CONFIRMED');
    expect(confirmed).toMatchObject({
      amount: { amount: 300 },
      cardLast4: shopper.card.number.slice(-4),
      reason: 'PARTIALLY_REFUNDED',
      merchant: { id: shop.merchant.id },
      offer: { id: shop.offerId },
      history: [
        { type: 'PENDING', status: 'PENDING', amount: { amount: 400 }, reason: null },
        { type: 'CONFIRMED', status: 'CONFIRMED', amount: { amount: 400 }, reason: null },
        { type: 'REVERSED', status: 'CONFIRMED', amount: { amount: 300 }, reason: 'PARTIALLY_REFUNDED' },
      ],
    });
    expect(Date.parse(confirmed.expectedCreditAt)).toBeGreaterThan(Date.now() + 13 * 86_400_000);
    expect(viewer.pending.edges).toEqual([{ node: { amount: { amount: 200 } } }]);
    expect(viewer.cashbackTotals).toEqual([{ currency: 'USD', pending: { amount: 200 }, confirmed: { amount: 300 }, credited: { amount: 0 } }]);
    expect(viewer.emails).toEqual([{ kind: 'CASHBACK_CONFIRMED', subject: expect.stringContaining('$4.00 cashback'), status: 'QUEUED' }]);
  });
});

describe('card data', () => {
  it('never stores or logs the card number it matched', async () => {
    const shop = await newShop(h);
    const shopper = await newShopper(h);
    const number = shopper.card.number;
    await ingest(h, partner.key, [item(shop, number), item(shop, `${number.slice(0, 4)} ${number.slice(4, 8)} ${number.slice(8, 12)} ${number.slice(12)}`)]);
    expect(h.logs.join('\n')).not.toContain(number);
    const rows = await h.db.selectFrom('transactions').selectAll().where('mid', '=', shop.mid).execute();
    expect(rows).toHaveLength(2);
    expect(JSON.stringify(rows)).not.toContain(number);
    const keys = await h.db.selectFrom('idempotency_keys').selectAll().execute();
    expect(JSON.stringify(keys)).not.toContain(number);
  });
});

describe('database round trips', () => {
  it('reads and writes a batch in a bounded number of statements, whatever its size', async () => {
    const shop = await newShop(h, { budget: 1_000_000 });
    const shoppers = [await newShopper(h), await newShopper(h)];
    const statementsFor = async (count: number) => {
      const items = Array.from({ length: count }, (_, i) => item(shop, shoppers[i % 2]!.card.number, { type: i % 2 ? 'CLEARING' : 'AUTH' }));
      const before = h.database.statementCount();
      const res = await ingest(h, partner.key, items);
      expect(res.results!.every((r) => r.outcome === 'QUALIFIED')).toBe(true);
      return h.database.statementCount() - before;
    };
    const one = await statementsFor(1);
    const many = await statementsFor(200);
    expect(many).toBeLessThanOrEqual(one + 4);
    expect(many).toBeLessThanOrEqual(30);
  });
});

describe('small requests of one partner sent at once', () => {
  const written = (externalIds: string[]) =>
    sql<{ xmin: string }>`select xmin::text as xmin from transactions where external_id = any(${externalIds})`.execute(h.db).then((r) => r.rows);

  it('are written together, each answered with its own items in its order', async () => {
    const shop = await newShop(h, { budget: 1_000_000 });
    const shoppers = [await newShopper(h), await newShopper(h)];
    const requests = Array.from({ length: 12 }, (_, i) => {
      const count = 1 + (i % 3);
      return Array.from({ length: count }, (_, j) => item(shop, shoppers[(i + j) % 2]!.card.number, { amount: 1000 * (i + 1) + j }));
    });
    const answers = await Promise.all(requests.map((items) => ingest(h, partner.key, items)));
    answers.forEach((answer, i) => {
      expect(answer.results!.map((r) => [r.externalId, r.outcome, r.cashback?.amount.amount])).toEqual(
        requests[i]!.map((it) => [it.externalId, 'QUALIFIED', Math.floor(it.amount / 10)]),
      );
    });
    const all = requests.flat();
    expect(await budgetUsed(shop)).toBe(all.reduce((sum, it) => sum + Math.floor(it.amount / 10), 0));
    const rows = await written(all.map((it) => it.externalId));
    expect(rows).toHaveLength(all.length);
    // Rows written by one statement share its transaction: fewer transactions than requests.
    expect(new Set(rows.map((r) => r.xmin)).size).toBeLessThan(requests.length);
    await expectLedgerMatchesFor(h.db, answers.flatMap((a) => a.results!.map((r) => dbId(r.cashback!.id))));
  });

  it('never fail for another request: a batch that fails is taken apart and each request ingested on its own', async () => {
    const shop = await newShop(h, { budget: 1_000_000 });
    const shopper = await newShopper(h);
    const requests = Array.from({ length: 8 }, () => [item(shop, shopper.card.number, { amount: 2000 })]);
    const poisoned = requests[requests.length - 1]![0]!.externalId;
    // A fault of this one item only (a stand-in for whatever may break one request's write).
    await sql`create function fail_poisoned_transaction() returns trigger language plpgsql as $$
      begin if new.external_id = ${sql.lit(poisoned)} then raise exception 'poisoned item'; end if; return new; end $$`.execute(h.db);
    await sql`create trigger fail_poisoned_transaction before insert on transactions for each row execute function fail_poisoned_transaction()`.execute(h.db);
    try {
      const answers = await Promise.all(requests.map((items) => h.gql(INGEST, { input: { transactions: items } }, partner.key)));
      const last = answers.pop()!;
      expect(last.errors?.[0]?.message).toBe('Unexpected error.');
      for (const answer of answers) expect(answer.data.ingestTransactions.results[0].outcome).toBe('QUALIFIED');
      const rows = await written(requests.flat().map((it) => it.externalId));
      expect(rows).toHaveLength(requests.length - 1);
      expect(await budgetUsed(shop)).toBe(200 * (requests.length - 1));
    } finally {
      await sql`drop trigger fail_poisoned_transaction on transactions`.execute(h.db);
      await sql`drop function fail_poisoned_transaction()`.execute(h.db);
    }
  });
});
