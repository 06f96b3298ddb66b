/**
 * The job-queue migration on a database that already holds e-mails in the old shape (their own
 * lease columns, one per (kind, cashback_id)): every e-mail keeps its message and state, gets its
 * subject and a job in the matching state; down restores the old shape. A fresh embedded database
 * of its own (the shape of the data, not concurrency, is what is tested).
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { useDatabaseBefore } from '../../test/migration-kit.js';

const MIGRATION = '2026-12-02T0900_job_queue';
const bench = useDatabaseBefore(MIGRATION);

const at = (iso: string) => new Date(iso);

describe(`migration ${MIGRATION}`, () => {
  const ids = { queued: randomUUID(), leased: randomUUID(), sent: randomUUID(), failed: randomUUID() };
  const cashbackId = randomUUID();
  const userId = randomUUID();

  it('moves e-mails onto the queue with their subject, attempts, due time, lease and errors, and back down', async () => {
    // Old-shape rows; their user and cashback rows do not matter here (foreign keys off for the insert).
    await bench.db.transaction().execute(async (trx) => {
      await sql`set local session_replication_role = replica`.execute(trx);
      const email = (id: string, kind: string, fields: Record<string, unknown>) => ({
        id,
        user_id: userId,
        kind,
        cashback_id: fields.cashback_id ?? randomUUID(),
        recipient: 'someone@example.com',
        subject: `subject ${id}`,
        body: 'body',
        ...fields,
      });
      await trx
        .insertInto('emails')
        .values([
          email(ids.queued, 'CASHBACK_CONFIRMED', { cashback_id: cashbackId, attempts: 2, next_attempt_at: at('2030-01-01T00:00:00Z'), last_error: '451 busy' }),
          email(ids.leased, 'CASHBACK_CREDITED', { cashback_id: cashbackId, attempts: 1, lease_token: randomUUID(), leased_until: at('2030-01-01T00:10:00Z') }),
          email(ids.sent, 'CASHBACK_CONFIRMED', { status: 'SENT', attempts: 1, sent_at: at('2029-12-31T00:00:00Z') }),
          email(ids.failed, 'CASHBACK_CONFIRMED', { status: 'FAILED', attempts: 8, last_error: '550 no such user' }),
        ])
        .execute();
    });

    const { error } = await bench.migrateTo(MIGRATION);
    expect(error).toBeUndefined();

    const emails = await bench.db.selectFrom('emails').selectAll().orderBy('subject').execute();
    expect(emails.map((e) => Object.keys(e).sort())[0]).toEqual(
      ['body', 'created_at', 'id', 'kind', 'recipient', 'sent_at', 'status', 'subject', 'subject_id', 'subject_type', 'user_id'].sort(),
    );
    const email = (id: string) => emails.find((e) => e.id === id);
    expect(email(ids.queued)).toMatchObject({ subject_type: 'Cashback', subject_id: cashbackId, status: 'QUEUED' });
    expect(email(ids.sent)).toMatchObject({ subject_type: 'Cashback', status: 'SENT', sent_at: at('2029-12-31T00:00:00Z') });

    const job = (id: string) => bench.db.selectFrom('queued_jobs').selectAll().where('queue', '=', 'emails').where('key', '=', id).executeTakeFirstOrThrow();
    expect(await job(ids.queued)).toMatchObject({ status: 'QUEUED', attempts: 2, run_at: at('2030-01-01T00:00:00Z'), last_error: '451 busy', lease_token: null, payload: { emailId: ids.queued } });
    expect(await job(ids.leased)).toMatchObject({ status: 'RUNNING', attempts: 1, leased_until: at('2030-01-01T00:10:00Z'), lease_token: expect.any(String) });
    expect(await job(ids.sent)).toMatchObject({ status: 'DONE', attempts: 1, finished_at: at('2029-12-31T00:00:00Z') });
    expect(await job(ids.failed)).toMatchObject({ status: 'DEAD', attempts: 8, last_error: '550 no such user' });

    // One e-mail per (kind, subject), as there was one per (kind, cashback).
    await expect(
      bench.db
        .insertInto('emails')
        .values({ user_id: userId, kind: 'CASHBACK_CONFIRMED', subject_type: 'Cashback', subject_id: cashbackId, recipient: 'x@example.com', subject: 's', body: 'b' })
        .execute(),
    ).rejects.toThrow(/emails_kind_subject_key/);

    // Down: the old shape, with the jobs' state back on the rows (foreign keys off again: the
    // made-up cashbacks do not exist; the embedded database is one session, so this holds).
    await sql`set session_replication_role = replica`.execute(bench.db);
    const down = await bench.migrateTo(bench.before);
    await sql`set session_replication_role = origin`.execute(bench.db);
    expect(down.error).toBeUndefined();
    const old = await bench.db.selectFrom('emails').selectAll().where('id', '=', ids.leased).executeTakeFirstOrThrow();
    expect(old).toMatchObject({ cashback_id: cashbackId, status: 'QUEUED', attempts: 1, leased_until: at('2030-01-01T00:10:00Z') });
    expect(
      (await sql<{ name: string }>`select table_name as name from information_schema.tables where table_name = 'queued_jobs'`.execute(bench.db)).rows,
    ).toEqual([]);
  });
});
