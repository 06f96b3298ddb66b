/**
 * Ingest under concurrency (DESIGN §1 offer rules, §3 idempotency): many requests that overlap
 * for real, over a pool of 20 connections, must never reward a purchase twice, overspend a
 * budget, exceed a per-user limit or run an idempotent request twice. Only real Postgres can
 * show this (PGlite has one connection and serializes everything), so the concurrent cases run
 * there only; the plain idempotency replay runs on both databases.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingest, item, newShop, newShopper, type Shop } from '../../../test/cashback-fixtures.js';
import { databaseKind, dbId, startHarness, unique, type Harness } from '../../../test/harness.js';
import { fingerprintCardNumber } from '../cards/card-crypto.js';
import { expectLedgerMatches as expectBalancesMatch } from '../../../test/ledger-checks.js';
import { ingestBatch } from './ingest.js';

let h: Harness;
let partner: { id: string; key: string };
let partnerId: string;

beforeAll(async () => {
  h = await startHarness({}, { poolSize: 20 });
  partner = await h.newPartner();
  partnerId = dbId(partner.id);
});
afterAll(() => h.close());

type IngestAnswer = Awaited<ReturnType<typeof ingest>>;
type ItemResult = NonNullable<IngestAnswer['results']>[number];

/** Sends each batch in its own request, all at once; every request must answer without errors. */
async function ingestConcurrently(batches: Record<string, unknown>[][], idempotencyKey?: string): Promise<IngestAnswer[]> {
  const answers = await Promise.all(batches.map((batch) => ingest(h, partner.key, batch, idempotencyKey)));
  for (const answer of answers) expect(answer.userErrors).toEqual([]);
  return answers;
}

/** The single result of each one-item answer. */
const only = (answers: IngestAnswer[]): ItemResult[] => answers.map((a) => a.results![0]!);

const tally = (results: ItemResult[]) => {
  const counts: Record<string, number> = {};
  for (const r of results) {
    const key = r.reason ? `${r.outcome}:${r.reason}` : r.outcome;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
};

async function offerBudget(shop: Shop) {
  const row = await h.db.selectFrom('offers').select(['budget', 'budget_remaining']).where('id', '=', shop.offerDbId).executeTakeFirstOrThrow();
  return { budget: row.budget!, remaining: row.budget_remaining! };
}

async function cashbacksOfOffer(shop: Shop) {
  return h.db.selectFrom('cashbacks').selectAll().where('offer_id', '=', shop.offerDbId).orderBy('created_at').execute();
}

async function transactionsOf(externalIds: string[]) {
  return h.db.selectFrom('transactions').selectAll().where('partner_id', '=', partnerId).where('external_id', 'in', externalIds).execute();
}

/**
 * The ledger agrees with the cashback rows (ledger.ts header) and every posting balances, for the
 * given cashbacks only (the database is shared with other test files).
 */
async function expectLedgerMatches(cashbackIds: string[]) {
  await expectBalancesMatch(h.db, cashbackIds);
  const unbalanced = await h.db
    .selectFrom('ledger_entries')
    .select('posting_id')
    .where('subject_id', 'in', cashbackIds)
    .groupBy('posting_id')
    .having((eb) => eb.or([eb(eb.fn.sum<number>('amount'), '!=', 0), eb(eb.fn.count<number>('currency').distinct(), '!=', 1)]))
    .execute();
  expect(unbalanced).toEqual([]);
}

describe.runIf(databaseKind() === 'postgres')('ingest under concurrency, on real Postgres', () => {
  it('rewards one transaction delivered 50 times at once exactly once, on real Postgres', async () => {
    const shop = await newShop(h, { budget: 100_000 });
    const shopper = await newShopper(h);
    const purchase = item(shop, shopper.card.number, { amount: 12_345 });

    const results = only(await ingestConcurrently(Array.from({ length: 50 }, () => [purchase])));

    expect(tally(results)).toEqual({ QUALIFIED: 1, DUPLICATE: 49 });
    const first = results.find((r) => r.outcome === 'QUALIFIED')!;
    expect(first.cashback).toMatchObject({ status: 'PENDING', amount: { amount: 1234, currency: 'USD' } });
    for (const r of results) {
      expect(r.transaction?.id).toBe(first.transaction!.id);
      expect(r.cashback?.id).toBe(first.cashback!.id);
    }

    const transactions = await transactionsOf([purchase.externalId]);
    expect(transactions).toHaveLength(1);
    const cashbacks = await cashbacksOfOffer(shop);
    expect(cashbacks.map((c) => ({ id: c.id, amount: c.amount, tx: c.purchase_transaction_id }))).toEqual([
      { id: dbId(first.cashback!.id), amount: 1234, tx: transactions[0]!.id },
    ]);
    const entries = await h.db.selectFrom('ledger_entries').selectAll().where('subject_id', '=', cashbacks[0]!.id).execute();
    expect(entries).toHaveLength(2);
    expect(new Set(entries.map((e) => e.posting_id)).size).toBe(1);
    expect(entries.map((e) => e.kind)).toEqual(['RESERVE', 'RESERVE']);
    await expectLedgerMatches([cashbacks[0]!.id]);
    const changes = await h.db.selectFrom('cashback_changes').select('type').where('cashback_id', '=', cashbacks[0]!.id).execute();
    expect(changes).toEqual([{ type: 'PENDING' }]);
    expect(await offerBudget(shop)).toEqual({ budget: 100_000, remaining: 100_000 - 1234 });
  });

  it('stores a non-qualifying transaction delivered 50 times at once exactly once, on real Postgres', async () => {
    // No offer to lock at an unknown MID: only the unique key and the batch retry stop a double insert.
    const shopper = await newShopper(h);
    const stray = item({ mid: unique('NOWHERE').toUpperCase() }, shopper.card.number);

    const results = only(await ingestConcurrently(Array.from({ length: 50 }, () => [stray])));

    expect(tally(results)).toEqual({ 'NOT_QUALIFIED:UNKNOWN_LOCATION': 1, 'DUPLICATE:UNKNOWN_LOCATION': 49 });
    expect(new Set(results.map((r) => r.transaction?.id)).size).toBe(1);
    expect(await transactionsOf([stray.externalId])).toHaveLength(1);
  });

  it('never overspends a budget: 200 purchases at once against 10,000 of budget at 70 each, on real Postgres', async () => {
    const shop = await newShop(h, { rewardType: 'FIXED', rewardAmount: 70, rewardBasisPoints: null, budget: 10_000 });
    const shoppers = await Promise.all(Array.from({ length: 5 }, () => newShopper(h)));
    const purchases = Array.from({ length: 200 }, (_, i) => item(shop, shoppers[i % shoppers.length]!.card.number, { amount: 5_000 }));

    const results = only(await ingestConcurrently(purchases.map((p) => [p])));

    // 142 × 70 = 9,940: the 143rd reward is cut to the 60 that is left, then the budget is gone.
    expect(tally(results)).toEqual({ QUALIFIED: 143, 'NOT_QUALIFIED:BUDGET_EXHAUSTED': 57 });
    const rewards = results.flatMap((r) => (r.cashback ? [r.cashback.amount.amount] : []));
    expect(rewards.filter((a) => a === 70)).toHaveLength(142);
    expect(rewards.filter((a) => a !== 70)).toEqual([60]);

    const cashbacks = await cashbacksOfOffer(shop);
    expect(cashbacks).toHaveLength(143);
    expect(cashbacks.reduce((sum, c) => sum + c.amount, 0)).toBe(10_000);
    const cut = cashbacks.filter((c) => c.amount !== 70);
    expect(cut.map((c) => ({ amount: c.amount, granted: c.granted_amount, reason: c.reason }))).toEqual([
      { amount: 60, granted: 60, reason: 'LIMITED_BY_BUDGET' },
    ]);
    expect(cashbacks.filter((c) => c.amount === 70).every((c) => c.reason === null)).toBe(true);
    expect(await offerBudget(shop)).toEqual({ budget: 10_000, remaining: 0 });
    expect(await transactionsOf(purchases.map((p) => p.externalId))).toHaveLength(200);
    await expectLedgerMatches(cashbacks.map((c) => c.id));

    const status = await h.gql('query($id: ID!) { offer(id: $id) { status budgetRemaining { amount } } }', { id: shop.offerId });
    expect(status.data.offer).toEqual({ status: 'EXHAUSTED', budgetRemaining: { amount: 0 } });
  });

  it('holds the per-user limit: 30 purchases at once by one user on a limit of 2, on real Postgres', async () => {
    const shop = await newShop(h, { perUserLimit: 2 });
    const shopper = await newShopper(h);
    const purchases = Array.from({ length: 30 }, () => item(shop, shopper.card.number, { amount: 2_000 }));

    const results = only(await ingestConcurrently(purchases.map((p) => [p])));

    expect(tally(results)).toEqual({ QUALIFIED: 2, 'NOT_QUALIFIED:USER_LIMIT_REACHED': 28 });
    const cashbacks = await cashbacksOfOffer(shop);
    expect(cashbacks.map((c) => c.amount)).toEqual([200, 200]);
    expect(await offerBudget(shop)).toEqual({ budget: 100_000, remaining: 100_000 - 400 });
    expect(await transactionsOf(purchases.map((p) => p.externalId))).toHaveLength(30);
  });

  it('runs a request sent 10 times at once with one idempotency key once, and answers all 10 alike, on real Postgres', async () => {
    const shop = await newShop(h);
    const shopper = await newShopper(h);
    const batch = [item(shop, shopper.card.number, { amount: 7_777 }), item(shop, shopper.card.number, { amount: 3_000 })];
    const key = unique('idem');

    const answers = await ingestConcurrently(Array.from({ length: 10 }, () => batch), key);

    expect(answers[0]!.results!.map((r) => r.outcome)).toEqual(['QUALIFIED', 'QUALIFIED']);
    for (const answer of answers) expect(answer).toEqual(answers[0]);
    expect(await transactionsOf(batch.map((b) => b.externalId))).toHaveLength(2);
    expect((await cashbacksOfOffer(shop)).map((c) => c.amount).sort((a, b) => a - b)).toEqual([300, 777]);
    expect(await offerBudget(shop)).toEqual({ budget: 100_000, remaining: 100_000 - 1077 });
  });

  it('keeps the ledger consistent when a clearing and five refunds of one purchase race, on real Postgres', async () => {
    const shop = await newShop(h);
    const shopper = await newShopper(h);
    const auth = item(shop, shopper.card.number, { amount: 10_000 });
    const [pending] = only([await ingest(h, partner.key, [auth])]);
    expect(pending).toMatchObject({ outcome: 'QUALIFIED', cashback: { status: 'PENDING', amount: { amount: 1000 } } });

    const clearing = item(shop, shopper.card.number, { type: 'CLEARING', amount: 12_000, authExternalId: auth.externalId });
    const refunds = Array.from({ length: 5 }, () =>
      item(shop, shopper.card.number, { type: 'REFUND', amount: 1_000, originalExternalId: auth.externalId }),
    );
    // Each item twice, so duplicates race too.
    const results = only(await ingestConcurrently([clearing, ...refunds, clearing, ...refunds].map((i) => [i])));

    expect(tally(results)).toEqual({ QUALIFIED: 6, DUPLICATE: 6 });
    // Whatever the order, the reward ends as 10% of the cleared 12,000 with 5,000 of it refunded:
    // 1,200 × 7,000 / 12,000 = 700.
    const [cashback, ...others] = await cashbacksOfOffer(shop);
    expect(others).toEqual([]);
    expect(cashback).toMatchObject({
      id: dbId(pending!.cashback!.id),
      status: 'CONFIRMED',
      purchase_amount: 12_000,
      refunded_amount: 5_000,
      granted_amount: 1_200,
      amount: 700,
      reason: 'PARTIALLY_REFUNDED',
    });
    expect(await offerBudget(shop)).toEqual({ budget: 100_000, remaining: 100_000 - 700 });
    await expectLedgerMatches([cashback!.id]);
    const kinds = await h.db.selectFrom('ledger_entries').select('kind').where('subject_id', '=', cashback!.id).execute();
    expect(kinds.filter((k) => k.kind === 'RESERVE')).toHaveLength(2);
    expect(kinds.filter((k) => k.kind === 'ADJUST' || k.kind === 'RELEASE').length).toBeGreaterThanOrEqual(2);
  });
});

describe.runIf(databaseKind() === 'postgres')('a purchase committed while a batch waits for its locks, on real Postgres', () => {
  it('refunds it although the refund names another location than the purchase', async () => {
    const [shop1, shop2] = [await newShop(h), await newShop(h)];
    const shopper = await newShopper(h);
    const fingerprint = fingerprintCardNumber(h.security.cards.fingerprintKey, shopper.card.number);
    const purchaseId = unique('purchase');
    let refunding: ReturnType<typeof ingest> | undefined;
    await h.db.transaction().execute(async (trx) => {
      // Batch A holds both offers' locks while it commits a purchase at shop 1 ...
      const base = { card: { fingerprint }, network: 'VISA' as const, currency: 'USD', occurredAt: new Date(Date.now() - 60_000), authExternalId: null, originalExternalId: null, type: 'AUTH' as const, amount: 10_000 };
      await ingestBatch(trx, partnerId, [
        { ...base, externalId: purchaseId, mid: shop1.mid },
        { ...base, externalId: unique('other'), mid: shop2.mid },
      ], { now: new Date(), authExpiryDays: 7 });
      // ... while batch B refunds that purchase with shop 2's MID: its first read cannot see the purchase yet.
      refunding = ingest(h, partner.key, [item(shop2, shopper.card.number, { type: 'REFUND', amount: 2_500, originalExternalId: purchaseId })]);
      await new Promise((resolve) => setTimeout(resolve, 300));
    });
    const res = await refunding!;
    expect(res.results![0]).toMatchObject({ outcome: 'QUALIFIED', cashback: { status: 'PENDING', amount: { amount: 750 } } });
  });
});

describe('idempotency keys on ingestTransactions', () => {
  it('answers a replay with the same key and input with the first answer, and refuses the key with another input', async () => {
    const shop = await newShop(h);
    const shopper = await newShopper(h);
    const batch = [item(shop, shopper.card.number, { amount: 4_321 })];
    const key = unique('idem');

    const first = await ingest(h, partner.key, batch, key);
    expect(first.userErrors).toEqual([]);
    expect(first.results!.map((r) => r.outcome)).toEqual(['QUALIFIED']);
    const replay = await ingest(h, partner.key, batch, key);
    expect(replay).toEqual(first);

    const other = [{ ...batch[0]!, amount: 4_322 }];
    const reused = await ingest(h, partner.key, other, key);
    expect(reused.userErrors.map((e) => ({ code: e.code, field: e.field }))).toEqual([{ code: 'IDEMPOTENCY_KEY_REUSED', field: ['idempotencyKey'] }]);
    expect(reused.results).toBeNull();

    const stored = await transactionsOf([batch[0]!.externalId]);
    expect(stored.map((t) => t.amount)).toEqual([4_321]);
    expect((await cashbacksOfOffer(shop)).map((c) => c.amount)).toEqual([432]);
    expect(await offerBudget(shop)).toEqual({ budget: 100_000, remaining: 100_000 - 432 });
  });
});
