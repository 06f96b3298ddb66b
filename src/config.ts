/**
 * Configuration: every setting comes from an environment variable, is validated once at start,
 * and a bad value stops the process with one clear line per problem. README's table mirrors this.
 */
import path from 'node:path';
import { z } from 'zod';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
/** Payment gateways this build can charge through (src/modules/payments); `sandbox` decides by test card numbers. */
const PAYMENT_GATEWAYS = ['sandbox'] as const;

/** True or false; empty is unset, as for every other variable (`.env.example` leaves some empty). */
const flag = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', ''], { message: 'must be true or false' })
    .optional()
    .transform((v) => (v === undefined || v === '' ? fallback : v === 'true' || v === '1'));

const integer = (fallback: number, min: number, max: number) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return fallback;
      const n = Number(v);
      if (!Number.isInteger(n) || n < min || n > max) {
        ctx.addIssue({ code: 'custom', message: `must be an integer from ${min} to ${max}, got "${v}"` });
        return z.NEVER;
      }
      return n;
    });

/** An optional URL with one of `schemes`; `named` is how the message names them, `example` shows the form. */
const serviceUrl = (schemes: readonly string[], named: string, example: string) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return undefined;
      let url: URL;
      try {
        url = new URL(v);
      } catch {
        ctx.addIssue({ code: 'custom', message: `must be a URL like ${example}` });
        return z.NEVER;
      }
      if (!schemes.includes(url.protocol.slice(0, -1))) {
        ctx.addIssue({ code: 'custom', message: `must use the ${named} scheme, got "${url.protocol}"` });
        return z.NEVER;
      }
      return v;
    });

const postgresUrl = serviceUrl(['postgres', 'postgresql'], 'postgres://', 'postgres://user@host:5432/db');
const smtpUrl = serviceUrl(['smtp', 'smtps'], 'smtp:// or smtps://', 'smtp://user:pass@host:587');
const redisUrl = serviceUrl(['redis', 'rediss'], 'redis:// or rediss://', 'redis://host:6379');

const SECRET_VARIABLES = new Set(['DATABASE_URL', 'TOKEN_SECRET', 'CARD_ENCRYPTION_KEYS', 'CARD_FINGERPRINT_KEY', 'SMTP_URL', 'REDIS_URL', 'DEMO_PARTNER_KEY', 'METRICS_TOKEN']);

const schema = z.object({
  NODE_ENV: z
    .enum(['development', 'production', 'test'], { message: 'must be development, production or test' })
    .default('development'),
  HOST: z.string().min(1).default('0.0.0.0'),
  PORT: integer(4000, 0, 65535),
  DATABASE_URL: postgresUrl,
  DATABASE_POOL_SIZE: integer(10, 1, 500),
  DATA_DIR: z.string().min(1).default('./.hashback-data'),
  LOG_LEVEL: z.enum(LOG_LEVELS, { message: `must be one of ${LOG_LEVELS.join(', ')}` }).default('info'),
  GRAPHIQL: flag(true),
  DEMO_PAGE: flag(true),
  DEMO_PARTNER_KEY: z.string().min(1).optional(),
  SEED_ON_FIRST_START: flag(true),
  SHUTDOWN_TIMEOUT_MS: integer(10_000, 0, 600_000),
  TOKEN_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  TOKEN_TTL_SECONDS: integer(12 * 60 * 60, 60, 30 * 24 * 60 * 60),
  CARD_ENCRYPTION_KEYS: z.string().min(1).optional(),
  CARD_FINGERPRINT_KEY: z.string().min(1).optional(),
  SMTP_URL: smtpUrl,
  MAIL_FROM: z.string().min(3).default('hashback <no-reply@hashback.local>'),
  AUTH_EXPIRY_DAYS: integer(7, 1, 60),
  JOBS: flag(true),
  JOB_INTERVAL_MS: integer(1000, 50, 3_600_000),
  EMAIL_MAX_ATTEMPTS: integer(8, 1, 100),
  REDIS_URL: redisUrl,
  LIVE_EVENTS: flag(true),
  EVENT_POLL_MS: integer(1000, 20, 60_000),
  SUBSCRIPTION_BUFFER: integer(1000, 10, 100_000),
  SUBSCRIPTION_AUTH_CHECK_MS: integer(2000, 100, 60_000),
  MAX_REQUEST_BYTES: integer(1_048_576, 1024, 64 * 1_048_576),
  MAX_OPERATION_COST: integer(5000, 10, 1_000_000),
  RESPONSE_CACHE_TTL_MS: integer(60_000, 0, 3_600_000),
  RESPONSE_CACHE_MAX_ENTRIES: integer(1000, 1, 1_000_000),
  CORS_ORIGINS: z.string().optional(),
  TRUST_PROXY_HOPS: integer(0, 0, 10),
  RATE_LIMIT_ANONYMOUS: integer(30_000, 1, 1_000_000_000),
  RATE_LIMIT_USER: integer(30_000, 1, 1_000_000_000),
  RATE_LIMIT_API_KEY: integer(300_000, 1, 1_000_000_000),
  LOGIN_FAILURES_PER_EMAIL: integer(5, 1, 1_000_000),
  LOGIN_FAILURES_PER_ADDRESS: integer(20, 1, 1_000_000),
  SIGNUPS_PER_ADDRESS: integer(20, 1, 1_000_000),
  CARD_LINK_FAILURES_PER_USER: integer(5, 1, 1_000_000),
  CARD_LINK_FAILURES_PER_ADDRESS: integer(20, 1, 1_000_000),
  INGEST_ITEMS_PER_MINUTE: integer(600_000, 1, 100_000_000),
  WS_SUBSCRIPTIONS_PER_CONNECTION: integer(50, 1, 100_000),
  WS_CONNECTIONS_PER_ADDRESS: integer(100, 1, 1_000_000),
  WS_INIT_TIMEOUT_MS: integer(5000, 100, 600_000),
  METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  WEBHOOK_ALLOW_PRIVATE_NETWORKS: flag(false),
  WEBHOOK_RETRY_SCHEDULE: z
    .string()
    .default('0s,5s,5m,30m,2h,5h,10h,10h')
    .refine((v) => /^\s*\d+(ms|s|m|h)\s*(,\s*\d+(ms|s|m|h)\s*){0,49}$/.test(v), 'must be a comma list of 1 to 50 durations like 0s,5s,5m,2h'),
  WEBHOOK_MAX_IN_FLIGHT: integer(10, 1, 1000),
  WEBHOOK_WORKERS: integer(8, 1, 256),
  WEBHOOK_DISABLE_AFTER_HOURS: integer(120, 1, 24 * 365),
  WEBHOOK_CONNECT_TIMEOUT_MS: integer(5000, 10, 60_000),
  WEBHOOK_TIMEOUT_MS: integer(15_000, 10, 300_000),
  PAYMENT_GATEWAY: z.enum(PAYMENT_GATEWAYS, { message: `must be one of ${PAYMENT_GATEWAYS.join(', ')}` }).default('sandbox'),
});

/** Every variable the configuration reads (`.env.example` lists exactly these; a test checks it). */
export const CONFIG_VARIABLES: readonly string[] = Object.keys(schema.shape);

/** `CORS_ORIGINS`: `*`, or a comma list of `scheme://host[:port]` origins. */
function parseOrigins(value: string | undefined, production: boolean): { origins: '*' | string[]; problem?: string } {
  if (value === undefined || value.trim() === '') return { origins: production ? [] : '*' };
  if (value.trim() === '*') {
    return production ? { origins: [], problem: 'CORS_ORIGINS: "*" is for development; list the allowed origins in production' } : { origins: '*' };
  }
  const origins: string[] = [];
  for (const item of value.split(',').map((v) => v.trim()).filter(Boolean)) {
    let url: URL | undefined;
    try {
      url = new URL(item);
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.origin !== item.replace(/\/$/, '')) {
      return { origins: [], problem: `CORS_ORIGINS: "${item.slice(0, 100)}" is not an origin like https://app.example.com` };
    }
    origins.push(url.origin);
  }
  return { origins };
}

export interface Config {
  nodeEnv: 'development' | 'production' | 'test';
  host: string;
  port: number;
  /** Postgres server to use; without it the embedded database in `dataDir` is used. */
  databaseUrl: string | undefined;
  databasePoolSize: number;
  /** Absolute path of the local data folder (embedded database and its lock). */
  dataDir: string;
  logLevel: (typeof LOG_LEVELS)[number];
  graphiql: boolean;
  /** Serve the demo timeline at /demo (off by default in production). */
  demoPage: boolean;
  /**
   * Partner key the demo's "simulate a purchase" uses server-side (never sent to the browser);
   * unset reads `partner` from <dataDir>/demo-keys.json. Simulation never runs in production.
   */
  demoPartnerKey: string | undefined;
  seedOnFirstStart: boolean;
  shutdownTimeoutMs: number;
  /** Signs user tokens (HS256); generated into dataDir in development when unset. */
  tokenSecret: string | undefined;
  tokenTtlSeconds: number;
  /** Card key ring, `keyId:base64key,…`, first one active; generated in development when unset. */
  cardEncryptionKeys: string | undefined;
  cardFingerprintKey: string | undefined;
  /** SMTP server for e-mails; without it e-mails are stored (and listed by viewer.emails) but not sent. */
  smtpUrl: string | undefined;
  mailFrom: string;
  /** Days after which an auth with no clearing expires and releases its budget. */
  authExpiryDays: number;
  /** Whether this instance runs background jobs (e-mail delivery, auth expiry, statement credits). */
  jobs: boolean;
  jobIntervalMs: number;
  /** Delivery attempts before an e-mail is marked FAILED. */
  emailMaxAttempts: number;
  /** Redis for the live-event signal across instances; without it Postgres NOTIFY (or in-process on PGlite). */
  redisUrl: string | undefined;
  /** Whether this instance relays live events to subscriptions (off only in tests that count statements). */
  liveEvents: boolean;
  /** Fallback poll of the event log (the signal usually comes first). */
  eventPollMs: number;
  /** Events a subscription may fall behind before it is disconnected. */
  subscriptionBufferLimit: number;
  /** How often a live stream re-checks that its key is not revoked. */
  subscriptionAuthCheckMs: number;
  /** Largest HTTP body, graphql-ws message or SSE request accepted, in bytes. */
  maxRequestBytes: number;
  /** Largest cost of one operation (see src/server/limits.ts); also what rate limits charge. */
  maxOperationCost: number;
  /**
   * Longest an anonymous public answer is served from the response cache (src/server/response-cache.ts);
   * events and the next scheduled offer start or end drop entries sooner. 0 turns the cache off.
   */
  responseCacheTtlMs: number;
  /** Answers the response cache holds at most (least recently used go first). */
  responseCacheMaxEntries: number;
  /** Origins allowed to call from a browser: `*` (development only) or a list; empty allows none. */
  corsOrigins: '*' | string[];
  /** How many proxies in front of the server append to X-Forwarded-For (0: use the socket address). */
  trustProxyHops: number;
  rateLimits: RateLimitConfig;
  /** Subscriptions one graphql-ws connection may hold at once. */
  wsSubscriptionsPerConnection: number;
  /** WebSocket connections one client address may hold at once on this instance. */
  wsConnectionsPerAddress: number;
  /** How long a WebSocket may stay open without `connection_init`. */
  wsInitTimeoutMs: number;
  /** Bearer token `/metrics` asks for; unset leaves it open (development). Required in production. */
  metricsToken: string | undefined;
  webhooks: WebhookConfig;
  /** The gateway that charges and refunds hashtag purchases; `sandbox` (built in) decides by documented test card numbers. */
  paymentGateway: (typeof PAYMENT_GATEWAYS)[number];
}

/** Webhook delivery; see src/modules/webhooks/. */
export interface WebhookConfig {
  /** Allow http:// and private, loopback and link-local addresses (development and tests only). */
  allowPrivateNetworks: boolean;
  /** Waits before each attempt (the first usually 0), e.g. `0s,5s,5m,30m,2h,5h,10h,10h`: as many attempts as entries. */
  retrySchedule: string;
  /** Deliveries one endpoint may have pending (sent or waiting for a retry) at once. */
  maxInFlight: number;
  /** Deliveries one instance sends at once. */
  workers: number;
  /** An endpoint failing (no success) for this long is disabled. */
  disableAfterHours: number;
  connectTimeoutMs: number;
  /** Whole request, connect to last byte read. */
  timeoutMs: number;
}

/** Budgets of the rate limits; see src/rate-limits.ts and README "Rate limits". */
export interface RateLimitConfig {
  /** Operation cost points per minute, by principal kind. */
  anonymousPerMinute: number;
  userPerMinute: number;
  apiKeyPerMinute: number;
  /** Failed log-ins per 15 minutes. */
  loginFailuresPerEmail: number;
  loginFailuresPerAddress: number;
  /** Sign-ups per hour from one address. */
  signUpsPerAddress: number;
  /** Refused card links (invalid, expired, unavailable) per hour. */
  cardLinkFailuresPerUser: number;
  cardLinkFailuresPerAddress: number;
  /** Transactions one partner may send per minute. */
  ingestItemsPerMinute: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Reads and validates the configuration; throws a ConfigError listing every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const name = issue.path.join('.');
        const value = env[name];
        // Secrets (and URLs that may carry a password) are never echoed.
        const shown = value === undefined || SECRET_VARIABLES.has(name) ? '' : ` (got "${value}")`;
        return `${name}: ${issue.message}${issue.message.includes('got "') ? '' : shown}`;
      }),
    );
  }
  const c = parsed.data;
  const production = c.NODE_ENV === 'production';
  const cors = parseOrigins(c.CORS_ORIGINS, production);
  if (cors.problem) throw new ConfigError([cors.problem]);
  return {
    nodeEnv: c.NODE_ENV,
    host: c.HOST,
    port: c.PORT,
    databaseUrl: c.DATABASE_URL,
    databasePoolSize: c.DATABASE_POOL_SIZE,
    dataDir: path.resolve(c.DATA_DIR),
    logLevel: c.LOG_LEVEL,
    graphiql: env.GRAPHIQL ? c.GRAPHIQL : !production,
    demoPage: env.DEMO_PAGE ? c.DEMO_PAGE : !production,
    demoPartnerKey: c.DEMO_PARTNER_KEY,
    seedOnFirstStart: c.SEED_ON_FIRST_START,
    shutdownTimeoutMs: c.SHUTDOWN_TIMEOUT_MS,
    tokenSecret: c.TOKEN_SECRET,
    tokenTtlSeconds: c.TOKEN_TTL_SECONDS,
    cardEncryptionKeys: c.CARD_ENCRYPTION_KEYS,
    cardFingerprintKey: c.CARD_FINGERPRINT_KEY,
    smtpUrl: c.SMTP_URL,
    mailFrom: c.MAIL_FROM,
    authExpiryDays: c.AUTH_EXPIRY_DAYS,
    jobs: c.JOBS,
    jobIntervalMs: c.JOB_INTERVAL_MS,
    emailMaxAttempts: c.EMAIL_MAX_ATTEMPTS,
    redisUrl: c.REDIS_URL,
    liveEvents: c.LIVE_EVENTS,
    eventPollMs: c.EVENT_POLL_MS,
    subscriptionBufferLimit: c.SUBSCRIPTION_BUFFER,
    subscriptionAuthCheckMs: c.SUBSCRIPTION_AUTH_CHECK_MS,
    maxRequestBytes: c.MAX_REQUEST_BYTES,
    maxOperationCost: c.MAX_OPERATION_COST,
    responseCacheTtlMs: c.RESPONSE_CACHE_TTL_MS,
    responseCacheMaxEntries: c.RESPONSE_CACHE_MAX_ENTRIES,
    corsOrigins: cors.origins,
    trustProxyHops: c.TRUST_PROXY_HOPS,
    rateLimits: {
      anonymousPerMinute: c.RATE_LIMIT_ANONYMOUS,
      userPerMinute: c.RATE_LIMIT_USER,
      apiKeyPerMinute: c.RATE_LIMIT_API_KEY,
      loginFailuresPerEmail: c.LOGIN_FAILURES_PER_EMAIL,
      loginFailuresPerAddress: c.LOGIN_FAILURES_PER_ADDRESS,
      signUpsPerAddress: c.SIGNUPS_PER_ADDRESS,
      cardLinkFailuresPerUser: c.CARD_LINK_FAILURES_PER_USER,
      cardLinkFailuresPerAddress: c.CARD_LINK_FAILURES_PER_ADDRESS,
      ingestItemsPerMinute: c.INGEST_ITEMS_PER_MINUTE,
    },
    wsSubscriptionsPerConnection: c.WS_SUBSCRIPTIONS_PER_CONNECTION,
    wsConnectionsPerAddress: c.WS_CONNECTIONS_PER_ADDRESS,
    wsInitTimeoutMs: c.WS_INIT_TIMEOUT_MS,
    metricsToken: c.METRICS_TOKEN,
    webhooks: {
      allowPrivateNetworks: c.WEBHOOK_ALLOW_PRIVATE_NETWORKS,
      retrySchedule: c.WEBHOOK_RETRY_SCHEDULE,
      maxInFlight: c.WEBHOOK_MAX_IN_FLIGHT,
      workers: c.WEBHOOK_WORKERS,
      disableAfterHours: c.WEBHOOK_DISABLE_AFTER_HOURS,
      connectTimeoutMs: c.WEBHOOK_CONNECT_TIMEOUT_MS,
      timeoutMs: c.WEBHOOK_TIMEOUT_MS,
    },
    paymentGateway: c.PAYMENT_GATEWAY,
  };
}

/** For entry points: the configuration, or the list of problems on stderr and exit code 2. */
export function loadConfigOrExit(env: NodeJS.ProcessEnv = process.env): Config {
  try {
    return loadConfig(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
    process.exit(2);
  }
}
