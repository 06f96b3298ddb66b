/**
 * Background jobs of an instance: delivering e-mails, expiring auths that never cleared, and
 * turning confirmed cashback into statement credits. Each job claims its work in the database
 * (SKIP LOCKED, unique keys, conditional updates), so any number of instances may run them at
 * once without doing anything twice; this runner only paces them.
 */
import type { Logger } from '../logger.js';

export interface Job {
  name: string;
  /** Does one round of work; returns how many things it did. */
  run(now: Date): Promise<number>;
  /** Releases what the job holds (connections) when the runner stops. */
  close?(): void;
}

export interface JobRunner {
  /** Runs every job once now (also while the timer runs); resolves with what each did. */
  runOnce(): Promise<Record<string, number>>;
  /** Stops the timer and waits for the round in progress. */
  stop(): Promise<void>;
  /** Failed rounds per job name since start (metrics). */
  readonly failures: ReadonlyMap<string, number>;
}

export function startJobRunner(options: {
  jobs: readonly Job[];
  intervalMs: number;
  logger: Logger;
  autostart?: boolean;
  /** Called after each round (e.g. to deliver the events the jobs wrote). */
  afterRound?: () => void;
}): JobRunner {
  const { jobs, intervalMs, logger } = options;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let round: Promise<Record<string, number>> = Promise.resolve({});
  const failures = new Map<string, number>();

  const runRound = async (): Promise<Record<string, number>> => {
    const done: Record<string, number> = {};
    for (const job of jobs) {
      try {
        done[job.name] = await job.run(new Date());
        if (done[job.name]! > 0) logger.info({ job: job.name, count: done[job.name] }, 'job round');
      } catch (error) {
        failures.set(job.name, (failures.get(job.name) ?? 0) + 1);
        logger.error({ err: error, job: job.name }, 'job failed; retrying next round');
      }
    }
    options.afterRound?.();
    return done;
  };

  const runOnce = () => {
    round = round.then(runRound, runRound);
    return round;
  };

  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      void runOnce().finally(schedule);
    }, intervalMs);
    timer.unref();
  };
  if (options.autostart !== false) schedule();

  return {
    failures,
    runOnce,
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      await round.catch(() => undefined);
      for (const job of jobs) job.close?.();
    },
  };
}
