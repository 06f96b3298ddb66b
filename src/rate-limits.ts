/**
 * Rate limits, atomic under concurrency and shared by every instance: in Redis when REDIS_URL is
 * set, else in Postgres (`rate_limits`, one upsert per check) when the server runs on one, else
 * in memory (the embedded database serves one process). rate-limiter-flexible does the counting;
 * this file names the budgets and the two ways services use them:
 *
 * - `charge`: count every attempt (operations, sign-ups, ingested items);
 * - `reserve`: take a point before an attempt whose failure counts (a log-in, a card link) and
 *   give it back when the attempt succeeds, so N concurrent attempts can never check more than
 *   the budget allows, whatever their interleaving.
 *
 * When the store fails (database or Redis unreachable), a per-instance memory limiter stands in.
 */
import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import {
  RateLimiterMemory,
  RateLimiterPostgres,
  RateLimiterRedis,
  RateLimiterRes,
  type RateLimiterAbstract,
} from 'rate-limiter-flexible';
import type { Config } from './config.js';
import { createPgPool } from './database.js';
import { fail } from './lib/errors.js';
import { coalesce } from './lib/coalesce.js';
import type { Logger } from './logger.js';

/** Where one budget stands after a check, for RateLimit headers. */
export interface LimitState {
  /** The budget's name and size, as RateLimit-Policy states them. */
  policy: string;
  limit: number;
  windowSeconds: number;
  remaining: number;
  /** Seconds until the window resets. */
  resetSeconds: number;
}

export class RateLimitExceeded extends Error {
  constructor(readonly state: LimitState) {
    super(`rate limit "${state.policy}" exceeded`);
    this.name = 'RateLimitExceeded';
  }
}

export interface Budget {
  readonly policy: string;
  readonly limit: number;
  readonly windowSeconds: number;
  /** Counts `points` against `key`; throws RateLimitExceeded when the budget is spent. */
  charge(key: string, points?: number): Promise<LimitState>;
  /** Gives back points taken for an attempt that turned out not to count. */
  refund(key: string, points?: number): Promise<void>;
}

export interface RateLimits {
  /** Operation cost per minute, by principal (API key, user, client address). */
  operations: { anonymous: Budget; user: Budget; apiKey: Budget };
  loginFailuresByEmail: Budget;
  loginFailuresByAddress: Budget;
  signUpsByAddress: Budget;
  cardLinkFailuresByUser: Budget;
  cardLinkFailuresByAddress: Budget;
  ingestItemsByPartner: Budget;
  /** Rejections since start, by policy (logged and, later, exported as metrics). */
  rejections: Map<string, number>;
  close(): Promise<void>;
}

/** Keys that hold personal data (e-mail addresses) are stored hashed. */
export const hashedKey = (value: string) => createHash('sha256').update(value).digest('base64url').slice(0, 32);

type Store = (options: { keyPrefix: string; points: number; duration: number }) => RateLimiterAbstract;

/** What one charge learns from the store: the points counted in the window up to and including its own. */
export interface Counted {
  consumed: number;
  msBeforeNext: number;
}

/**
 * Charges to one key that arrive while a store call for that key is in flight wait and go to the
 * store together, as one consume of their sum; each then learns its own position in the window
 * (the points before the batch plus those of the charges ahead of it and its own). The count is
 * as exact and atomic as one call per charge, and a busy key costs one store round trip per
 * batch instead of one per request: under the feed's load, the rate limiter's upsert was most of
 * Postgres's CPU per request.
 */
export function coalesceCharges(consume: (key: string, points: number) => Promise<Counted>): (key: string, points: number) => Promise<Counted> {
  return coalesce<number, Counted>(async (key, charges) => {
    const total = charges.reduce((sum, points) => sum + points, 0);
    const { consumed, msBeforeNext } = await consume(key, total);
    let before = consumed - total;
    return charges.map((points) => ({ consumed: (before += points), msBeforeNext }));
  });
}

function budget(store: Store, rejections: Map<string, number>, policy: string, limit: number, windowSeconds: number): Budget {
  const limiter = store({ keyPrefix: `hb:${policy}`, points: limit, duration: windowSeconds });
  const self = { policy, limit, windowSeconds };
  // A consume past the limit still counts its points (as each single charge did), and answers with
  // the window's count either way.
  const count = coalesceCharges(async (key, points) => {
    try {
      const res = await limiter.consume(key, points);
      return { consumed: res.consumedPoints, msBeforeNext: res.msBeforeNext };
    } catch (error) {
      if (!(error instanceof RateLimiterRes)) throw error;
      return { consumed: error.consumedPoints, msBeforeNext: error.msBeforeNext };
    }
  });
  return {
    ...self,
    charge: async (key, points = 1) => {
      const { consumed, msBeforeNext } = await count(key, points);
      const state: LimitState = {
        ...self,
        remaining: Math.max(0, limit - consumed),
        resetSeconds: Math.max(0, Math.ceil(msBeforeNext / 1000)),
      };
      if (consumed <= limit) return state;
      rejections.set(policy, (rejections.get(policy) ?? 0) + 1);
      throw new RateLimitExceeded(state);
    },
    refund: async (key, points = 1) => {
      await limiter.reward(key, points);
    },
  };
}

/** Runs `run` (a charge or reservation); a spent budget becomes the user error RATE_LIMITED. */
export async function withinLimit<T>(logger: Logger, what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (!(error instanceof RateLimitExceeded)) throw error;
    logger.warn({ policy: error.state.policy }, `${what} rate limited`);
    const minutes = Math.max(1, Math.ceil(error.state.resetSeconds / 60));
    return fail('RATE_LIMITED', `Too many attempts; try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`);
  }
}

/** Takes one point from each (budget, key) in turn; gives back what it took if a later one is spent. */
export async function reserveAll(parts: readonly [Budget, string][]): Promise<() => Promise<void>> {
  const taken: [Budget, string][] = [];
  try {
    for (const [b, key] of parts) {
      await b.charge(key);
      taken.push([b, key]);
    }
  } catch (error) {
    await Promise.all(taken.map(([b, key]) => b.refund(key)));
    throw error;
  }
  return async () => {
    await Promise.all(taken.map(([b, key]) => b.refund(key)));
  };
}

export function createRateLimits(options: {
  config: Pick<Config, 'rateLimits' | 'redisUrl'>;
  /** The Postgres server the app runs on, if any (not the embedded database). */
  postgresUrl: string | undefined;
  logger: Logger;
}): RateLimits {
  const { config, postgresUrl, logger } = options;
  const limits = config.rateLimits;
  const closers: (() => Promise<unknown>)[] = [];
  let store: Store;
  let warned = false;
  const insurance = (o: { keyPrefix: string; points: number; duration: number }) => new RateLimiterMemory(o);
  const onStoreError = (error: unknown) => {
    if (warned) return;
    warned = true;
    logger.warn({ err: error }, 'rate-limit store unreachable: limits are counted per instance until it is back');
    setTimeout(() => (warned = false), 60_000).unref();
  };

  if (config.redisUrl) {
    // Commands wait while the client (re)connects, but give up after one retry, so an outage
    // falls to the memory insurance quickly instead of holding requests.
    const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 1 });
    redis.on('error', onStoreError);
    closers.push(() => redis.quit().catch(() => redis.disconnect()));
    store = (o) => new RateLimiterRedis({ ...o, storeClient: redis, insuranceLimiter: insurance(o) });
  } else if (postgresUrl) {
    // A small pool of its own: a limit check never queues behind the app's queries, and the
    // app's statement counts stay those of its own work.
    const pool = createPgPool(postgresUrl, { max: 4 });
    closers.push(() => pool.end());
    let cleaner = true;
    store = (o) => {
      const limiter = new RateLimiterPostgres({
        ...o,
        storeClient: pool,
        storeType: 'pool',
        tableName: 'rate_limits',
        tableCreated: true,
        // One limiter is enough to delete rows whose window ended an hour ago.
        clearExpiredByTimeout: cleaner,
        insuranceLimiter: insurance(o),
      } as ConstructorParameters<typeof RateLimiterPostgres>[0]);
      cleaner = false;
      return limiter;
    };
  } else {
    store = insurance;
  }

  const rejections = new Map<string, number>();
  const make = (policy: string, limit: number, windowSeconds: number) => budget(store, rejections, policy, limit, windowSeconds);
  return {
    operations: {
      anonymous: make('anonymous', limits.anonymousPerMinute, 60),
      user: make('user', limits.userPerMinute, 60),
      apiKey: make('api-key', limits.apiKeyPerMinute, 60),
    },
    loginFailuresByEmail: make('login-email', limits.loginFailuresPerEmail, 15 * 60),
    loginFailuresByAddress: make('login-address', limits.loginFailuresPerAddress, 15 * 60),
    signUpsByAddress: make('signup-address', limits.signUpsPerAddress, 60 * 60),
    cardLinkFailuresByUser: make('card-user', limits.cardLinkFailuresPerUser, 60 * 60),
    cardLinkFailuresByAddress: make('card-address', limits.cardLinkFailuresPerAddress, 60 * 60),
    ingestItemsByPartner: make('ingest', limits.ingestItemsPerMinute, 60),
    rejections,
    close: async () => {
      await Promise.all(closers.map((close) => close()));
    },
  };
}

/** `RateLimit-Policy` and `RateLimit` header values (IETF draft "RateLimit header fields for HTTP"). */
export function rateLimitHeaders(state: LimitState): Record<string, string> {
  return {
    'RateLimit-Policy': `"${state.policy}";q=${state.limit};w=${state.windowSeconds}`,
    RateLimit: `"${state.policy}";r=${state.remaining};t=${state.resetSeconds}`,
  };
}
