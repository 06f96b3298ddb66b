/**
 * The generic-subject migration on a database that already holds events and ledger entries in
 * the old shape (a column per record kind): every event keeps its position, audience and data,
 * gets its subject, and carries in `data` what readers took from the dropped columns; every
 * ledger entry gets its cashback as subject (through the append-only triggers); down restores the
 * old shape. A fresh embedded database of its own (the shape of the data is what is tested).
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { useDatabaseBefore } from '../../test/migration-kit.js';

const MIGRATION = '2026-12-02T0800_subjects';
const bench = useDatabaseBefore(MIGRATION);

describe(`migration ${MIGRATION}`, () => {
  const offerId = randomUUID();
  const merchantId = randomUUID();
  const userId = randomUUID();
  const cashbackId = randomUUID();
  const creditId = randomUUID();

  it('gives events and ledger entries their subject, moves what readers need into data, and back down', async () => {
    // Old-shape rows; the records they name do not matter here (foreign keys off for the insert).
    await bench.db.transaction().execute(async (trx) => {
      await sql`set local session_replication_role = replica`.execute(trx);
      await trx
        .insertInto('events')
        .values([
          { position: 1, topic: 'OFFER', type: 'PUBLISHED', offer_id: offerId, merchant_id: merchantId },
          {
            position: 2,
            topic: 'CASHBACK',
            type: 'CONFIRMED',
            offer_id: offerId,
            merchant_id: merchantId,
            user_id: userId,
            cashback_id: cashbackId,
            data: JSON.stringify({ status: 'CONFIRMED', amount: 630, currency: 'USD', reason: null }),
          },
          {
            position: 3,
            topic: 'STATEMENT_CREDIT',
            type: 'ISSUED',
            offer_id: offerId,
            merchant_id: merchantId,
            user_id: userId,
            cashback_id: cashbackId,
            credit_id: creditId,
            data: JSON.stringify({ amount: 630, currency: 'USD' }),
          },
        ])
        .execute();
      const posting = randomUUID();
      await trx
        .insertInto('ledger_entries')
        .values([
          { posting_id: posting, kind: 'RESERVE', account: 'OFFER_BUDGET', account_id: offerId, amount: -630, currency: 'USD', cashback_id: cashbackId },
          { posting_id: posting, kind: 'RESERVE', account: 'CASHBACK_PAYABLE', account_id: userId, amount: 630, currency: 'USD', cashback_id: cashbackId },
        ])
        .execute();
    });

    const { error } = await bench.migrateTo(MIGRATION);
    expect(error).toBeUndefined();

    const events = await bench.db.selectFrom('events').selectAll().orderBy('position').execute();
    expect(Object.keys(events[0]!).sort()).toEqual(
      ['created_at', 'data', 'id', 'merchant_id', 'position', 'subject_id', 'subject_type', 'topic', 'type', 'user_id'].sort(),
    );
    expect(events.map((e) => [e.position, e.subject_type, e.subject_id, e.merchant_id, e.user_id])).toEqual([
      [1, 'Offer', offerId, merchantId, null],
      [2, 'Cashback', cashbackId, merchantId, userId],
      [3, 'StatementCredit', creditId, merchantId, userId],
    ]);
    expect(events[1]!.data).toEqual({ status: 'CONFIRMED', amount: 630, currency: 'USD', reason: null, offerId });
    expect(events[2]!.data).toEqual({ amount: 630, currency: 'USD', cashbackId, offerId });

    const entries = await bench.db.selectFrom('ledger_entries').selectAll().orderBy('id').execute();
    expect(entries.map((e) => [e.subject_type, e.subject_id, e.amount])).toEqual([
      ['Cashback', cashbackId, -630],
      ['Cashback', cashbackId, 630],
    ]);
    expect(entries[0]).not.toHaveProperty('cashback_id');
    // Still append-only once the rewrite is done.
    await expect(bench.db.updateTable('ledger_entries').set({ amount: 0 }).where('id', '=', entries[0]!.id).execute()).rejects.toThrow(/append-only/);

    // Down: the old columns, filled from subjects and data.
    await sql`set session_replication_role = replica`.execute(bench.db);
    const down = await bench.migrateTo(bench.before);
    await sql`set session_replication_role = origin`.execute(bench.db);
    expect(down.error).toBeUndefined();
    const old = await bench.db.selectFrom('events').select(['position', 'offer_id', 'cashback_id', 'credit_id']).orderBy('position').execute();
    expect(old).toEqual([
      { position: 1, offer_id: offerId, cashback_id: null, credit_id: null },
      { position: 2, offer_id: offerId, cashback_id: cashbackId, credit_id: null },
      { position: 3, offer_id: offerId, cashback_id: cashbackId, credit_id: creditId },
    ]);
    const oldEntries = await bench.db.selectFrom('ledger_entries').select('cashback_id').execute();
    expect(oldEntries).toEqual([{ cashback_id: cashbackId }, { cashback_id: cashbackId }]);
  });
});
