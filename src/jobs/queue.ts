/**
 * The durable job queue: work that must happen at least once, outside the request that asked for
 * it (e-mails, webhook deliveries), shared by every instance without doing anything twice.
 *
 * Why our own queue on a table rather than a queue library: it must run the same on Postgres and
 * on the embedded PGlite (one session, no LISTEN across processes, no extensions), the job must be
 * enqueued in the transaction of the change it belongs to (so it exists exactly when that change
 * committed), and nothing but the database may be required. pg-boss and graphile-worker need a
 * Postgres server with their own schema and connections; BullMQ needs Redis.
 *
 * A module enqueues with `enqueue(trx, queue, { key, payload, runAt, maxAttempts })` and declares
 * a `QueueHandler` that its job runs with `queueJob`. A round claims due jobs (lease + SKIP
 * LOCKED, see queue.repository.ts), runs the handler for each outside any transaction (holding
 * row locks through a slow SMTP or HTTP conversation would block the embedded database's single
 * session), and settles each job in a short transaction that also runs the handler's `record`,
 * conditional on the lease: a worker whose lease was taken over cannot settle the job late.
 *
 * What leases cannot rule out is a crash after the handler's effect and before the job was
 * settled: the job then runs again after its lease. Handlers make that harmless (an e-mail keeps
 * its Message-ID, a webhook its id) so receivers can drop the duplicate.
 */
import type { Kysely, Transaction } from 'kysely';
import type { DB, QueuedJobRow } from '../../db/types.js';
import type { Logger } from '../logger.js';
import { backoffMs, sleep, type Backoff } from '../lib/backoff.js';
import { describeError } from '../lib/error-text.js';
import type { Job } from './job-runner.js';
import { claimJobs, enqueueJobs, jobsInsertFrom, settleJob, type ClaimedJob, type NewJob, type Settlement } from './queue.repository.js';

export type { ClaimedJob, NewJob, Settlement };

/** Adds a job in the caller's transaction; false when the queue already holds one with its key. */
export async function enqueue(trx: Transaction<DB>, queue: string, job: NewJob): Promise<boolean> {
  return (await enqueueJobs(trx, queue, [job])).length > 0;
}

export { enqueueJobs as enqueueMany, jobsInsertFrom };

/** What a handler says about one attempt. */
export type JobOutcome =
  | { outcome: 'done' }
  /** This attempt failed: retried after `retryAfterMs` (e.g. a Retry-After) or the backoff, DEAD after the last attempt. */
  | { outcome: 'failed'; error: string; retryAfterMs?: number }
  /** Not now, through no fault of the job: retried later (after `retryAfterMs` or the backoff) without spending an attempt. */
  | { outcome: 'retry'; error: string; retryAfterMs?: number }
  /**
   * What the handler talks to cannot be reached: this job and the rest of the batch are handed
   * back, due now, without spending an attempt (`available()` then tells when to claim again).
   */
  | { outcome: 'unavailable'; error: string }
  /** Can never succeed: DEAD now, whatever attempts are left. */
  | { outcome: 'dead'; error: string };

export interface QueueHandler {
  queue: string;
  /** Checked before each claim: false claims nothing this round (a service known to be down). */
  available?(): Promise<boolean>;
  /** One attempt at the job. A throw counts as `failed` with the error's (scrubbed) message. */
  run(job: ClaimedJob): Promise<JobOutcome>;
  /**
   * The handler's own record of how the job ended, in the transaction that settles it and only
   * while this worker still holds the lease (e.g. the e-mail row turns SENT or FAILED).
   */
  record?(trx: Transaction<DB>, job: QueuedJobRow, settlement: Settlement, now: Date): Promise<void>;
  /** Identifiers to log with each job (never personal data or secrets). */
  logFields?(job: QueuedJobRow): Record<string, unknown>;
  /** Releases what the handler holds when the worker stops. */
  close?(): void;
}

export interface WorkOptions {
  logger: Logger;
  /** Attempts for jobs enqueued without their own `maxAttempts`. */
  maxAttempts: number;
  /** Wait after a failed attempt (by attempt number), unless the handler gives one. */
  backoff: Backoff;
  now?: () => Date;
  /** Most jobs claimed by one round. */
  limit?: number;
  /** How long a claim holds; past it, another worker may take the job over. */
  leaseMs?: number;
  /** In [0, 1): the backoff's jitter (tests fix it). */
  random?: () => number;
}

export interface WorkResult {
  done: number;
  /** Dead for good this round. */
  dead: number;
  /** Scheduled again (failed, deferred or handed back). */
  retried: number;
}

export const DEFAULT_LEASE_MS = 10 * 60_000;

/**
 * The state rule: how an attempt's outcome settles a job that has spent `attempts` (this one
 * included) of `maxAttempts`. Pure, so the rules are tested on their own.
 */
export function settlementFor(
  job: { attempts: number; maxAttempts: number },
  outcome: JobOutcome,
  options: { now: Date; backoff: Backoff; random: number },
): Settlement {
  const later = (ms: number | undefined) => new Date(options.now.getTime() + Math.max(0, ms ?? backoffMs(job.attempts, options.backoff, options.random)));
  switch (outcome.outcome) {
    case 'done':
      return { status: 'DONE' };
    case 'dead':
      return { status: 'DEAD', error: outcome.error };
    case 'failed':
      return job.attempts >= job.maxAttempts
        ? { status: 'DEAD', error: outcome.error }
        : { status: 'QUEUED', runAt: later(outcome.retryAfterMs), error: outcome.error, refundAttempt: false };
    case 'retry':
      return { status: 'QUEUED', runAt: later(outcome.retryAfterMs), error: outcome.error, refundAttempt: true };
    case 'unavailable':
      return { status: 'QUEUED', runAt: options.now, error: outcome.error, refundAttempt: true };
  }
}

/**
 * Records an outcome, trying again when the database connection dropped meanwhile (the pool
 * opens a new one): once the handler's effect happened, losing the record would repeat it when
 * the lease expires. The update is conditional on the lease, so a repeat changes nothing twice.
 */
async function persist<T>(record: () => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await record();
    } catch (error) {
      if (attempt >= attempts) throw error;
      await sleep(backoffMs(attempt, { baseMs: 100, capMs: 1000 }));
    }
  }
}

/**
 * One round of a queue: claims the due jobs and runs them one after another. Each ends done,
 * scheduled again or DEAD; one whose lease this worker lost is left to the worker that holds it.
 */
export async function workQueue(db: Kysely<DB>, handler: QueueHandler, options: WorkOptions): Promise<WorkResult> {
  const now = options.now ?? (() => new Date());
  const random = options.random ?? Math.random;
  const { logger, queue } = { logger: options.logger, queue: handler.queue };
  const result: WorkResult = { done: 0, dead: 0, retried: 0 };
  if (handler.available && !(await handler.available())) {
    logger.debug({ queue }, 'queue service unavailable; jobs wait');
    return result;
  }
  const fieldsOf = (job: QueuedJobRow) => ({ queue, jobId: job.id, attempt: job.attempts, ...handler.logFields?.(job) });

  // Buried jobs (lease expired on their last attempt) get their record in the claim's transaction.
  const { claimed, buried } = await db.transaction().execute(async (trx) => {
    const claim = await claimJobs(trx, queue, {
      now: now(),
      limit: options.limit ?? 20,
      leaseMs: options.leaseMs ?? DEFAULT_LEASE_MS,
      defaultMaxAttempts: options.maxAttempts,
    });
    for (const job of claim.buried) await handler.record?.(trx, job, { status: 'DEAD', error: job.last_error ?? '' }, job.finished_at ?? now());
    return claim;
  });
  for (const job of buried) {
    result.dead++;
    logger.error(fieldsOf(job), 'job lease expired on its last attempt; giving up');
  }

  let unavailable: string | undefined;
  for (const job of claimed) {
    const fields = fieldsOf(job);
    if (unavailable === undefined && now().getTime() >= job.leased_until.getTime()) {
      // Earlier jobs of this batch were slow: another worker may already have this one.
      logger.warn(fields, 'job lease expired before it ran; left to the next claim');
      continue;
    }
    let outcome: JobOutcome;
    if (unavailable !== undefined) {
      // The service went away during this batch: hand the rest back, due now, not failed.
      outcome = { outcome: 'unavailable', error: unavailable };
    } else {
      try {
        outcome = await handler.run(job);
      } catch (error) {
        outcome = { outcome: 'failed', error: describeError(error) };
      }
      if (outcome.outcome === 'unavailable') {
        unavailable = outcome.error;
        logger.warn({ queue, error: outcome.error }, 'queue service unavailable; jobs wait until it answers');
      }
    }

    const at = now();
    const settlement = settlementFor({ attempts: job.attempts, maxAttempts: job.max_attempts ?? options.maxAttempts }, outcome, {
      now: at,
      backoff: options.backoff,
      random: random(),
    });
    const kept = await persist(() =>
      db.transaction().execute(async (trx) => {
        const settled = await settleJob(trx, { id: job.id, leaseToken: job.lease_token }, settlement, at);
        if (settled) await handler.record?.(trx, job, settlement, at);
        return settled;
      }),
    );
    const error = 'error' in outcome ? outcome.error : undefined;
    if (!kept) {
      logger.warn({ ...fields, error }, outcome.outcome === 'done' ? 'job done after its lease was taken over' : 'job failed after its lease was taken over');
    } else if (settlement.status === 'DONE') {
      result.done++;
      logger.info(fields, 'job done');
    } else if (settlement.status === 'DEAD') {
      result.dead++;
      logger.error({ ...fields, error }, 'job failed; giving up');
    } else {
      result.retried++;
      const message = outcome.outcome === 'failed' ? 'job failed; will retry' : outcome.outcome === 'retry' ? 'job deferred; will retry' : 'job handed back; will retry';
      logger.warn({ ...fields, error, runAt: settlement.runAt }, message);
    }
  }
  return result;
}

/** A queue's worker as a background job of the instance (paced by the job runner). */
export function queueJob(db: Kysely<DB>, handler: QueueHandler, options: WorkOptions): Job {
  return {
    name: handler.queue,
    run: async () => {
      const r = await workQueue(db, handler, options);
      return r.done + r.dead + r.retried;
    },
    close: () => handler.close?.(),
  };
}
