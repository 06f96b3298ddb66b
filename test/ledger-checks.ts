/**
 * The ledger's invariant for tests: for each cashback, the balances its entries leave on each
 * account are the ones its row implies (see the header of src/modules/ledger/ledger.ts).
 */
import type { Kysely } from 'kysely';
import { expect } from 'vitest';
import type { CashbackRow, DB } from '../db/types.js';
import { ledgerBalancesByCashback, type CashbackLedgerAccount } from '../src/modules/ledger/ledger.js';

type Balances = Record<CashbackLedgerAccount, number>;

/** What the cashback row says each account must hold for it. */
export function impliedBalances(c: Pick<CashbackRow, 'amount' | 'clawback_amount' | 'credited_amount'>): Balances {
  return {
    OFFER_BUDGET: 0 - c.amount,
    CASHBACK_PAYABLE: c.amount + c.clawback_amount - c.credited_amount,
    CREDITS_ISSUED: c.credited_amount,
    CLAWBACK_RECEIVABLE: 0 - c.clawback_amount,
  };
}

/** The balances the entries hold, with 0 for an account they never touched. */
export function actualBalances(b: Partial<Balances> = {}): Balances {
  return {
    OFFER_BUDGET: b.OFFER_BUDGET ?? 0,
    CASHBACK_PAYABLE: b.CASHBACK_PAYABLE ?? 0,
    CREDITS_ISSUED: b.CREDITS_ISSUED ?? 0,
    CLAWBACK_RECEIVABLE: b.CLAWBACK_RECEIVABLE ?? 0,
  };
}

/** Each of these cashbacks' ledger balances agree with its row. */
export async function expectLedgerMatches(db: Kysely<DB>, cashbackIds: string[]): Promise<void> {
  const rows = await db.selectFrom('cashbacks').selectAll().where('id', 'in', cashbackIds).execute();
  const balances = await ledgerBalancesByCashback(db, cashbackIds);
  for (const c of rows) expect(actualBalances(balances.get(c.id))).toEqual(impliedBalances(c));
}
