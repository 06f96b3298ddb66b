/**
 * The double-entry ledger: every money movement of a cashback is one posting of entries that sum
 * to zero, in integer minor units of one currency. Entries are append-only; the database refuses
 * UPDATE, DELETE and TRUNCATE and checks each posting's balance at commit.
 *
 * Accounts, and what their balances mean (an entry adds its signed amount to its account):
 * - OFFER_BUDGET (per offer): minus the reward reserved from the offer's budget;
 * - CASHBACK_PAYABLE (per user): cashback owed to the user, not yet credited;
 * - CREDITS_ISSUED (one per currency): cashback paid onto cards;
 * - CLAWBACK_RECEIVABLE (per user): minus what a user owes back after a refund of credited cashback.
 * So for each cashback: OFFER_BUDGET = −amount, CASHBACK_PAYABLE = amount + clawback − credited,
 * CREDITS_ISSUED = credited, CLAWBACK_RECEIVABLE = −clawback; they sum to zero.
 */
import { randomUUID } from 'node:crypto';
import { sql, type Kysely, type RawBuilder, type Transaction } from 'kysely';
import type { DB, LedgerAccount, LedgerKind, NewLedgerEntry } from '../../../db/types.js';

/** What a posting moves money for; today always a cashback (`subject_type` Cashback). */
export interface PostingSubject {
  id: string;
  offer_id: string;
  user_id: string;
  currency: string;
}

/** The accounts and kinds of a cashback's postings (an order's are CHARGE and REFUND, see orderPosting). */
export type CashbackLedgerAccount = Exclude<LedgerAccount, 'CARD_CHARGES' | 'MERCHANT_PAYABLE'>;
type CashbackLedgerKind = Exclude<LedgerKind, 'CHARGE' | 'REFUND'>;

const LEGS: Record<CashbackLedgerKind, readonly [CashbackLedgerAccount, CashbackLedgerAccount]> = {
  // money moves from the first account to the second
  RESERVE: ['OFFER_BUDGET', 'CASHBACK_PAYABLE'],
  ADJUST: ['OFFER_BUDGET', 'CASHBACK_PAYABLE'],
  RELEASE: ['CASHBACK_PAYABLE', 'OFFER_BUDGET'],
  CREDIT: ['CASHBACK_PAYABLE', 'CREDITS_ISSUED'],
  CLAWBACK: ['CLAWBACK_RECEIVABLE', 'OFFER_BUDGET'],
};

function accountId(account: LedgerAccount, cashback: PostingSubject): string | null {
  if (account === 'OFFER_BUDGET') return cashback.offer_id;
  if (account === 'CREDITS_ISSUED') return null;
  return cashback.user_id;
}

/** The entries of one movement of `amount` (an ADJUST may be negative); none for 0. */
export function posting(kind: CashbackLedgerKind, cashback: PostingSubject, amount: number): NewLedgerEntry[] {
  if (!Number.isSafeInteger(amount)) throw new RangeError('ledger amounts are integers of minor units');
  if (amount === 0) return [];
  if (amount < 0 && kind !== 'ADJUST') throw new RangeError(`a ${kind} posting moves a positive amount`);
  const postingId = randomUUID();
  const [from, to] = LEGS[kind];
  const leg = (account: LedgerAccount, signed: number): NewLedgerEntry => ({
    posting_id: postingId,
    kind,
    account,
    account_id: accountId(account, cashback),
    amount: signed,
    currency: cashback.currency,
    subject_type: 'Cashback',
    subject_id: cashback.id,
  });
  return [leg(from, -amount), leg(to, amount)];
}

/**
 * The entries of an order's money movement: CHARGE moves the price from CARD_CHARGES (per user:
 * what their cards were charged) to MERCHANT_PAYABLE (per merchant: what is owed to it); REFUND
 * moves it back. Subject: the order.
 */
export function orderPosting(
  kind: 'CHARGE' | 'REFUND',
  order: { id: string; user_id: string; merchant_id: string; currency: string },
  amount: number,
): NewLedgerEntry[] {
  if (!Number.isSafeInteger(amount) || amount <= 0) throw new RangeError('an order posting moves a positive integer of minor units');
  const postingId = randomUUID();
  const charged = kind === 'CHARGE' ? -amount : amount;
  const leg = (account: 'CARD_CHARGES' | 'MERCHANT_PAYABLE', accountId: string, signed: number): NewLedgerEntry => ({
    posting_id: postingId,
    kind,
    account,
    account_id: accountId,
    amount: signed,
    currency: order.currency,
    subject_type: 'Order',
    subject_id: order.id,
  });
  return [leg('CARD_CHARGES', order.user_id, charged), leg('MERCHANT_PAYABLE', order.merchant_id, -charged)];
}

/**
 * The INSERT of `entries`, one array parameter per column whatever their number (a batch moves
 * thousands of entries), for a caller that runs it alone or as one step of a larger statement.
 * Rows go in in the given order, so the two legs of a posting stay together.
 */
export function ledgerEntriesInsert(entries: readonly NewLedgerEntry[]): RawBuilder<unknown> {
  const column = <T>(pick: (e: NewLedgerEntry) => T) => entries.map(pick);
  return sql`insert into ledger_entries (posting_id, kind, account, account_id, amount, currency, subject_type, subject_id)
    select * from unnest(${column((e) => e.posting_id)}::uuid[], ${column((e) => e.kind)}::text[], ${column((e) => e.account)}::text[],
      ${column((e) => e.account_id ?? null)}::uuid[], ${column((e) => e.amount)}::bigint[], ${column((e) => e.currency)}::text[],
      ${column((e) => e.subject_type)}::text[], ${column((e) => e.subject_id)}::uuid[])`;
}

export async function insertLedgerEntries(trx: Transaction<DB>, entries: readonly NewLedgerEntry[]): Promise<void> {
  if (entries.length > 0) await ledgerEntriesInsert(entries).execute(trx);
}

/** Sum of all entries per currency: zero for every currency, always. */
export async function ledgerTotals(db: Kysely<DB>): Promise<Map<string, number>> {
  const rows = await db
    .selectFrom('ledger_entries')
    .select(['currency', sql<number>`sum(amount)::bigint`.as('total')])
    .groupBy('currency')
    .execute();
  return new Map(rows.map((r) => [r.currency, Number(r.total)]));
}

/** Balance of each account touched by the given cashbacks' entries, per cashback. */
export async function ledgerBalancesByCashback(
  db: Kysely<DB>,
  cashbackIds: readonly string[],
): Promise<Map<string, Partial<Record<LedgerAccount, number>>>> {
  const result = new Map<string, Partial<Record<LedgerAccount, number>>>();
  if (cashbackIds.length === 0) return result;
  const rows = await db
    .selectFrom('ledger_entries')
    .select(['subject_id', 'account', sql<number>`sum(amount)::bigint`.as('balance')])
    .where('subject_type', '=', 'Cashback')
    .where('subject_id', 'in', cashbackIds)
    .groupBy(['subject_id', 'account'])
    .execute();
  for (const row of rows) {
    const balances = result.get(row.subject_id) ?? {};
    balances[row.account] = Number(row.balance);
    result.set(row.subject_id, balances);
  }
  return result;
}
