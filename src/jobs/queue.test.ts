/**
 * The durable job queue on the run's database: the state rules on their own, then enqueue,
 * claim, lease takeover and dead letters through real workers. Every test works its own queue
 * (a unique name), so files sharing one Postgres database never see each other's jobs. Time is
 * driven through `now`; the races run on real connections and prove something only on Postgres.
 */
import fc from 'fast-check';
import type { Transaction } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DB, QueuedJobRow } from '../../db/types.js';
import { openTestDatabase, unique } from '../../test/harness.js';
import type { Database } from '../database.js';
import type { Backoff } from '../lib/backoff.js';
import { createLogger } from '../logger.js';
import { enqueue, enqueueMany, settlementFor, workQueue, type JobOutcome, type QueueHandler, type Settlement, type WorkOptions } from './queue.js';
import { countJobsByQueue, findJob, settleJob } from './queue.repository.js';

const seed = process.env.FC_SEED ? Number(process.env.FC_SEED) : Math.floor(Math.random() * 2 ** 31);
console.log(`fast-check seed: ${seed}`);

const SECOND = 1000;
const BACKOFF: Backoff = { baseMs: 10 * SECOND, capMs: 600 * SECOND };
const T0 = new Date('2002-02-02T00:00:00Z');
const at = (ms: number) => new Date(T0.getTime() + ms);

// ---------------------------------------------------------------------------------------------

describe('settlementFor (the state rules)', () => {
  const rules = (attempts: number, maxAttempts: number, outcome: JobOutcome) => settlementFor({ attempts, maxAttempts }, outcome, { now: T0, backoff: BACKOFF, random: 0 });

  it('ends a job DONE when its handler succeeded, whatever attempt it was', () => {
    expect(rules(1, 3, { outcome: 'done' })).toEqual({ status: 'DONE' });
    expect(rules(3, 3, { outcome: 'done' })).toEqual({ status: 'DONE' });
  });

  it('retries a failed attempt with the backoff of its attempt number and spends the attempt', () => {
    expect(rules(1, 3, { outcome: 'failed', error: 'boom' })).toEqual({ status: 'QUEUED', runAt: at(10 * SECOND), error: 'boom', refundAttempt: false });
    expect(rules(2, 3, { outcome: 'failed', error: 'boom' })).toEqual({ status: 'QUEUED', runAt: at(20 * SECOND), error: 'boom', refundAttempt: false });
  });

  it('honours the delay a handler gives (e.g. Retry-After) instead of the backoff', () => {
    expect(rules(1, 3, { outcome: 'failed', error: '429', retryAfterMs: 120 * SECOND })).toMatchObject({ status: 'QUEUED', runAt: at(120 * SECOND) });
    expect(rules(1, 3, { outcome: 'retry', error: 'later', retryAfterMs: 0 })).toMatchObject({ status: 'QUEUED', runAt: T0, refundAttempt: true });
  });

  it('dead-letters a job that failed its last attempt, or that its handler says can never succeed', () => {
    expect(rules(3, 3, { outcome: 'failed', error: 'boom' })).toEqual({ status: 'DEAD', error: 'boom' });
    expect(rules(1, 3, { outcome: 'dead', error: 'gone' })).toEqual({ status: 'DEAD', error: 'gone' });
  });

  it('gives the attempt back when the job was deferred or its service unavailable, even on the last attempt', () => {
    expect(rules(3, 3, { outcome: 'retry', error: 'not yet' })).toEqual({ status: 'QUEUED', runAt: at(40 * SECOND), error: 'not yet', refundAttempt: true });
    expect(rules(3, 3, { outcome: 'unavailable', error: 'ECONNREFUSED' })).toEqual({ status: 'QUEUED', runAt: T0, error: 'ECONNREFUSED', refundAttempt: true });
  });

  it('never schedules a job in the past, and only a failure on the last attempt or a dead outcome buries it (property)', () => {
    const outcome = fc.oneof(
      fc.constant<JobOutcome>({ outcome: 'done' }),
      fc.record({ outcome: fc.constant('failed' as const), error: fc.string(), retryAfterMs: fc.option(fc.integer({ min: -1000, max: 10 ** 9 }), { nil: undefined }) }),
      fc.record({ outcome: fc.constant('retry' as const), error: fc.string(), retryAfterMs: fc.option(fc.integer({ min: -1000, max: 10 ** 9 }), { nil: undefined }) }),
      fc.record({ outcome: fc.constant('unavailable' as const), error: fc.string() }),
      fc.record({ outcome: fc.constant('dead' as const), error: fc.string() }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 50 }), fc.integer({ min: 0, max: 60 }), outcome, fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (max, used, o, random) => {
        const attempts = Math.min(used, max) || 1;
        const s = settlementFor({ attempts, maxAttempts: max }, o, { now: T0, backoff: { ...BACKOFF, jitter: 0.5 }, random });
        if (s.status === 'QUEUED') {
          expect(s.runAt.getTime()).toBeGreaterThanOrEqual(T0.getTime());
          expect(s.refundAttempt).toBe(o.outcome !== 'failed');
          // A failed attempt is retried only while attempts are left.
          if (o.outcome === 'failed') expect(attempts).toBeLessThan(max);
        }
        if (s.status === 'DEAD') expect(o.outcome === 'dead' || (o.outcome === 'failed' && attempts >= max)).toBe(true);
        expect(s.status === 'DONE').toBe(o.outcome === 'done');
      }),
      { seed, numRuns: 500 },
    );
  });
});

// ---------------------------------------------------------------------------------------------

let database: Database;
beforeAll(async () => {
  database = await openTestDatabase(6);
});
afterAll(async () => {
  await database?.close();
});

function capturedLogger() {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({ logLevel: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { logger, lines };
}

/** A handler whose outcome per call the test decides; it records every run and every record. */
function testHandler(queue: string, run: (job: QueuedJobRow) => Promise<JobOutcome> = async () => ({ outcome: 'done' })) {
  const runs: string[] = [];
  const records: { key: string; status: Settlement['status'] }[] = [];
  const handler: QueueHandler = {
    queue,
    async run(job) {
      runs.push(job.key);
      return run(job);
    },
    async record(_trx, job, settlement) {
      records.push({ key: job.key, status: settlement.status });
    },
    logFields: (job) => ({ key: job.key }),
  };
  return { handler, runs, records };
}

const job = (queue: string, key: string) => findJob(database.db, queue, key).then((row) => row!);
const inTransaction = <T>(fn: (trx: Transaction<DB>) => Promise<T>) => database.db.transaction().execute(fn);

async function enqueueKeys(queue: string, keys: string[], options: { runAt?: Date; maxAttempts?: number } = {}) {
  await inTransaction((trx) => enqueueMany(trx, queue, keys.map((key) => ({ key, payload: { n: key }, runAt: options.runAt ?? T0, maxAttempts: options.maxAttempts }))));
}

const work = (handler: QueueHandler, options: Partial<WorkOptions> & { now: () => Date }) =>
  workQueue(database.db, handler, { logger: createLogger({ logLevel: 'silent' }), maxAttempts: 5, backoff: BACKOFF, random: () => 0, ...options });

describe('the durable queue', () => {
  it('enqueues in the caller’s transaction, once per key, and nothing for work that rolled back', async () => {
    const queue = unique('q-enqueue');
    expect(await inTransaction((trx) => enqueue(trx, queue, { key: 'a', payload: { emailId: 'x' }, runAt: T0, maxAttempts: 4 }))).toBe(true);
    expect(await inTransaction((trx) => enqueue(trx, queue, { key: 'a', payload: { other: true } }))).toBe(false);
    await expect(
      inTransaction(async (trx) => {
        await enqueue(trx, queue, { key: 'b' });
        throw new Error('rolled back on purpose');
      }),
    ).rejects.toThrow('rolled back on purpose');

    const rows = await database.db.selectFrom('queued_jobs').selectAll().where('queue', '=', queue).execute();
    expect(rows).toEqual([
      expect.objectContaining({ key: 'a', payload: { emailId: 'x' }, status: 'QUEUED', attempts: 0, max_attempts: 4, run_at: T0, lease_token: null, leased_until: null, last_error: null }),
    ]);
    // The same key in another queue is another job.
    expect(await inTransaction((trx) => enqueue(trx, unique('q-other'), { key: 'a' }))).toBe(true);
  });

  it('runs every job exactly once with two workers racing for them (proves the race on Postgres)', async () => {
    const queue = unique('q-race');
    const keys = Array.from({ length: 40 }, (_, i) => `job-${String(i).padStart(2, '0')}`);
    await enqueueKeys(queue, keys);
    const { handler, runs } = testHandler(queue, async () => {
      await new Promise((resolve) => setImmediate(resolve));
      return { outcome: 'done' };
    });
    // One job per claim so the two workers keep racing for the next row.
    const worker = async () => {
      let done = 0;
      for (let round = 0; round < 200; round++) {
        const r = await work(handler, { now: () => T0, limit: 1 });
        done += r.done;
        if (r.done + r.dead + r.retried === 0) return done;
      }
      throw new Error('the queue did not drain');
    };
    const [a, b] = await Promise.all([worker(), worker()]);

    expect(a + b).toBe(keys.length);
    expect([...runs].sort()).toEqual(keys);
    const rows = await database.db.selectFrom('queued_jobs').selectAll().where('queue', '=', queue).execute();
    expect(rows).toHaveLength(keys.length);
    for (const row of rows) expect(row).toMatchObject({ status: 'DONE', attempts: 1, lease_token: null, leased_until: null, finished_at: T0 });
  });

  it('takes over the job of a worker that died mid-run once its lease expired, and the dead worker cannot settle it late', async () => {
    const queue = unique('q-takeover');
    await enqueueKeys(queue, ['only']);
    const leaseMs = 60 * SECOND;
    const { logger, lines } = capturedLogger();

    // Worker A claims, then hangs in its handler (as a killed process would never come back).
    let started!: () => void;
    const running = new Promise<void>((resolve) => (started = resolve));
    let finishA!: (outcome: JobOutcome) => void;
    const a = testHandler(queue, () => {
      started();
      return new Promise<JobOutcome>((resolve) => (finishA = resolve));
    });
    const workerA = work(a.handler, { now: () => T0, leaseMs, logger });
    await running;
    const claimed = await job(queue, 'only');
    expect(claimed).toMatchObject({ status: 'RUNNING', attempts: 1, leased_until: at(leaseMs) });
    const staleToken = claimed.lease_token!;
    expect(staleToken).toEqual(expect.any(String));

    // While the lease holds, nobody else takes it.
    const b = testHandler(queue);
    expect(await work(b.handler, { now: () => at(leaseMs - 1), leaseMs })).toEqual({ done: 0, dead: 0, retried: 0 });
    expect(b.runs).toEqual([]);

    // After it, worker B does: a new lease, a second attempt, done.
    expect(await work(b.handler, { now: () => at(leaseMs), leaseMs })).toEqual({ done: 1, dead: 0, retried: 0 });
    const done = await job(queue, 'only');
    expect(done).toMatchObject({ status: 'DONE', attempts: 2, lease_token: null, finished_at: at(leaseMs) });
    expect(b.records).toEqual([{ key: 'only', status: 'DONE' }]);

    // A wakes up: its token settles nothing, its record hook never runs.
    expect(await settleJob(database.db, { id: claimed.id, leaseToken: staleToken }, { status: 'DEAD', error: 'late' }, at(2 * leaseMs))).toBe(false);
    finishA({ outcome: 'failed', error: 'connection reset' });
    expect(await workerA).toEqual({ done: 0, dead: 0, retried: 0 });
    expect(await job(queue, 'only')).toEqual(done);
    expect(a.records).toEqual([]);
    expect(lines.filter((l) => l.key === 'only').map((l) => l.msg)).toEqual(['job failed after its lease was taken over']);
  });

  it('dead-letters a job after its max attempts, with backoff between them, and never runs it again', async () => {
    const queue = unique('q-dead');
    await enqueueKeys(queue, ['poison'], { maxAttempts: 3 });
    await enqueueKeys(queue, ['default'], { runAt: at(10_000 * SECOND) });
    const { handler, runs, records } = testHandler(queue, async () => ({ outcome: 'failed', error: 'refused' }));
    const { logger, lines } = capturedLogger();

    let now = T0;
    for (let attempt = 1; attempt <= 3; attempt++) {
      const r = await work(handler, { now: () => now, logger, maxAttempts: 10 });
      expect(r).toEqual(attempt < 3 ? { done: 0, dead: 0, retried: 1 } : { done: 0, dead: 1, retried: 0 });
      const row = await job(queue, 'poison');
      expect(row).toMatchObject({ status: attempt < 3 ? 'QUEUED' : 'DEAD', attempts: attempt, last_error: 'refused', lease_token: null });
      if (attempt < 3) {
        // 10 s after the first failure, 20 s after the second; not a moment before.
        expect(row.run_at).toEqual(new Date(now.getTime() + 10 * SECOND * 2 ** (attempt - 1)));
        const early = await work(handler, { now: () => new Date(row.run_at.getTime() - 1), maxAttempts: 10 });
        expect(early.retried + early.dead + early.done).toBe(0);
        now = row.run_at;
      } else {
        expect(row.finished_at).toEqual(now);
      }
    }
    expect(runs).toEqual(['poison', 'poison', 'poison']);
    expect(records).toEqual([
      { key: 'poison', status: 'QUEUED' },
      { key: 'poison', status: 'QUEUED' },
      { key: 'poison', status: 'DEAD' },
    ]);
    expect(lines.filter((l) => l.key === 'poison').map((l) => [l.msg, l.attempt])).toEqual([
      ['job failed; will retry', 1],
      ['job failed; will retry', 2],
      ['job failed; giving up', 3],
    ]);
    expect((await countJobsByQueue(database.db))[queue]).toEqual({ DEAD: 1, QUEUED: 1 });

    // A day later: nothing to claim but the job with the worker's default of attempts.
    await work(handler, { now: () => at(100_000 * SECOND), maxAttempts: 2 });
    await work(handler, { now: () => at(200_000 * SECOND), maxAttempts: 2 });
    expect(runs).toEqual(['poison', 'poison', 'poison', 'default', 'default']);
    expect(await job(queue, 'poison')).toMatchObject({ status: 'DEAD', attempts: 3 });
    expect(await job(queue, 'default')).toMatchObject({ status: 'DEAD', attempts: 2, max_attempts: null });
  });

  it('buries a job whose lease expired on its last attempt instead of running it again (a job that kills its worker)', async () => {
    const queue = unique('q-killer');
    await enqueueKeys(queue, ['killer'], { maxAttempts: 1 });
    const leaseMs = 30 * SECOND;
    let startedA = false;
    const a = testHandler(queue, () => {
      startedA = true;
      return new Promise<JobOutcome>(() => {});
    });
    void work(a.handler, { now: () => T0, leaseMs });
    await expect.poll(() => startedA).toBe(true);

    const b = testHandler(queue);
    expect(await work(b.handler, { now: () => at(leaseMs), leaseMs })).toEqual({ done: 0, dead: 1, retried: 0 });
    expect(b.runs).toEqual([]);
    expect(b.records).toEqual([{ key: 'killer', status: 'DEAD' }]);
    expect(await job(queue, 'killer')).toMatchObject({
      status: 'DEAD',
      attempts: 1,
      lease_token: null,
      leased_until: null,
      last_error: 'lease expired on the last attempt',
      finished_at: at(leaseMs),
    });
  });

  it('spends no attempt when the handler defers a job or its service is unavailable, and claims nothing while it stays down', async () => {
    const queue = unique('q-unavailable');
    await enqueueKeys(queue, ['a', 'b', 'c'], { maxAttempts: 1 });
    let answer: JobOutcome = { outcome: 'unavailable', error: 'connect ECONNREFUSED' };
    let up = true;
    const { handler, runs } = testHandler(queue, async () => answer);
    handler.available = async () => up;

    // The first job finds the service down: it and the rest of the batch go back, due now.
    expect(await work(handler, { now: () => T0 })).toEqual({ done: 0, dead: 0, retried: 3 });
    expect(runs).toHaveLength(1);
    const first = runs[0]!;
    for (const key of ['a', 'b', 'c']) {
      expect(await job(queue, key)).toMatchObject({ status: 'QUEUED', attempts: 0, run_at: T0, lease_token: null });
    }

    // Known to be down: nothing is claimed, however often the worker comes round.
    up = false;
    for (let i = 0; i < 3; i++) expect(await work(handler, { now: () => at(i * SECOND) })).toEqual({ done: 0, dead: 0, retried: 0 });
    expect(runs).toEqual([first]);

    // Up again, one job asks to be run later (a given delay, no attempt spent), the others go.
    up = true;
    handler.run = async (job) => {
      runs.push(job.key);
      return job.key === 'b' ? { outcome: 'retry', error: 'not yet', retryAfterMs: 90 * SECOND } : { outcome: 'done' };
    };
    answer = { outcome: 'done' };
    expect(await work(handler, { now: () => at(5 * SECOND) })).toEqual({ done: 2, dead: 0, retried: 1 });
    expect(await job(queue, 'b')).toMatchObject({ status: 'QUEUED', attempts: 0, run_at: at(95 * SECOND), last_error: 'not yet' });
    expect(await work(handler, { now: () => at(95 * SECOND) })).toEqual({ done: 0, dead: 0, retried: 1 });
    // (b deferred itself once more; it still has its one attempt.)
    expect(await job(queue, 'b')).toMatchObject({ status: 'QUEUED', attempts: 0 });
    for (const key of ['a', 'c']) expect(await job(queue, key)).toMatchObject({ status: 'DONE', attempts: 1 });
  });
});
