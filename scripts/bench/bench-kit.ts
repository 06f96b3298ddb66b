/**
 * What every benchmark in `scripts/bench/` shares: knobs read from the environment, a throwaway
 * configuration, a progress log with elapsed time, a scratch database (a fresh one on the server
 * of DATABASE_URL, created and dropped by the run, or an in-memory PGlite), and a small GraphQL
 * client for setting data up through the API.
 */
import { randomBytes } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import fs from 'node:fs';
import inspector from 'node:inspector/promises';
import os from 'node:os';
import path from 'node:path';
import { sql, type Kysely } from 'kysely';
import pg from 'pg';
import { createApp, type App } from '../../src/app.js';
import { loadConfigOrExit, type Config } from '../../src/config.js';
import { openDatabase, type Database } from '../../src/database.js';
import { decodeGlobalId } from '../../src/lib/ids.js';
import { MAX_MINOR_UNITS } from '../../src/lib/money.js';
import { createLogger } from '../../src/logger.js';
import { migrateToLatest } from '../../src/migrate.js';
import { generateCardKeys } from '../../src/modules/cards/card-crypto.js';
import { randomCardNumber } from '../../src/modules/cards/card-number.js';
import { loadSecurity } from '../../src/security.js';

// The headline figures for `npm run bench`'s summary table (scripts/bench/all.ts).
export { ratioOf, reportSummary, type SummaryRow } from './summary.js';

/** An integer knob from the environment (`20_000` allowed); exits with a message when it is not one. */
export function positiveInt(name: string, fallback: number, min = 1): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw.replaceAll('_', ''));
  if (!Number.isSafeInteger(n) || n < min) {
    console.error(`${name} must be an integer >= ${min}, got "${raw}"`);
    process.exit(2);
  }
  return n;
}

/** The environment's configuration with throwaway secrets, silent logs and `overrides` on top. */
export function benchConfig(overrides: Record<string, string> = {}): Config {
  const keys = generateCardKeys();
  return loadConfigOrExit({
    ...process.env,
    LOG_LEVEL: 'silent',
    // One load generator is one client address: every limiter stays on and is consulted (on
    // Postgres, written) per request, with budgets that let a benchmark's traffic through.
    RATE_LIMIT_ANONYMOUS: '1000000000',
    RATE_LIMIT_USER: '1000000000',
    RATE_LIMIT_API_KEY: '1000000000',
    SIGNUPS_PER_ADDRESS: '1000000',
    INGEST_ITEMS_PER_MINUTE: '100000000',
    WS_CONNECTIONS_PER_ADDRESS: '1000000',
    TOKEN_SECRET: randomBytes(32).toString('base64url'),
    CARD_ENCRYPTION_KEYS: keys.encryptionKeys,
    CARD_FINGERPRINT_KEY: keys.fingerprintKey,
    ...overrides,
  });
}

export const silentLogger = createLogger({ logLevel: 'silent' });

const benchStarted = performance.now();
/** Other work on the machine skews every figure: the 1-minute load average before the run says how much. */
export const loadBefore = os.loadavg()[0]!;

/** A progress line prefixed with the seconds since the run started. */
export function log(line: string): void {
  const s = ((performance.now() - benchStarted) / 1000).toFixed(1).padStart(5);
  console.log(`[${s}s] ${line}`);
}

/** 12345.6 → "12,346" */
export const int = (n: number) => Math.round(n).toLocaleString('en-US');

export interface BenchDatabase {
  database: Database;
  label: string;
  /** The scratch database's URL (Postgres only). */
  url: string | undefined;
  /** Drops the scratch Postgres database (after the app's pool is closed). */
  drop(): Promise<void>;
}

async function withAdminClient<T>(url: string, run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

/**
 * A fresh database on the server of `config.databaseUrl`, or an in-memory PGlite without one.
 * `config.databaseUrl` is pointed at the scratch database, so that the app's other connections
 * (the live-event relay's LISTEN) go there too.
 */
export async function openBenchDatabase(config: Config): Promise<BenchDatabase> {
  if (!config.databaseUrl) {
    const database = await openDatabase({ memory: true });
    return { database, label: 'pglite (in-memory)', url: undefined, drop: async () => {} };
  }
  const adminUrl = config.databaseUrl;
  const name = `hashback_bench_${Date.now()}_${randomBytes(2).toString('hex')}`;
  await withAdminClient(adminUrl, (c) => c.query(`create database "${name}"`));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  let dropped = false;
  const drop = async () => {
    if (dropped) return;
    dropped = true;
    await withAdminClient(adminUrl, async (c) => {
      // A closed pool may still be hanging up its sockets: wait for them before FORCE would
      // terminate a connection the app still counts as its own.
      for (let i = 0; i < 50; i++) {
        const { rows } = await c.query<{ n: number }>('select count(*)::int as n from pg_stat_activity where datname = $1', [name]);
        if (rows[0]!.n === 0) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      await c.query(`drop database if exists "${name}" with (force)`);
    });
    log(`dropped database ${name}`);
  };
  try {
    config.databaseUrl = url.toString();
    const database = await openDatabase({ url: url.toString(), poolSize: config.databasePoolSize });
    const version = await sql<{ v: string }>`select current_setting('server_version') as v`.execute(database.db);
    const where = `${url.hostname}:${url.port || '5432'}`;
    log(`created database ${name} on ${where}`);
    return { database, label: `postgres ${version.rows[0]?.v ?? ''} @ ${where} (pool ${config.databasePoolSize})`, url: url.toString(), drop };
  } catch (error) {
    await drop();
    throw error;
  }
}

/** A GraphQL client for set-up: returns `data`, throws on errors or on the payload's userErrors. */
export function gqlClient(url: string) {
  return async function gql<T>(what: string, query: string, variables: Record<string, unknown>, key?: string): Promise<T> {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await response.json()) as { data?: Record<string, { userErrors?: { code: string; message: string }[] } | null>; errors?: { message: string }[] };
    if (body.errors?.length) throw new Error(`${what}: ${body.errors.map((e) => e.message).join('; ')}`);
    const payload = Object.values(body.data ?? {})[0];
    if (payload?.userErrors?.length) throw new Error(`${what}: ${payload.userErrors.map((e) => `${e.code}: ${e.message}`).join('; ')}`);
    return body.data as T;
  };
}

/** Runs `work(0..count-1)` with at most `concurrency` in flight; results in index order. */
export async function pool<T>(count: number, concurrency: number, work: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) {
        const i = next++;
        out[i] = await work(i);
      }
    }),
  );
  return out;
}

export interface BenchRun {
  bench: BenchDatabase;
  /** The app on a free loopback port, closed (with the database) at the end of the run. */
  startApp(): Promise<{ app: App; url: string }>;
  /** Runs before the app and the database close, also when the run fails or is interrupted. */
  onCleanup(step: () => Promise<void> | void): void;
}

/**
 * Opens and migrates the scratch database, runs `body`, and always cleans up: the steps given to
 * `onCleanup`, the app, the database, the scratch database. Ctrl-C cleans up too; a failure is
 * printed and the exit code is 1.
 */
export async function runBench(config: Config, body: (run: BenchRun) => Promise<void>): Promise<void> {
  let bench: BenchDatabase | undefined;
  let app: App | undefined;
  const steps: (() => Promise<void> | void)[] = [];
  let cleaning: Promise<void> | undefined;
  const cleanup = () =>
    (cleaning ??= (async () => {
      for (const step of steps.reverse()) await step();
      if (app) await app.close(); // closes the database too
      else await bench?.database.close();
      await bench?.drop();
    })());
  process.once('SIGINT', () => {
    log('interrupted: cleaning up');
    void cleanup().finally(() => process.exit(130));
  });
  try {
    log(`opening ${config.databaseUrl ? 'a fresh Postgres database' : 'an in-memory PGlite'}`);
    bench = await openBenchDatabase(config);
    const applied = await migrateToLatest(bench.database.db);
    log(`migrated (${applied.length} migration${applied.length === 1 ? '' : 's'})`);
    const { database } = bench;
    await body({
      bench,
      startApp: async () => {
        app = createApp({ config, database, logger: silentLogger, security: loadSecurity(config, () => {}) });
        return { app, url: await app.listen(0, '127.0.0.1') };
      },
      onCleanup: (step) => void steps.push(step),
    });
  } catch (error) {
    console.error(error);
    process.exitCode = 1;
  } finally {
    await cleanup();
    log('closed');
  }
}

export interface BenchShopper {
  token: string;
  /** Database ids. */
  userId: string;
  cardId: string;
  cardNumber: string;
}

/** Signs `count` users up through the API, each with a linked Visa card of its own, with progress. */
export async function signUpShoppers(gql: ReturnType<typeof gqlClient>, count: number, label: string): Promise<BenchShopper[]> {
  const run = randomBytes(3).toString('hex');
  const started = performance.now();
  let signedUp = 0;
  const progressEvery = Math.max(1, Math.ceil(count / 5));
  const shoppers = await pool(count, 4, async (i) => {
    const { signUp } = await gql<{ signUp: { token: string; user: { id: string } } }>(
      'signUp',
      'mutation($input: SignUpInput!) { signUp(input: $input) { token user { id } userErrors { code message } } }',
      { input: { email: `${label}-${run}-${i}@example.com`, password: 'correct horse battery', displayName: `${label} ${i}`, country: 'US' } },
    );
    const cardNumber = randomCardNumber(`4${String(i).padStart(5, '0')}`); // distinct issuer digits: no two users share a card
    const { linkCard } = await gql<{ linkCard: { card: { id: string } } }>(
      'linkCard',
      'mutation($input: LinkCardInput!) { linkCard(input: $input) { card { id } userErrors { code message } } }',
      { input: { number: cardNumber, expMonth: 12, expYear: new Date().getUTCFullYear() + 3 } },
      signUp.token,
    );
    if (++signedUp % progressEvery === 0 && signedUp < count) log(`  ${signedUp}/${count} users signed up with a linked card`);
    return { token: signUp.token, userId: dbIdOf(signUp.user.id), cardId: dbIdOf(linkCard.card.id), cardNumber };
  });
  log(`signed up ${count} users with a linked Visa card each in ${((performance.now() - started) / 1000).toFixed(1)}s (argon2 hashing)`);
  return shoppers;
}

/** The database id inside a global id. */
export function dbIdOf(globalId: string): string {
  const decoded = decodeGlobalId(globalId);
  if (!decoded) throw new Error(`not a global id: ${globalId}`);
  return decoded.id;
}

/** A CASHBACK offer's input for `createOffer`: percent back, a budget no run exhausts, live from yesterday for 30 days. */
export function cashbackOfferInput(title: string, locationId: string, rewardBasisPoints: number): Record<string, unknown> {
  const day = 24 * 60 * 60 * 1000;
  return {
    kind: 'CASHBACK',
    title,
    currency: 'USD',
    rewardType: 'PERCENT',
    rewardBasisPoints,
    budget: MAX_MINOR_UNITS,
    returnPeriodDays: 30,
    startsAt: new Date(Date.now() - day).toISOString(),
    endsAt: new Date(Date.now() + 30 * day).toISOString(),
    locationIds: [locationId],
  };
}

/** An approved merchant and a merchant key for it, through the API. */
export async function approvedMerchant(gql: ReturnType<typeof gqlClient>, adminKey: string, name: string): Promise<{ merchantId: string; merchantKey: string }> {
  const { createMerchant } = await gql<{ createMerchant: { merchant: { id: string } } }>(
    'createMerchant',
    'mutation($input: CreateMerchantInput!) { createMerchant(input: $input) { merchant { id } userErrors { code message } } }',
    { input: { name, country: 'US', category: 'Coffee' } },
    adminKey,
  );
  const merchantId = createMerchant.merchant.id;
  await gql('approveMerchant', 'mutation($input: ApproveMerchantInput!) { approveMerchant(input: $input) { userErrors { code message } } }', { input: { merchantId } }, adminKey);
  const { createApiKey } = await gql<{ createApiKey: { secret: string } }>(
    'createApiKey',
    'mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret userErrors { code message } } }',
    { input: { name: `${name} key`, role: 'MERCHANT', merchantId } },
    adminKey,
  );
  return { merchantId, merchantKey: createApiKey.secret };
}

/** A partner with `scopes` and one key for it, through the API (createPartner, then createApiKey). */
export async function benchPartner(
  gql: ReturnType<typeof gqlClient>,
  adminKey: string,
  name: string,
  scopes: string[],
): Promise<{ partnerId: string; partnerKey: string }> {
  const { createPartner } = await gql<{ createPartner: { partner: { id: string } } }>(
    'createPartner',
    'mutation($input: CreatePartnerInput!) { createPartner(input: $input) { partner { id } userErrors { code message } } }',
    { input: { name, scopes } },
    adminKey,
  );
  const partnerId = createPartner.partner.id;
  const { createApiKey } = await gql<{ createApiKey: { secret: string } }>(
    'createApiKey',
    'mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret userErrors { code message } } }',
    { input: { name: `${name} key`, role: 'PARTNER', partnerId } },
    adminKey,
  );
  return { partnerId, partnerKey: createApiKey.secret };
}

/**
 * For load generators written as plain JavaScript (worker threads, child processes), which have
 * `http` from node:http in scope: `post(target, agent, headers, payload)` sends one POST to the
 * URL `target` and resolves with the response's status and text.
 */
export const LOAD_POST_SOURCE = String.raw`
function post(target, agent, headers, payload) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: target.hostname, port: target.port, path: target.pathname, method: 'POST', agent, headers },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}
`;

// ---------------------------------------------------------------------------------------------
// CPU per request: the server's (this process less the load generator's thread) and Postgres's
// (the backends of the bench database), read from /proc on Linux; NaN elsewhere.
// ---------------------------------------------------------------------------------------------

const CLOCK_TICKS_PER_SECOND = 100;

/** utime + stime of a /proc stat file, in ms; NaN when it cannot be read. */
export function procStatCpuMs(path: string): number {
  try {
    const text = fs.readFileSync(path, 'utf8');
    // Fields after the command (which may hold spaces) start after the last ')'.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return Number.NaN;
  }
}

/** For a load generator's worker thread (plain JavaScript with `require`): its own CPU in ms. */
export const THREAD_CPU_SOURCE = String.raw`
function threadCpuMs() {
  try {
    const text = require('node:fs').readFileSync('/proc/thread-self/stat', 'utf8');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch { return NaN; }
}
`;

/** CPU used by this whole process so far, in ms. */
export function processCpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/**
 * Starts measuring the CPU of the Postgres backends serving `db`'s database (all connections to
 * it, the rate limiter's and the relay's too); `stop()` answers the ms used since, NaN when /proc
 * cannot be read (another machine, PGlite).
 */
export async function postgresCpuMeter(db: Kysely<any>): Promise<{ stop(): Promise<number> }> {
  const pids = async () => {
    try {
      const { rows } = await sql<{ pid: number }>`select pid from pg_stat_activity where datname = current_database()`.execute(db);
      return rows.map((r) => r.pid);
    } catch {
      return [];
    }
  };
  const before = new Map((await pids()).map((pid) => [pid, procStatCpuMs(`/proc/${pid}/stat`)]));
  return {
    stop: async () => {
      const after = await pids();
      if (after.length === 0) return Number.NaN;
      let total = 0;
      for (const pid of new Set([...before.keys(), ...after])) {
        const now = procStatCpuMs(`/proc/${pid}/stat`);
        if (Number.isNaN(now)) continue; // gone meanwhile
        total += now - (before.get(pid) ?? 0);
      }
      return total;
    },
  };
}

/**
 * A load generator for the batch mutations (`ingestTransactions`, `ingestPosts`): plain JavaScript
 * in a worker thread (keep-alive node:http agent), posting each body from `clients` clients and
 * tallying every item's result. `field` is the mutation's root field, `idField` the item's id in
 * its results.
 */
const BATCH_LOAD_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const http = require('node:http');
const { url, key, bodies, clients, progressEvery, field, idField } = workerData;
const target = new URL(url);
const agent = new http.Agent({ keepAlive: true, maxSockets: clients });
${LOAD_POST_SOURCE}
const outcomes = {};
const reasons = {};
const labels = {};
const byId = {};
let items = 0, failures = 0, firstFailure = null, done = 0, next = 0;
const latencies = new Float64Array(bodies.length);
function fail(problem) { failures++; if (firstFailure === null) firstFailure = problem; }
const started = performance.now();
async function client() {
  while (next < bodies.length) {
    const i = next++;
    const payload = Buffer.from(bodies[i]);
    const t0 = performance.now();
    try {
      const r = await post(target, agent, { 'content-type': 'application/json', accept: 'application/json', authorization: 'Bearer ' + key, 'content-length': payload.length }, payload);
      latencies[i] = performance.now() - t0;
      let json;
      try { json = JSON.parse(r.text); } catch { json = null; }
      if (r.status !== 200 || !json) fail('HTTP ' + r.status + ': ' + r.text.slice(0, 200));
      else if (json.errors && json.errors.length) fail('errors: ' + JSON.stringify(json.errors).slice(0, 200));
      else {
        const p = json.data[field];
        if (p.userErrors.length) fail('userErrors: ' + JSON.stringify(p.userErrors).slice(0, 200));
        for (const result of p.results || []) {
          items++;
          const label = result.outcome + (result.reason ? ' ' + result.reason : '');
          outcomes[result.outcome] = (outcomes[result.outcome] || 0) + 1;
          if (result.reason) reasons[result.reason] = (reasons[result.reason] || 0) + 1;
          labels[label] = (labels[label] || 0) + 1;
          byId[result[idField]] = label;
        }
      }
    } catch (e) {
      latencies[i] = performance.now() - t0;
      fail(String((e && e.message) || e));
    }
    done++;
    if (progressEvery > 0 && done % progressEvery === 0 && done < bodies.length) {
      parentPort.postMessage({ type: 'progress', done, items, elapsedMs: performance.now() - started });
    }
  }
}
Promise.all(Array.from({ length: Math.min(clients, bodies.length) }, client)).then(() => {
  const elapsedMs = performance.now() - started;
  agent.destroy();
  parentPort.postMessage({ type: 'done', elapsedMs, items, outcomes, reasons, labels, byId, failures, firstFailure, latencies }, [latencies.buffer]);
});
`;

export interface BatchLoadResult {
  elapsedMs: number;
  items: number;
  /** outcome → count. */
  outcomes: Record<string, number>;
  /** reason → count. */
  reasons: Record<string, number>;
  /** "OUTCOME REASON" → count. */
  labels: Record<string, number>;
  /** item id → "OUTCOME REASON". */
  byId: Record<string, string>;
  failures: number;
  firstFailure: string | null;
  latencies: Float64Array;
}

type BatchLoadMessage = { type: 'progress'; done: number; items: number; elapsedMs: number } | ({ type: 'done' } & BatchLoadResult);

export function runBatchLoad(options: {
  url: string;
  key: string;
  bodies: string[];
  clients: number;
  field: 'ingestTransactions' | 'ingestPosts';
  idField: 'externalId' | 'postId';
  /** How many progress reports over the run (0: none). */
  progressReports?: number;
  onProgress?: (requests: number, items: number, elapsedMs: number) => void;
}): Promise<BatchLoadResult> {
  const { url, key, bodies, clients, field, idField, onProgress } = options;
  const reports = onProgress ? (options.progressReports ?? 4) : 0;
  return new Promise((resolve, reject) => {
    const worker = new Worker(BATCH_LOAD_WORKER, {
      eval: true,
      workerData: { url, key, bodies, clients, field, idField, progressEvery: reports > 0 ? Math.max(1, Math.ceil(bodies.length / reports)) : 0 },
    });
    let result: BatchLoadResult | undefined;
    worker.on('message', (message: BatchLoadMessage) => {
      if (message.type === 'progress') onProgress?.(message.done, message.items, message.elapsedMs);
      else result = message;
    });
    worker.once('error', reject);
    worker.once('exit', (code) => (result ? resolve(result) : reject(new Error(`load worker exited with code ${code}`))));
  });
}

/** A CPU profile of this thread while `run` runs, written to `dir`/<name>.cpuprofile (nothing without `dir`). */
export async function profiled<T>(dir: string | undefined, name: string, run: () => Promise<T>): Promise<T> {
  if (!dir) return run();
  const session = new inspector.Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  try {
    return await run();
  } finally {
    const { profile } = await session.post('Profiler.stop');
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `${name.replace(/[^\w.-]+/g, '-')}.cpuprofile`);
    fs.writeFileSync(file, JSON.stringify(profile));
    session.disconnect();
    log(`${name}: CPU profile written to ${file}`);
  }
}
