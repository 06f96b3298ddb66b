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
import { sql, type Kysely, type Transaction } from 'kysely';
import type { DB, LedgerAccount, LedgerKind, NewLedgerEntry } from '../../../db/types.js';

/** What a posting moves money for; today always a cashback (`subject_type` Cashback). */
export interface PostingSubject {
  id: string;
  offer_id: string;
  user_id: string;
  currency: string;
}

const LEGS: Record<LedgerKind, readonly [LedgerAccount, LedgerAccount]> = {
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
export function posting(kind: LedgerKind, cashback: PostingSubject, amount: number): NewLedgerEntry[] {
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

export async function insertLedgerEntries(trx: Transaction<DB>, entries: readonly NewLedgerEntry[]): Promise<void> {
  // A batch can move thousands of entries: insert in chunks well under the bind-parameter limit.
  for (let i = 0; i < entries.length; i += 2000) {
    await trx.insertInto('ledger_entries').values(entries.slice(i, i + 2000)).execute();
  }
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
