/**
 * Property test of the cashback ledger (DESIGN §1, ledger.ts header): a seeded random mix of
 * thousands of operations — auths, clearings (matched and standalone), refunds (partial, full,
 * more than remains), re-deliveries, strays that cannot qualify, the auth expiry job, the
 * statement credit job and settlements ISSUED / FAILED — sent through the API in batches, by
 * several workers at once on Postgres. Afterwards the ledger must agree with the cashback rows,
 * the offers' budgets and the statement credits, whatever happened.
 *
 * The seed is printed; `LEDGER_SEED=<n>` replays the same operation sequences (on Postgres the
 * workers' interleaving is up to the scheduler). Every query is scoped to this file's offers,
 * partner and cashbacks: the Postgres database is shared with the other test files, and the jobs
 * (rightly) touch every due row in it.
 */
import { randomInt, randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CashbackRow, LedgerAccount, StatementCreditRow } from '../../../db/types.js';
import { ingest, newShop, newShopper } from '../../../test/cashback-fixtures.js';
import { databaseKind, dbId, startHarness, type Harness } from '../../../test/harness.js';
import { actualBalances, impliedBalances } from '../../../test/ledger-checks.js';
import { encodeGlobalId } from '../../lib/ids.js';
import { expireStaleAuths, issueDueStatementCredits } from '../cashback/cashback.service.js';
import { insertLedgerEntries, ledgerBalancesByCashback, ledgerTotals, posting } from './ledger.js';

const SEED = process.env.LEDGER_SEED ? Number(process.env.LEDGER_SEED) >>> 0 : randomInt(2 ** 32);
const ON_POSTGRES = databaseKind() === 'postgres';
const WORKERS = ON_POSTGRES ? 4 : 1;
const ITEMS = ON_POSTGRES ? 2_000 : 800;

const DAY = 24 * 60 * 60 * 1000;
const MINUTE = 60 * 1000;

/** mulberry32: a tiny seeded PRNG, so a failing run can be replayed from its seed. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1));
  const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)]!;
  const chance = (p: number) => next() < p;
  /** A key drawn by weight. */
  const weighted = <K extends string>(weights: Record<K, number>): K => {
    const entries = Object.entries(weights) as [K, number][];
    let r = next() * entries.reduce((sum, [, w]) => sum + w, 0);
    for (const [key, w] of entries) if ((r -= w) < 0) return key;
    return entries[entries.length - 1]![0];
  };
  /** A Luhn-valid Visa number that nobody linked. */
  const cardNumber = () => {
    const digits = [4, ...Array.from({ length: 14 }, () => int(0, 9))];
    const sum = digits
      .slice()
      .reverse()
      .reduce((s, d, i) => s + (i % 2 === 0 ? (d * 2 > 9 ? d * 2 - 9 : d * 2) : d), 0);
    return digits.join('') + String((10 - (sum % 10)) % 10);
  };
  return { int, pick, chance, weighted, cardNumber };
}

type Rng = ReturnType<typeof prng>;

// ---------------------------------------------------------------------------------------------
// The invariants, as a pure function of what the database holds, so a self-check can show that
// each kind of corruption is caught.
// ---------------------------------------------------------------------------------------------

interface LedgerSnapshot {
  /** Whole ledger, every currency (all test files' entries). */
  totals: Map<string, number>;
  cashbacks: CashbackRow[];
  balances: Map<string, Partial<Record<LedgerAccount, number>>>;
  postings: { posting_id: string; total: number; currencies: number; entries: number }[];
  offers: { id: string; budget: number | null; budget_remaining: number | null }[];
  credits: StatementCreditRow[];
  /** Status and amount of each cashback's latest history entry. */
  lastChanges: Map<string, { status: string; amount: number }>;
}

function ledgerViolations(s: LedgerSnapshot): string[] {
  const problems: string[] = [];
  for (const [currency, total] of s.totals) if (total !== 0) problems.push(`ledger total in ${currency} is ${total}, not 0`);
  for (const p of s.postings) {
    if (p.total !== 0 || p.currencies !== 1 || p.entries !== 2) problems.push(`posting ${p.posting_id}: sum ${p.total}, ${p.currencies} currencies, ${p.entries} entries`);
  }
  const creditsByCashback = new Map<string, StatementCreditRow[]>();
  for (const c of s.credits) creditsByCashback.set(c.cashback_id, [...(creditsByCashback.get(c.cashback_id) ?? []), c]);
  const spentByOffer = new Map<string, number>();
  for (const c of s.cashbacks) {
    spentByOffer.set(c.offer_id, (spentByOffer.get(c.offer_id) ?? 0) + c.amount);
    const b = s.balances.get(c.id) ?? {};
    const actual = Object.values(actualBalances(b));
    const expected = Object.values(impliedBalances(c));
    if (actual.join() !== expected.join()) {
      problems.push(`cashback ${c.id}: ledger [budget, payable, issued, clawback] = [${actual.join(', ')}], row says [${expected.join(', ')}]`);
    }
    if ((c.status === 'REVERSED') !== (c.amount === 0)) problems.push(`cashback ${c.id}: status ${c.status} with amount ${c.amount}`);
    if (c.amount < 0 || c.amount > c.granted_amount) problems.push(`cashback ${c.id}: amount ${c.amount} outside 0..granted ${c.granted_amount}`);
    if (c.refunded_amount > c.purchase_amount) problems.push(`cashback ${c.id}: refunded ${c.refunded_amount} of ${c.purchase_amount}`);
    const last = s.lastChanges.get(c.id);
    if (!last || last.status !== c.status || last.amount !== c.amount) {
      problems.push(`cashback ${c.id}: history ends at ${JSON.stringify(last)}, row is ${c.status} ${c.amount}`);
    }
    const credits = creditsByCashback.get(c.id) ?? [];
    if (credits.length > 1) problems.push(`cashback ${c.id}: ${credits.length} statement credits`);
    const credit = credits[0];
    const issued = credit?.status === 'ISSUED' ? credit.amount : 0;
    if (c.credited_amount !== issued) problems.push(`cashback ${c.id}: credited ${c.credited_amount}, issued credit ${issued}`);
    if (credit && (credit.status === 'PENDING' || credit.status === 'FAILED') && (c.status !== 'CONFIRMED' || credit.amount !== c.amount)) {
      problems.push(`cashback ${c.id}: open ${credit.status} credit of ${credit.amount} for ${c.status} cashback of ${c.amount}`);
    }
    if (credit?.status === 'CANCELLED' && c.status !== 'REVERSED') problems.push(`cashback ${c.id}: credit cancelled, cashback ${c.status}`);
    if (c.status === 'CREDITED' && credit?.status !== 'ISSUED') problems.push(`cashback ${c.id}: CREDITED without an issued credit`);
  }
  for (const o of s.offers) {
    const spent = spentByOffer.get(o.id) ?? 0;
    if (o.budget === null || o.budget_remaining === null) problems.push(`offer ${o.id}: no budget`);
    else {
      if (o.budget - o.budget_remaining !== spent) problems.push(`offer ${o.id}: budget ${o.budget} − remaining ${o.budget_remaining} ≠ rewards ${spent}`);
      if (o.budget_remaining < 0) problems.push(`offer ${o.id}: remaining budget ${o.budget_remaining} < 0`);
    }
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------

interface ShopRef {
  name: string;
  mid: string;
  currency: string;
  offerDbId: string;
}

interface Shopper {
  cardNumber: string;
  cardId: string;
}

interface Purchase {
  externalId: string;
  type: 'AUTH' | 'CLEARING';
  shop: ShopRef;
  shopper: Shopper;
  amount: number;
  occurredAt: Date;
}

type ItemKind = 'AUTH' | 'AUTH_OLD' | 'CLEARING_OF_AUTH' | 'STANDALONE_CLEARING' | 'REFUND' | 'REDELIVERY' | 'UNLINKED_CARD' | 'WRONG_CURRENCY' | 'UNKNOWN_ORIGINAL';

const SETTLE = `mutation($input: SettleStatementCreditsInput!) {
  settleStatementCredits(input: $input) { credits { id status } userErrors { field message code } }
}`;

let h: Harness;
let partner: { id: string; key: string };
let shops: ShopRef[];
let shoppers: Shopper[];

beforeAll(async () => {
  h = await startHarness({}, { poolSize: WORKERS * 3 });
  partner = await h.newPartner(['TRANSACTIONS_WRITE', 'CREDITS_WRITE']);
  const startsAt = new Date(Date.now() - 40 * DAY).toISOString();
  // Return period 0: confirmed cashback is due for a statement credit at once.
  const common = { startsAt, returnPeriodDays: 0 };
  const small = await newShop(h, { ...common, budget: ITEMS * 8 });
  const minSpend = await newShop(h, { ...common, rewardType: 'FIXED', rewardAmount: 500, rewardBasisPoints: null, minSpend: 5_000, budget: 50_000_000 });
  const euroMerchant = await h.newMerchant({ country: 'DE' });
  const euroMid = `MID${String(randomInt(1e12)).padStart(12, '0')}`;
  const euroLocation = await h.newLocation(euroMerchant.key, {
    channel: 'ONLINE',
    country: 'DE',
    timezone: 'Europe/Berlin',
    mids: [{ network: 'VISA', mid: euroMid }],
  });
  const euroOffer = await h.newOffer(euroMerchant.key, {
    ...common,
    currency: 'EUR',
    rewardBasisPoints: 500,
    maxReward: 300,
    budget: 50_000_000,
    locationIds: [euroLocation],
  });
  shops = [
    { name: 'small budget 10%', mid: small.mid, currency: 'USD', offerDbId: small.offerDbId },
    { name: 'fixed 500, min spend 5,000', mid: minSpend.mid, currency: 'USD', offerDbId: minSpend.offerDbId },
    { name: 'EUR 5% up to 300', mid: euroMid, currency: 'EUR', offerDbId: dbId(euroOffer) },
  ];
  const people = await Promise.all(Array.from({ length: 6 }, () => newShopper(h)));
  shoppers = people.map((p) => ({ cardNumber: p.card.number, cardId: p.card.id }));
});
afterAll(() => h?.close());

/** The first line of the last error the app logged (the API masks unexpected errors). */
function lastErrorLogged(): string {
  const line = h.logs.findLast((l) => l.includes('"level":50'));
  return line ? `logged: ${(JSON.parse(line) as { msg: string }).msg.split('\n')[0]}` : 'nothing logged';
}

/** Everything the workers saw, for the checks at the end. */
class Observations {
  readonly counts: Record<string, number> = {};
  readonly problems: string[] = [];
  /** Every answer per external id: exactly one must be a first delivery. */
  readonly deliveries = new Map<string, { outcome: string; transactionId: string | null }[]>();
  readonly sentExternalIds = new Set<string>();

  count(key: string, n = 1) {
    this.counts[key] = (this.counts[key] ?? 0) + n;
  }
}

/** One worker: its own seeded sequence of batches and jobs, `items` items in all. */
async function runWorker(worker: number, items: number, seen: Observations): Promise<void> {
  const rng: Rng = prng((SEED ^ Math.imul(worker + 1, 0x9e3779b9)) >>> 0);
  const purchases: Purchase[] = [];
  const auths: Purchase[] = [];
  const sent: Record<string, unknown>[] = [];
  const myCashbacks = new Set<string>();
  let serial = 0;
  const newExternalId = (kind: string) => `w${worker}-${kind}-${++serial}`;
  const amount = () => (rng.chance(0.15) ? rng.int(100, 4_999) : rng.int(1_000, 40_000));
  const minutesAgo = (m: number) => new Date(Date.now() - m * MINUTE);
  const cardOf = (s: Shopper) => (rng.chance(0.2) ? { cardId: s.cardId } : { cardNumber: s.cardNumber });

  /** The wire form of an item; the card as its number or, now and then, as its id. */
  function wire(t: Omit<Purchase, 'type'> & { type: string }, extra: Record<string, unknown> = {}) {
    return {
      externalId: t.externalId,
      type: t.type,
      ...cardOf(t.shopper),
      network: 'VISA',
      mid: t.shop.mid,
      amount: t.amount,
      currency: t.shop.currency,
      occurredAt: t.occurredAt.toISOString(),
      ...extra,
    };
  }

  function purchaseItem(kind: ItemKind, type: 'AUTH' | 'CLEARING', occurredAt: Date) {
    const p: Purchase = { externalId: newExternalId(kind), type, shop: rng.pick(shops), shopper: rng.pick(shoppers), amount: amount(), occurredAt };
    if (type === 'AUTH') auths.push(p);
    purchases.push(p);
    return wire(p);
  }

  function nextItem(): { kind: ItemKind; input: Record<string, unknown> } {
    const kind = rng.weighted<ItemKind>({
      AUTH: 26,
      AUTH_OLD: 6,
      CLEARING_OF_AUTH: auths.length > 0 ? 15 : 0,
      STANDALONE_CLEARING: 10,
      REFUND: purchases.length > 0 ? 20 : 0,
      REDELIVERY: sent.length > 0 ? 12 : 0,
      UNLINKED_CARD: 2,
      WRONG_CURRENCY: 2,
      UNKNOWN_ORIGINAL: 1,
    });
    switch (kind) {
      case 'AUTH':
        return { kind, input: purchaseItem(kind, 'AUTH', minutesAgo(rng.int(2, 600))) };
      case 'AUTH_OLD':
        // Older than AUTH_EXPIRY_DAYS (7): the expiry job reverses it unless a clearing comes first.
        return { kind, input: purchaseItem(kind, 'AUTH', new Date(Date.now() - 10 * DAY - rng.int(0, 600) * MINUTE)) };
      case 'STANDALONE_CLEARING':
        return { kind, input: purchaseItem(kind, 'CLEARING', minutesAgo(rng.int(2, 600))) };
      case 'CLEARING_OF_AUTH': {
        // The cleared amount is within ±20% of the authorised one.
        const auth = rng.pick(auths);
        const amount = Math.max(1, Math.round((auth.amount * (80 + rng.int(0, 40))) / 100));
        const p: Purchase = { ...auth, externalId: newExternalId(kind), type: 'CLEARING', amount, occurredAt: new Date(auth.occurredAt.getTime() + MINUTE) };
        purchases.push(p);
        return { kind, input: wire(p, { authExternalId: auth.externalId }) };
      }
      case 'REFUND': {
        // Part of the purchase, all of it, or more than it (which refunds what remains).
        const original = rng.pick(purchases);
        const part = rng.weighted({ some: 70, all: 20, more: 10 });
        const amount =
          part === 'some' ? rng.int(1, Math.max(1, Math.floor(original.amount / 2))) : part === 'all' ? original.amount : Math.ceil(original.amount * 1.5);
        const refund = { ...original, externalId: newExternalId(kind), type: 'REFUND', amount, occurredAt: minutesAgo(1) };
        return { kind, input: wire(refund, { originalExternalId: original.externalId }) };
      }
      case 'REDELIVERY':
        return { kind, input: rng.pick(sent) };
      case 'UNLINKED_CARD':
        return { kind, input: { ...purchaseItem(kind, 'AUTH', minutesAgo(rng.int(2, 600))), cardId: undefined, cardNumber: rng.cardNumber() } };
      case 'WRONG_CURRENCY': {
        const input = purchaseItem(kind, 'AUTH', minutesAgo(rng.int(2, 600)));
        return { kind, input: { ...input, currency: input.currency === 'EUR' ? 'USD' : 'EUR' } };
      }
      case 'UNKNOWN_ORIGINAL': {
        const refund = { externalId: newExternalId(kind), type: 'REFUND', shop: rng.pick(shops), shopper: rng.pick(shoppers), amount: amount(), occurredAt: minutesAgo(1) };
        return { kind, input: wire(refund, { originalExternalId: `never-sent-${worker}-${serial}` }) };
      }
    }
  }

  async function settleSome() {
    if (myCashbacks.size === 0) return;
    const open = await h.db
      .selectFrom('statement_credits')
      .select(['id', 'status'])
      .where('cashback_id', 'in', [...myCashbacks])
      .where('status', 'in', ['PENDING', 'FAILED'])
      .orderBy('id')
      .limit(60)
      .execute();
    const chosen = open.filter(() => rng.chance(0.7));
    if (chosen.length === 0) return;
    const credits = chosen.map((c, i) => ({
      id: encodeGlobalId('StatementCredit', c.id),
      status: rng.chance(0.7) ? 'ISSUED' : 'FAILED',
      reference: `ref-${worker}-${serial}-${i}`,
    }));
    const res = await h.gql(SETTLE, { input: { credits } }, partner.key);
    const payload = res.data?.settleStatementCredits;
    if (res.errors || !payload || payload.userErrors.length > 0) {
      seen.problems.push(`settleStatementCredits of ${credits.length} failed: ${JSON.stringify(res.errors ?? payload?.userErrors)}; ${lastErrorLogged()}`);
      return;
    }
    seen.count('job:settle');
    for (const c of credits) seen.count(`settled:${c.status}`);
  }

  async function sendBatch(batch: { kind: ItemKind; input: Record<string, unknown> }[]) {
    for (const { input } of batch) if (!sent.includes(input)) sent.push(input);
    let answer: Awaited<ReturnType<typeof ingest>>;
    try {
      answer = await ingest(h, partner.key, batch.map((b) => b.input));
    } catch (error) {
      // Rolled back as a whole: nothing of it is stored, and later re-deliveries are first deliveries.
      seen.problems.push(`batch of ${batch.length} failed: ${(error as Error).message}; ${lastErrorLogged()}`);
      return;
    }
    seen.count('batches');
    if (answer.userErrors.length > 0 || !answer.results || answer.results.length !== batch.length) {
      seen.problems.push(`batch of ${batch.length} answered ${JSON.stringify(answer.userErrors)} with ${answer.results?.length} results`);
      return;
    }
    answer.results.forEach((r, i) => {
      const { kind, input } = batch[i]!;
      const externalId = input.externalId as string;
      seen.count(`${kind}→${r.outcome}${r.reason ? `:${r.reason}` : ''}`);
      seen.sentExternalIds.add(externalId);
      if (r.externalId !== externalId) seen.problems.push(`result ${i} is for ${r.externalId}, not ${externalId}`);
      if (r.outcome === 'REJECTED') seen.problems.push(`${externalId} rejected: ${JSON.stringify(r.errors)}`);
      if (r.outcome === 'NOT_QUALIFIED' && !r.reason) seen.problems.push(`${externalId} not qualified without a reason`);
      if (r.cashback) myCashbacks.add(dbId(r.cashback.id));
      const list = seen.deliveries.get(externalId) ?? [];
      list.push({ outcome: r.outcome, transactionId: r.transaction?.id ?? null });
      seen.deliveries.set(externalId, list);
    });
  }

  let remaining = items;
  while (remaining > 0) {
    const size = Math.min(remaining, rng.int(1, 50));
    remaining -= size;
    await sendBatch(Array.from({ length: size }, () => nextItem()));

    // Jobs between batches, each worker on its own schedule.
    if (rng.chance(0.1)) await expire();
    if (rng.chance(0.35)) await issue();
    if (rng.chance(0.35)) await settleSome();
  }
  // And once more at the end, so every run has them whatever the draw.
  await issue();
  await refundAnOpenCredit();
  await settleSome();
  await expire();

  /** Refunds the whole purchase behind one open credit, so every run shows a credit cancelled. */
  async function refundAnOpenCredit() {
    if (myCashbacks.size === 0) return;
    const open = await h.db
      .selectFrom('statement_credits')
      .innerJoin('cashbacks', 'cashbacks.id', 'statement_credits.cashback_id')
      .innerJoin('transactions', 'transactions.id', 'cashbacks.purchase_transaction_id')
      .select('transactions.external_id')
      .where('statement_credits.cashback_id', 'in', [...myCashbacks])
      .where('statement_credits.status', '=', 'PENDING')
      .orderBy('statement_credits.id')
      .execute();
    const original = open.map((o) => purchases.find((p) => p.externalId === o.external_id)).find((p) => p !== undefined);
    if (!original) return;
    const refund = { ...original, externalId: newExternalId('REFUND'), type: 'REFUND', amount: original.amount * 2, occurredAt: minutesAgo(1) };
    await sendBatch([{ kind: 'REFUND', input: wire(refund, { originalExternalId: original.externalId }) }]);
  }

  async function expire() {
    seen.count('job:expire');
    seen.count('expired (any file)', await expireStaleAuths(h.db, new Date()));
  }
  async function issue() {
    seen.count('job:issue credits');
    seen.count('credits created (any file)', await issueDueStatementCredits(h.db, new Date()));
  }
}

const line = (counts: Record<string, number>) =>
  Object.entries(counts)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');

/** "AUTH 520 (QUALIFIED 374, BUDGET_EXHAUSTED 95, …); …; job:settle 22, …" from the raw counts. */
function summarize(counts: Record<string, number>): string {
  const kinds = new Map<string, Record<string, number>>();
  const rest: Record<string, number> = {};
  for (const [key, n] of Object.entries(counts)) {
    const match = /^(\w+)→(\w+)(?::(\w+))?$/.exec(key);
    if (!match) {
      rest[key] = n;
      continue;
    }
    const [, kind, outcome, reason] = match;
    const outcomes = kinds.get(kind!) ?? {};
    const label = outcome === 'NOT_QUALIFIED' ? reason! : outcome!;
    outcomes[label] = (outcomes[label] ?? 0) + n;
    kinds.set(kind!, outcomes);
  }
  const perKind = [...kinds].map(([kind, outcomes]) => `${kind} ${Object.values(outcomes).reduce((a, b) => a + b, 0)} (${line(outcomes)})`);
  return `${perKind.join('; ')}; ${line(rest)}`;
}

async function snapshot(offerIds: string[]): Promise<LedgerSnapshot> {
  const cashbacks = await h.db.selectFrom('cashbacks').selectAll().where('offer_id', 'in', offerIds).execute();
  const ids = cashbacks.map((c) => c.id);
  const mine = h.db.selectFrom('cashbacks').select('id').where('offer_id', 'in', offerIds);
  const postings = await h.db
    .selectFrom('ledger_entries')
    .select([
      'posting_id',
      sql<number>`sum(amount)::bigint`.as('total'),
      sql<number>`count(distinct currency)::int`.as('currencies'),
      sql<number>`count(*)::int`.as('entries'),
    ])
    .where('subject_id', 'in', mine)
    .groupBy('posting_id')
    .execute();
  const changes = await h.db
    .selectFrom('cashback_changes')
    .select(['cashback_id', 'status', 'amount'])
    .distinctOn('cashback_id')
    .where('cashback_id', 'in', mine)
    .orderBy('cashback_id')
    .orderBy('id', 'desc')
    .execute();
  return {
    totals: await ledgerTotals(h.db),
    cashbacks,
    balances: await ledgerBalancesByCashback(h.db, ids),
    postings: postings.map((p) => ({ ...p, total: Number(p.total) })),
    offers: await h.db.selectFrom('offers').select(['id', 'budget', 'budget_remaining']).where('id', 'in', offerIds).execute(),
    credits: await h.db.selectFrom('statement_credits').selectAll().where('cashback_id', 'in', mine).execute(),
    lastChanges: new Map(changes.map((c) => [c.cashback_id, { status: c.status, amount: c.amount }])),
  };
}

describe('the cashback ledger under a random mix of operations', () => {
  it(`stays balanced and agrees with cashback, budgets and credits (${ON_POSTGRES ? `${WORKERS} concurrent workers, on real Postgres` : 'one worker'})`, async () => {
    console.log(`ledger property test (${databaseKind()}): LEDGER_SEED=${SEED}`);
    const seen = new Observations();
    const started = Date.now();
    const share = Math.ceil(ITEMS / WORKERS);
    await Promise.all(Array.from({ length: WORKERS }, (_, w) => runWorker(w, Math.min(share, ITEMS - w * share), seen)));
    // Drain: whatever became due is credited, so the final state has every kind of credit in it.
    await issueDueStatementCredits(h.db, new Date());
    const offerIds = shops.map((s) => s.offerDbId);
    const state = await snapshot(offerIds);

    const creditStatuses: Record<string, number> = {};
    for (const c of state.credits) creditStatuses[c.status] = (creditStatuses[c.status] ?? 0) + 1;
    const cashbackStatuses: Record<string, number> = {};
    for (const c of state.cashbacks) cashbackStatuses[c.status] = (cashbackStatuses[c.status] ?? 0) + 1;
    const changeReasons = await h.db
      .selectFrom('cashback_changes')
      .select(['reason', sql<number>`count(*)::int`.as('n')])
      .where('cashback_id', 'in', state.cashbacks.length > 0 ? state.cashbacks.map((c) => c.id) : ['00000000-0000-0000-0000-000000000000'])
      .groupBy('reason')
      .execute();
    const reasons = Object.fromEntries(changeReasons.map((r) => [r.reason ?? 'none', r.n]));
    const clawedBack = state.cashbacks.filter((c) => c.clawback_amount > 0).length;
    console.log(
      `ledger property test (${databaseKind()}) LEDGER_SEED=${SEED}, ${WORKERS} worker(s), ${Date.now() - started} ms — ${summarize(seen.counts)}` +
        ` | cashbacks ${line(cashbackStatuses)} | credits ${line(creditStatuses)} | cashback changes ${line(reasons)}, clawed back ${clawedBack}`,
    );

    // The invariants.
    expect(seen.problems, `LEDGER_SEED=${SEED}`).toEqual([]);
    expect(ledgerViolations(state), `LEDGER_SEED=${SEED}`).toEqual([]);

    // Re-deliveries: one first delivery per external id, every answer naming the same transaction.
    for (const [externalId, answers] of seen.deliveries) {
      const firsts = answers.filter((a) => a.outcome !== 'DUPLICATE');
      if (firsts.length !== 1 || new Set(answers.map((a) => a.transactionId)).size !== 1) {
        expect.fail(`${externalId} answered ${JSON.stringify(answers)}`);
      }
    }
    // Stored rows: each external id once, each non-qualifying one with its reason, nothing else.
    const stored = await h.db
      .selectFrom('transactions')
      .select(['external_id', 'outcome', 'reason', 'cashback_id'])
      .where('partner_id', '=', dbId(partner.id))
      .execute();
    expect(stored.length).toBe(seen.sentExternalIds.size);
    expect(new Set(stored.map((t) => t.external_id))).toEqual(seen.sentExternalIds);
    expect(stored.filter((t) => t.outcome === 'NOT_QUALIFIED' && !t.reason)).toEqual([]);
    const myCashbackIds = new Set(state.cashbacks.map((c) => c.id));
    expect(stored.filter((t) => t.outcome === 'QUALIFIED' && !myCashbackIds.has(t.cashback_id!))).toEqual([]);

    // The mix really exercised every path (otherwise the invariants above prove little).
    const total = (prefix: string) => Object.entries(seen.counts).filter(([k]) => k.startsWith(prefix)).reduce((s, [, n]) => s + n, 0);
    expect(total('AUTH→QUALIFIED')).toBeGreaterThan(0);
    expect(total('CLEARING_OF_AUTH→QUALIFIED')).toBeGreaterThan(0);
    expect(total('STANDALONE_CLEARING→QUALIFIED')).toBeGreaterThan(0);
    expect(total('REFUND→QUALIFIED')).toBeGreaterThan(0);
    expect(total('REDELIVERY→DUPLICATE')).toBeGreaterThan(0);
    expect(Object.keys(seen.counts).some((k) => k.endsWith(':BUDGET_EXHAUSTED'))).toBe(true);
    expect(Object.keys(seen.counts).some((k) => k.endsWith(':BELOW_MIN_SPEND'))).toBe(true);
    expect(total('UNLINKED_CARD→NOT_QUALIFIED:CARD_NOT_LINKED') + total('WRONG_CURRENCY→NOT_QUALIFIED:CURRENCY_MISMATCH')).toBeGreaterThan(0);
    expect(reasons.LIMITED_BY_BUDGET ?? 0).toBeGreaterThan(0);
    expect(reasons.AUTH_EXPIRED ?? 0).toBeGreaterThan(0);
    expect(reasons.PARTIALLY_REFUNDED ?? 0).toBeGreaterThan(0);
    expect(cashbackStatuses.CREDITED ?? 0).toBeGreaterThan(0);
    expect(seen.counts['settled:FAILED'] ?? 0).toBeGreaterThan(0);
    expect(creditStatuses.CANCELLED ?? 0).toBeGreaterThan(0);
    expect(clawedBack).toBeGreaterThan(0);

    // Self-check: the checker is not vacuous — each kind of corruption is reported.
    const someCashback = state.cashbacks.find((c) => c.status !== 'REVERSED')!;
    const corruptions: ((s: LedgerSnapshot) => LedgerSnapshot)[] = [
      (s) => ({ ...s, totals: new Map([...s.totals, ['XTS', 1]]) }),
      (s) => ({ ...s, postings: [...s.postings, { posting_id: 'p', total: 1, currencies: 1, entries: 2 }] }),
      (s) => ({ ...s, cashbacks: s.cashbacks.map((c) => (c === someCashback ? { ...c, amount: c.amount - 1 } : c)) }),
      (s) => ({ ...s, cashbacks: s.cashbacks.map((c) => (c === someCashback ? { ...c, status: 'REVERSED' } : c)) }),
      (s) => ({ ...s, offers: s.offers.map((o, i) => (i === 0 ? { ...o, budget_remaining: o.budget_remaining! + 1 } : o)) }),
      (s) => ({ ...s, credits: [...s.credits, { ...s.credits[0]!, id: 'extra', status: 'ISSUED' }] }),
    ];
    for (const corrupt of corruptions) expect(ledgerViolations(corrupt(state)).length).toBeGreaterThan(0);
  }, 120_000);

  it('refuses to update or delete a ledger entry', async () => {
    const entry = await h.db
      .selectFrom('ledger_entries')
      .selectAll()
      .where('subject_id', 'in', h.db.selectFrom('cashbacks').select('id').where('offer_id', 'in', shops.map((s) => s.offerDbId)))
      .orderBy('id')
      .limit(1)
      .executeTakeFirstOrThrow();
    const update = h.db.updateTable('ledger_entries').set({ amount: entry.amount + 1 }).where('id', '=', entry.id).execute();
    await expect(update).rejects.toThrow(/append-only/);
    await expect(h.db.deleteFrom('ledger_entries').where('id', '=', entry.id).execute()).rejects.toThrow(/append-only/);
    expect(await h.db.selectFrom('ledger_entries').selectAll().where('id', '=', entry.id).executeTakeFirst()).toEqual(entry);
  });

  it('refuses a posting that does not balance in the statement that writes it, and keeps one that does', async () => {
    const subject = { id: randomUUID(), offer_id: shops[0]!.offerDbId, user_id: randomUUID(), currency: 'USD' };
    const [debit, credit] = posting('RESERVE', subject, 125);
    await h.db.transaction().execute(async (trx) => {
      // Refused at once, not at commit: nothing of this transaction can build on it.
      await expect(insertLedgerEntries(trx, [debit!, { ...credit!, amount: 124 }])).rejects.toThrow(/does not balance/);
    });
    await h.db.transaction().execute(async (trx) => {
      await expect(insertLedgerEntries(trx, [debit!, { ...credit!, currency: 'EUR' }])).rejects.toThrow(/does not balance/);
    });
    await h.db.transaction().execute((trx) => insertLedgerEntries(trx, [debit!, credit!]));
    const stored = await h.db.selectFrom('ledger_entries').select(['amount']).where('subject_id', '=', subject.id).orderBy('id').execute();
    expect(stored.map((e) => e.amount)).toEqual([-125, 125]);
  });
});
