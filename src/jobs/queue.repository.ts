/**
 * The durable job queue's SQL (table `queued_jobs`, owned by the queue, below the modules).
 *
 * A job is enqueued in the caller's transaction, so it exists exactly when the work that asks for
 * it committed; its key is unique per queue, so enqueuing twice is a no-op. Workers claim due jobs
 * with one statement (`FOR UPDATE SKIP LOCKED`) that stamps a lease (a random token and an
 * expiry) and counts the attempt; the handler then runs outside any transaction, and only the
 * holder of the token may settle the job. A RUNNING job whose lease expired (its worker died or
 * stalled) is due again and is claimed like a queued one; the stale token then matches nothing.
 */
import { sql, type Kysely, type RawBuilder, type Transaction } from 'kysely';
import type { DB, JobStatus, QueuedJobRow } from '../../db/types.js';
import { MAX_ERROR_LENGTH } from '../lib/error-text.js';

export interface NewJob {
  /** Unique per queue: a second job with this key is not added (the first one stands). */
  key: string;
  /** Identifiers the handler needs; never a secret or card data (it is stored as is). */
  payload?: Record<string, unknown>;
  /** Not before this time (default: now). */
  runAt?: Date;
  /** Attempts before the job is DEAD; unset: the worker's default for its queue. */
  maxAttempts?: number;
}

/** Adds jobs to `queue` in the caller's transaction; returns the keys that were new. */
export async function enqueueJobs(trx: Transaction<DB>, queue: string, jobs: readonly NewJob[]): Promise<string[]> {
  if (jobs.length === 0) return [];
  const rows = await trx
    .insertInto('queued_jobs')
    .values(
      jobs.map((job) => ({
        queue,
        key: job.key,
        payload: JSON.stringify(job.payload ?? {}),
        ...(job.runAt ? { run_at: job.runAt } : {}),
        max_attempts: job.maxAttempts ?? null,
      })),
    )
    .onConflict((oc) => oc.columns(['queue', 'key']).doNothing())
    .returning('key')
    .execute();
  return rows.map((row) => row.key);
}

/**
 * The INSERT enqueuing jobs on `queue` for the rows of `source` (a query or a step's name
 * yielding `key` text and `payload` jsonb), as one step of a larger statement: a module that
 * inserts rows and their jobs together (e-mails) does both in one round trip. Keys already queued
 * are skipped, as with `enqueueJobs`.
 */
export function jobsInsertFrom(queue: string, source: RawBuilder<unknown>): RawBuilder<unknown> {
  return sql`insert into queued_jobs (queue, key, payload)
    select ${queue}, j.key, j.payload from ${source} as j(key, payload)
    on conflict (queue, key) do nothing`;
}

/** A job this worker holds a lease on: only the holder of `lease_token` may settle it. */
export type ClaimedJob = QueuedJobRow & { status: 'RUNNING'; lease_token: string; leased_until: Date };

export interface ClaimResult {
  /** Leased to the caller, attempt counted, oldest due first. */
  claimed: ClaimedJob[];
  /** Taken over after an expired lease on their last attempt: now DEAD, not run again. */
  buried: QueuedJobRow[];
}

/**
 * Leases up to `limit` due jobs of `queue` to the caller. Due: QUEUED with `run_at` passed, or
 * RUNNING with an expired lease. One statement, so row locks last only as long as it runs;
 * `SKIP LOCKED` lets concurrent claimers pass over each other's rows, and a row another claimer
 * updated first is re-checked against the due condition, so no job is claimed twice. A job whose
 * lease expired on its last attempt (a handler that kills its worker every time) is DEAD instead.
 */
export async function claimJobs(
  db: Kysely<DB>,
  queue: string,
  options: { now: Date; limit: number; leaseMs: number; defaultMaxAttempts: number },
): Promise<ClaimResult> {
  const { now, limit, leaseMs, defaultMaxAttempts } = options;
  const leasedUntil = new Date(now.getTime() + leaseMs);
  const exhausted = sql<boolean>`(queued_jobs.status = 'RUNNING' and queued_jobs.attempts >= coalesce(queued_jobs.max_attempts, ${defaultMaxAttempts}))`;
  const rows = await db
    .with('due', (qb) =>
      qb
        .selectFrom('queued_jobs')
        .select('id')
        .where('queue', '=', queue)
        .where((eb) =>
          eb.or([
            eb.and([eb('status', '=', 'QUEUED'), eb('run_at', '<=', now)]),
            eb.and([eb('status', '=', 'RUNNING'), eb('leased_until', '<=', now)]),
          ]),
        )
        .orderBy('run_at')
        .orderBy('id')
        .limit(limit)
        .forUpdate()
        .skipLocked(),
    )
    .updateTable('queued_jobs')
    .from('due')
    .whereRef('queued_jobs.id', '=', 'due.id')
    .set({
      status: sql<JobStatus>`case when ${exhausted} then 'DEAD' else 'RUNNING' end`,
      lease_token: sql<string | null>`case when ${exhausted} then null else gen_random_uuid() end`,
      leased_until: sql<Date | null>`case when ${exhausted} then null else ${leasedUntil}::timestamptz end`,
      attempts: sql<number>`case when ${exhausted} then queued_jobs.attempts else queued_jobs.attempts + 1 end`,
      last_error: sql<string | null>`case when ${exhausted} then 'lease expired on the last attempt' else queued_jobs.last_error end`,
      finished_at: sql<Date | null>`case when ${exhausted} then ${now}::timestamptz else null end`,
      updated_at: now,
    })
    .returningAll('queued_jobs')
    .execute();
  // UPDATE … RETURNING keeps no order: restore the claim's.
  const byDue = (a: QueuedJobRow, b: QueuedJobRow) => a.run_at.getTime() - b.run_at.getTime() || a.id.localeCompare(b.id);
  return {
    claimed: (rows.filter((r) => r.status === 'RUNNING') as ClaimedJob[]).sort(byDue),
    buried: rows.filter((r) => r.status === 'DEAD').sort(byDue),
  };
}

/** How a leased job ends this attempt. */
export type Settlement =
  | { status: 'DONE' }
  | { status: 'DEAD'; error: string }
  /** Due again at `runAt`; `refundAttempt` gives back the attempt the claim counted. */
  | { status: 'QUEUED'; runAt: Date; error: string; refundAttempt: boolean };

/**
 * Settles a leased job. False when the lease was lost (expired and taken over, or the job already
 * settled): then nothing changes. Conditional on the token, so repeating it changes nothing twice.
 */
export async function settleJob(
  db: Kysely<DB> | Transaction<DB>,
  job: { id: string; leaseToken: string },
  settlement: Settlement,
  now: Date,
): Promise<boolean> {
  const released = { lease_token: null, leased_until: null, updated_at: now };
  const update =
    settlement.status === 'DONE'
      ? db.updateTable('queued_jobs').set({ ...released, status: 'DONE', finished_at: now })
      : settlement.status === 'DEAD'
        ? db.updateTable('queued_jobs').set({ ...released, status: 'DEAD', finished_at: now, last_error: settlement.error.slice(0, MAX_ERROR_LENGTH) })
        : db.updateTable('queued_jobs').set((eb) => ({
            ...released,
            status: 'QUEUED',
            run_at: settlement.runAt,
            last_error: settlement.error.slice(0, MAX_ERROR_LENGTH),
            attempts: settlement.refundAttempt ? sql<number>`greatest(${eb.ref('attempts')} - 1, 0)` : eb.ref('attempts'),
          }));
  const result = await update
    .where('id', '=', job.id)
    .where('status', '=', 'RUNNING')
    .where('lease_token', '=', job.leaseToken)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

export async function findJob(db: Kysely<DB>, queue: string, key: string): Promise<QueuedJobRow | undefined> {
  return db.selectFrom('queued_jobs').selectAll().where('queue', '=', queue).where('key', '=', key).executeTakeFirst();
}

/** Unfinished and dead jobs per queue and status (depth and dead letters, for metrics); one grouped read. */
export async function countJobsByQueue(db: Kysely<DB>): Promise<Record<string, Partial<Record<JobStatus, number>>>> {
  const rows = await db
    .selectFrom('queued_jobs')
    .select(['queue', 'status', (eb) => eb.fn.countAll<number>().as('count')])
    // DONE jobs are history (and the bulk of the table): not counted.
    .where('status', 'in', ['QUEUED', 'RUNNING', 'DEAD'])
    .groupBy(['queue', 'status'])
    .execute();
  const counts: Record<string, Partial<Record<JobStatus, number>>> = {};
  for (const row of rows) (counts[row.queue] ??= {})[row.status] = Number(row.count);
  return counts;
}
