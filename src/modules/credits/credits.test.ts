import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { daysAgo, ingest, item, newShop, newShopper } from '../../../test/cashback-fixtures.js';
import { dbId, startHarness, type Harness } from '../../../test/harness.js';
import { encodeGlobalId } from '../../lib/ids.js';
import { expireStaleAuths, issueDueStatementCredits } from '../cashback/cashback.service.js';
import { ledgerBalancesByCashback } from '../ledger/ledger.js';
import { STATEMENT_CREDIT_TOPIC } from './credits.topics.js';

const SETTLE = `mutation($input: SettleStatementCreditsInput!) {
  settleStatementCredits(input: $input) { credits { id status reference attempts } userErrors { field message code } }
}`;
const CREDIT = `query($id: ID!) { node(id: $id) { ... on StatementCredit { id status amount { amount currency } cardNetwork cardLast4 transactionExternalId reference attempts } } }`;

let h: Harness;
let partner: { id: string; key: string };

beforeAll(async () => {
  h = await startHarness();
  partner = await h.newPartner();
});
afterAll(() => h.close());

/** Confirmed cashback whose hold period has passed (a clearing 10 days ago, return period 7 days). */
async function dueCashback(amount = 10_000) {
  const shop = await newShop(h, { returnPeriodDays: 7, startsAt: daysAgo(20) });
  const shopper = await newShopper(h);
  const purchase = item(shop, shopper.card.number, { type: 'CLEARING', amount, occurredAt: daysAgo(10) });
  const res = await ingest(h, partner.key, [purchase]);
  const cashbackId = res.results![0]!.cashback!.id;
  return { shop, shopper, purchase, cashbackId };
}

async function creditOf(cashbackGlobalId: string): Promise<string | null> {
  const row = await h.db.selectFrom('statement_credits').select('id').where('cashback_id', '=', dbId(cashbackGlobalId)).executeTakeFirst();
  return row ? encodeGlobalId('StatementCredit', row.id) : null;
}

async function settle(credits: { id: string; status: string; reference?: string }[], key = partner.key, idempotencyKey?: string) {
  const res = await h.gql(SETTLE, { input: { credits, idempotencyKey } }, key);
  return res.data.settleStatementCredits;
}

describe('statement credits', () => {
  it('creates one credit when the hold period has passed, and none before', async () => {
    const due = await dueCashback();
    const fresh = await newShop(h, { returnPeriodDays: 30 });
    const shopper = await newShopper(h);
    const recent = await ingest(h, partner.key, [item(fresh, shopper.card.number, { type: 'CLEARING' })]);
    await issueDueStatementCredits(h.db, new Date());
    await issueDueStatementCredits(h.db, new Date());
    expect(await creditOf(recent.results![0]!.cashback!.id)).toBeNull();
    const creditId = await creditOf(due.cashbackId);
    const credit = (await h.gql(CREDIT, { id: creditId }, partner.key)).data.node;
    expect(credit).toEqual({
      id: creditId,
      status: 'PENDING',
      amount: { amount: 1000, currency: 'USD' },
      cardNetwork: 'VISA',
      cardLast4: due.shopper.card.number.slice(-4),
      transactionExternalId: due.purchase.externalId,
      reference: null,
      attempts: 0,
    });
    expect(await h.db.selectFrom('statement_credits').select('id').where('cashback_id', '=', dbId(due.cashbackId)).execute()).toHaveLength(1);
  });

  it('writes one statement_credit.created per credit, in the statement that creates it, with the topic\'s data and the cashback\'s audience', async () => {
    const [first, second] = [await dueCashback(10_000), await dueCashback(20_000)];
    await issueDueStatementCredits(h.db, new Date());
    await issueDueStatementCredits(h.db, new Date());
    for (const [due, amount] of [[first, 1000], [second, 2000]] as const) {
      const creditId = dbId((await creditOf(due.cashbackId))!);
      const events = await h.db.selectFrom('events').selectAll().where('subject_type', '=', 'StatementCredit').where('subject_id', '=', creditId).execute();
      expect(events.map((e) => [e.topic, e.type])).toEqual([[STATEMENT_CREDIT_TOPIC.name, 'CREATED']]);
      const cashback = await h.db.selectFrom('cashbacks').selectAll().where('id', '=', dbId(due.cashbackId)).executeTakeFirstOrThrow();
      expect(events[0]).toMatchObject({ user_id: cashback.user_id, merchant_id: cashback.merchant_id });
      expect(STATEMENT_CREDIT_TOPIC.data(events[0]!)).toEqual({ amount, currency: 'USD', cashbackId: cashback.id, offerId: cashback.offer_id });
    }
    // Every credit has exactly one CREATED event, and no CREATED event is without its credit.
    const unmatched = await h.db
      .selectFrom('statement_credits as sc')
      .fullJoin(
        (eb) => eb.selectFrom('events').select(['subject_id']).where('topic', '=', STATEMENT_CREDIT_TOPIC.name).where('type', '=', 'CREATED').as('e'),
        (join) => join.onRef('e.subject_id', '=', 'sc.id'),
      )
      .select(['sc.id', 'e.subject_id'])
      .where((eb) => eb.or([eb('sc.id', 'is', null), eb('e.subject_id', 'is', null)]))
      .execute();
    expect(unmatched).toEqual([]);
    const perCredit = await h.db
      .selectFrom('events')
      .select(['subject_id', (eb) => eb.fn.countAll<string>().as('n')])
      .where('topic', '=', STATEMENT_CREDIT_TOPIC.name)
      .where('type', '=', 'CREATED')
      .groupBy('subject_id')
      .having((eb) => eb.fn.countAll(), '>', 1)
      .execute();
    expect(perCredit).toEqual([]);
  });

  it('credits the cashback when the partner settles ISSUED: ledger, status, history and e-mail', async () => {
    const due = await dueCashback();
    await issueDueStatementCredits(h.db, new Date());
    const creditId = (await creditOf(due.cashbackId))!;
    const result = await settle([{ id: creditId, status: 'ISSUED', reference: 'net-123' }]);
    expect(result).toEqual({ credits: [{ id: creditId, status: 'ISSUED', reference: 'net-123', attempts: 1 }], userErrors: [] });
    const cashback = await h.db.selectFrom('cashbacks').selectAll().where('id', '=', dbId(due.cashbackId)).executeTakeFirstOrThrow();
    expect(cashback).toMatchObject({ status: 'CREDITED', credited_amount: 1000, amount: 1000 });
    const balances = (await ledgerBalancesByCashback(h.db, [cashback.id])).get(cashback.id);
    expect(balances).toEqual({ OFFER_BUDGET: -1000, CASHBACK_PAYABLE: 0, CREDITS_ISSUED: 1000 });
    const emails = await h.db.selectFrom('emails').select(['kind', 'subject']).where('subject_type', '=', 'Cashback').where('subject_id', '=', cashback.id).orderBy('created_at').execute();
    expect(emails.map((e) => e.kind).sort()).toEqual(['CASHBACK_CONFIRMED', 'CASHBACK_CREDITED']);
    // Settling ISSUED again is harmless: nothing moves twice.
    expect((await settle([{ id: creditId, status: 'ISSUED', reference: 'net-123' }])).userErrors).toEqual([]);
    expect((await ledgerBalancesByCashback(h.db, [cashback.id])).get(cashback.id)).toEqual(balances);
    const viewer = await h.gql('{ viewer { cashbackTotals { credited { amount } } cashback(first: 1) { edges { node { status expectedCreditAt history { type } } } } } }', {}, due.shopper.token);
    expect(viewer.data.viewer.cashbackTotals).toEqual([{ credited: { amount: 1000 } }]);
    expect(viewer.data.viewer.cashback.edges[0].node).toEqual({ status: 'CREDITED', expectedCreditAt: null, history: [{ type: 'CONFIRMED' }, { type: 'CREDITED' }] });
  });

  it('keeps a FAILED credit owed and lets the partner settle it again', async () => {
    const due = await dueCashback();
    await issueDueStatementCredits(h.db, new Date());
    const creditId = (await creditOf(due.cashbackId))!;
    expect((await settle([{ id: creditId, status: 'FAILED', reference: 'declined' }])).credits).toMatchObject([{ status: 'FAILED', attempts: 1 }]);
    expect((await h.db.selectFrom('cashbacks').select('status').where('id', '=', dbId(due.cashbackId)).executeTakeFirstOrThrow()).status).toBe('CONFIRMED');
    const failed = await h.gql('{ statementCredits(first: 100, status: FAILED) { edges { node { id } } } }', {}, partner.key);
    expect(failed.data.statementCredits.edges.map((e: { node: { id: string } }) => e.node.id)).toContain(creditId);
    expect((await settle([{ id: creditId, status: 'ISSUED' }])).credits).toMatchObject([{ status: 'ISSUED', attempts: 2 }]);
    expect((await h.db.selectFrom('cashbacks').select('status').where('id', '=', dbId(due.cashbackId)).executeTakeFirstOrThrow()).status).toBe('CREDITED');
  });

  it('refuses a settlement with any bad item and changes nothing', async () => {
    const a = await dueCashback();
    const b = await dueCashback();
    await issueDueStatementCredits(h.db, new Date());
    const [creditA, creditB] = [(await creditOf(a.cashbackId))!, (await creditOf(b.cashbackId))!];
    await settle([{ id: creditB, status: 'ISSUED' }]);
    const res = await settle([
      { id: creditA, status: 'ISSUED' },
      { id: creditB, status: 'FAILED' },
      { id: 'nope', status: 'ISSUED' },
    ]);
    expect(res.userErrors.map((e: { code: string; field: string[] }) => [e.code, e.field])).toEqual([['INVALID_ID', ['credits', '2', 'id']]]);
    const res2 = await settle([
      { id: creditA, status: 'ISSUED' },
      { id: creditB, status: 'FAILED' },
      { id: encodeGlobalId('StatementCredit', '00000000-0000-4000-8000-000000000000'), status: 'ISSUED' },
    ]);
    expect(res2.userErrors.map((e: { code: string }) => e.code)).toEqual(['INVALID_STATE', 'NOT_FOUND']);
    expect((await h.db.selectFrom('cashbacks').select('status').where('id', '=', dbId(a.cashbackId)).executeTakeFirstOrThrow()).status).toBe('CONFIRMED');
  });

  it('returns the first answer to a settlement replayed with its idempotency key', async () => {
    const due = await dueCashback();
    await issueDueStatementCredits(h.db, new Date());
    const creditId = (await creditOf(due.cashbackId))!;
    const first = await settle([{ id: creditId, status: 'FAILED' }], partner.key, `settle-${creditId}`);
    const replay = await settle([{ id: creditId, status: 'FAILED' }], partner.key, `settle-${creditId}`);
    expect(replay).toEqual(first);
    expect((await h.gql(CREDIT, { id: creditId }, partner.key)).data.node.attempts).toBe(1);
  });

  it('shrinks an open credit when part of the purchase is refunded, cancels it on a full refund', async () => {
    const a = await dueCashback();
    const b = await dueCashback();
    await issueDueStatementCredits(h.db, new Date());
    await ingest(h, partner.key, [
      item(a.shop, a.shopper.card.number, { type: 'REFUND', amount: 2500, originalExternalId: a.purchase.externalId }),
      item(b.shop, b.shopper.card.number, { type: 'REFUND', amount: 10_000, originalExternalId: b.purchase.externalId }),
    ]);
    expect((await h.gql(CREDIT, { id: await creditOf(a.cashbackId) }, partner.key)).data.node).toMatchObject({ status: 'PENDING', amount: { amount: 750 } });
    expect((await h.gql(CREDIT, { id: await creditOf(b.cashbackId) }, partner.key)).data.node).toMatchObject({ status: 'CANCELLED' });
    expect((await settle([{ id: (await creditOf(b.cashbackId))!, status: 'ISSUED' }])).userErrors).toMatchObject([{ code: 'INVALID_STATE' }]);
  });

  it('claws back, never edits, when a credited purchase is refunded', async () => {
    const due = await dueCashback();
    await issueDueStatementCredits(h.db, new Date());
    await settle([{ id: (await creditOf(due.cashbackId))!, status: 'ISSUED' }]);
    await ingest(h, partner.key, [item(due.shop, due.shopper.card.number, { type: 'REFUND', amount: 4000, originalExternalId: due.purchase.externalId })]);
    const row = await h.db.selectFrom('cashbacks').selectAll().where('id', '=', dbId(due.cashbackId)).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ status: 'CREDITED', amount: 600, credited_amount: 1000, clawback_amount: 400 });
    expect((await ledgerBalancesByCashback(h.db, [row.id])).get(row.id)).toEqual({
      OFFER_BUDGET: -600,
      CASHBACK_PAYABLE: 0,
      CREDITS_ISSUED: 1000,
      CLAWBACK_RECEIVABLE: -400,
    });
    const kinds = await h.db.selectFrom('ledger_entries').select('kind').distinct().where('subject_id', '=', row.id).execute();
    expect(kinds.map((k) => k.kind).sort()).toEqual(['CLAWBACK', 'CREDIT', 'RESERVE']);
  });

  it('is for the partner that sent the purchase, with credits:write (and admins to read); others see no credits at all', async () => {
    const due = await dueCashback();
    await issueDueStatementCredits(h.db, new Date());
    const creditId = (await creditOf(due.cashbackId))!;
    const ingestOnly = await h.newPartner(['TRANSACTIONS_WRITE']);
    expect((await settle([{ id: creditId, status: 'ISSUED' }], ingestOnly.key)).userErrors).toMatchObject([{ code: 'FORBIDDEN' }]);
    expect((await settle([{ id: creditId, status: 'ISSUED' }], due.shop.merchant.key)).userErrors).toMatchObject([{ code: 'FORBIDDEN' }]);
    expect((await h.gql(CREDIT, { id: creditId }, ingestOnly.key)).data.node).toBeNull();
    expect((await h.gql(CREDIT, { id: creditId }, due.shopper.token)).data.node).toBeNull();
    expect((await h.gql(CREDIT, { id: creditId }, h.adminKey)).data.node.id).toBe(creditId);
    // Another card partner sees and settles only the credits of purchases it sent itself.
    const otherPartner = await h.newPartner();
    expect((await h.gql(CREDIT, { id: creditId }, otherPartner.key)).data.node).toBeNull();
    expect((await settle([{ id: creditId, status: 'ISSUED' }], otherPartner.key)).userErrors).toMatchObject([{ code: 'NOT_FOUND' }]);
    const theirs = await h.gql('{ statementCredits(first: 100) { edges { node { id } } } }', {}, otherPartner.key);
    expect(theirs.data.statementCredits.edges).toEqual([]);
    const list = await h.gql('{ statementCredits(first: 1) { edges { node { id } } } }', {}, due.shopper.token);
    expect(list.data.statementCredits.edges).toEqual([]);
    const listed = await h.gql('{ statementCredits(first: 100, status: PENDING) { edges { node { id } } } }', {}, h.adminKey);
    expect(listed.data.statementCredits.edges.length).toBeGreaterThan(0);
  });
});

describe('auth expiry', () => {
  it('reverses pending cashback whose auth never cleared and gives the budget back, once', async () => {
    const shop = await newShop(h, { startsAt: daysAgo(20) });
    const shopper = await newShopper(h);
    const stale = item(shop, shopper.card.number, { occurredAt: daysAgo(h.config.authExpiryDays + 1) });
    const fresh = item(shop, shopper.card.number);
    const res = await ingest(h, partner.key, [stale, fresh]);
    expect(res.results!.map((r) => r.cashback?.status)).toEqual(['PENDING', 'PENDING']);
    await expireStaleAuths(h.db, new Date());
    await expireStaleAuths(h.db, new Date());
    const [staleRow, freshRow] = await Promise.all(
      res.results!.map((r) => h.db.selectFrom('cashbacks').selectAll().where('id', '=', dbId(r.cashback!.id)).executeTakeFirstOrThrow()),
    );
    expect(staleRow).toMatchObject({ status: 'REVERSED', amount: 0, reason: 'AUTH_EXPIRED' });
    expect(freshRow).toMatchObject({ status: 'PENDING', amount: 1000 });
    const offer = await h.db.selectFrom('offers').select(['budget', 'budget_remaining']).where('id', '=', shop.offerDbId).executeTakeFirstOrThrow();
    expect(offer.budget! - offer.budget_remaining!).toBe(1000);
    const releases = await h.db.selectFrom('ledger_entries').select('id').where('subject_id', '=', staleRow!.id).where('kind', '=', 'RELEASE').execute();
    expect(releases).toHaveLength(2);
    // A late clearing of the expired auth is a purchase of its own.
    const late = await ingest(h, partner.key, [item(shop, shopper.card.number, { type: 'CLEARING', authExternalId: stale.externalId })]);
    expect(late.results![0]).toMatchObject({ outcome: 'QUALIFIED', cashback: { status: 'CONFIRMED' } });
    expect(late.results![0]!.cashback!.id).not.toBe(res.results![0]!.cashback!.id);
  });
});

describe('the job runner', () => {
  it('runs the jobs on demand through the app', async () => {
    const due = await dueCashback();
    const done = await h.app.jobs.runOnce();
    expect(done['statement-credits']).toBeGreaterThanOrEqual(1);
    expect(done['expire-auths']).toBeGreaterThanOrEqual(0);
    expect(await creditOf(due.cashbackId)).not.toBeNull();
  });
});
