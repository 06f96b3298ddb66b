/**
 * `npm run bench:offers`: the anonymous offer feed, `offers(first: 50)` with each offer's merchant,
 * served by the real app (graphql-yoga + Pothos + Kysely) and, as a baseline, by a bare node:http
 * handler running one hand-written SQL statement through the same Kysely instance and shaping the
 * same JSON. Both are driven by the same load generator, which runs in a worker thread so that the
 * clients do not share the servers' event loop.
 *
 * The app is measured twice: computing every answer (the requests say `Cache-Control: no-cache`,
 * so the response cache stays out of the way while every other plugin runs) and with its response
 * cache (src/server/response-cache.ts). Beside requests per second and latency, the CPU each
 * request cost the server (this process less the load generator's thread) and Postgres (the
 * backends of the bench database), read from /proc.
 *
 * Database: a fresh database on the server of DATABASE_URL (created and dropped here), otherwise an
 * in-memory PGlite. Knobs: CLIENTS (20), REQUESTS (2000), WARMUP (100), OFFERS (240), MERCHANTS (16),
 * PROFILE (a folder: a CPU profile of this thread per phase, `<phase>.cpuprofile`).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Worker } from 'node:worker_threads';
import { sql, type Kysely } from 'kysely';
import type { Config } from '../../src/config.js';
import type { Database } from '../../src/database.js';
import type { DB, MerchantStatus, NewOffer } from '../../db/types.js';
import { encodeGlobalId } from '../../src/lib/ids.js';
import { offerStatus, rewardSummary } from '../../src/modules/offers/offers.rules.js';
import { seedDemoData } from '../../src/seed.js';
import {
  LOAD_POST_SOURCE,
  loadBefore,
  THREAD_CPU_SOURCE,
  benchConfig,
  log,
  positiveInt,
  postgresCpuMeter,
  processCpuMs,
  ratioOf,
  reportSummary,
  runBench,
  silentLogger,
  profiled,
} from './bench-kit.js';

const PAGE_SIZE = 50;
const QUERY = `{ offers(first: ${PAGE_SIZE}) { edges { node { id title rewardSummary status endsAt merchant { id name } } } } }`;
const DAY = 24 * 60 * 60 * 1000;

// ---------------------------------------------------------------------------------------------
// Settings
// ---------------------------------------------------------------------------------------------

const CLIENTS = positiveInt('CLIENTS', 20);
const REQUESTS = positiveInt('REQUESTS', 2000);
const WARMUP = positiveInt('WARMUP', 100, 0);
const EXTRA_OFFERS = positiveInt('OFFERS', 240, 200);
const EXTRA_MERCHANTS = positiveInt('MERCHANTS', 16);
const PROFILE_DIR = process.env.PROFILE || undefined;

// Throwaway secrets: the feed reads no cards and no tokens, but the app needs its keys.
const config: Config = benchConfig();

// ---------------------------------------------------------------------------------------------
// Data: demo catalogue + approved merchants with many live cashback offers (and some noise)
// ---------------------------------------------------------------------------------------------

const CATEGORIES = ['Coffee', 'Books', 'Groceries', 'Fuel', 'Dining', 'Travel', 'Fitness', 'Electronics'];

async function createBenchData(db: Kysely<DB>): Promise<{ publicOffers: number }> {
  await seedDemoData(db, silentLogger);
  const now = Date.now();

  const merchantRows = Array.from({ length: EXTRA_MERCHANTS }, (_, i) => ({
    name: `Bench Merchant ${String(i + 1).padStart(2, '0')}`,
    country: 'US',
    category: CATEGORIES[i % CATEGORIES.length]!,
    social_handle: `@bench${i + 1}`,
    status: 'APPROVED' as MerchantStatus,
  }));
  // Noise the feed must leave out: a suspended and a pending merchant with published offers.
  merchantRows.push(
    { name: 'Bench Suspended', country: 'US', category: 'Other', social_handle: '@benchsusp', status: 'SUSPENDED' },
    { name: 'Bench Pending', country: 'US', category: 'Other', social_handle: '@benchpend', status: 'PENDING' },
  );
  const merchants = await db.insertInto('merchants').values(merchantRows).returning(['id', 'status']).execute();
  const approved = merchants.filter((m) => m.status === 'APPROVED');
  const hidden = merchants.filter((m) => m.status !== 'APPROVED');

  const locations = await db
    .insertInto('locations')
    .values(merchants.map((m, i) => ({ merchant_id: m.id, name: `Bench store ${i + 1}`, channel: 'IN_STORE' as const, country: 'US', timezone: 'America/New_York' })))
    .returning(['id', 'merchant_id'])
    .execute();
  const locationOf = new Map(locations.map((l) => [l.merchant_id, l.id]));

  const offers: NewOffer[] = [];
  const base = (merchantId: string, i: number): NewOffer => {
    const fixed = i % 5 === 4;
    const budget = 10_000 + (i % 7) * 5_000;
    return {
      merchant_id: merchantId,
      kind: 'CASHBACK',
      state: 'PUBLISHED',
      title: fixed ? `$${(i % 4) + 2} back on bench purchase #${i + 1}` : `${(i % 20) + 1}% back on bench purchase #${i + 1}`,
      description: 'Benchmark offer.',
      currency: 'USD',
      reward_type: fixed ? 'FIXED' : 'PERCENT',
      reward_basis_points: fixed ? null : ((i % 20) + 1) * 100,
      reward_amount: fixed ? ((i % 4) + 2) * 100 : null,
      max_reward: !fixed && i % 3 === 0 ? 1_000 : null,
      min_spend: i % 4 === 0 ? 2_000 : null,
      starts_at: new Date(now - DAY),
      ends_at: new Date(now + (30 + (i % 90)) * DAY),
      channels: i % 2 === 0 ? ['IN_STORE', 'ONLINE'] : ['IN_STORE'],
      countries: ['US'],
      budget,
      budget_remaining: budget,
      published_at: new Date(now - DAY),
      // Older than the seeded demo offers, one minute apart: a stable NEWEST order.
      created_at: new Date(now - (i + 1) * 60_000),
    };
  };
  for (let i = 0; i < EXTRA_OFFERS; i++) offers.push(base(approved[i % approved.length]!.id, i));
  // More noise, interleaved in the NEWEST order: ended, exhausted, paused, draft, hidden merchants.
  const noiseAt = (k: number) => EXTRA_OFFERS + k;
  for (let k = 0; k < 10; k++) {
    const i = noiseAt(k);
    const row = { ...base(approved[k % approved.length]!.id, i), created_at: new Date(now - (k * 5 + 2.5) * 60_000) };
    switch (k % 5) {
      case 0: // ended
        offers.push({ ...row, starts_at: new Date(now - 10 * DAY), ends_at: new Date(now - DAY) });
        break;
      case 1: // exhausted
        offers.push({ ...row, budget_remaining: 0 });
        break;
      case 2: // paused
        offers.push({ ...row, state: 'PAUSED' });
        break;
      case 3: // draft
        offers.push({ ...row, state: 'DRAFT', published_at: null });
        break;
      default: // merchant not approved
        offers.push({ ...row, merchant_id: hidden[k % hidden.length]!.id });
    }
  }
  const inserted = await db.insertInto('offers').values(offers).returning(['id', 'merchant_id']).execute();
  await db
    .insertInto('offer_locations')
    .values(inserted.map((o) => ({ offer_id: o.id, location_id: locationOf.get(o.merchant_id)! })))
    .execute();

  const { count } = await db
    .selectFrom('offers')
    .innerJoin('merchants', 'merchants.id', 'offers.merchant_id')
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .where('merchants.status', '=', 'APPROVED')
    .where('offers.state', '=', 'PUBLISHED')
    .where('offers.ends_at', '>', new Date())
    .where(sql<boolean>`coalesce(offers.budget_remaining, offers.quantity_remaining) > 0`)
    .executeTakeFirstOrThrow();
  return { publicOffers: Number(count) };
}

// ---------------------------------------------------------------------------------------------
// Baseline: node:http + one SQL statement, same response shape
// ---------------------------------------------------------------------------------------------

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

async function baselineFeed(db: Kysely<DB>) {
  const now = new Date();
  const rows = await db
    .selectFrom('offers')
    .innerJoin('merchants', 'merchants.id', 'offers.merchant_id')
    .select([
      'offers.id',
      'offers.title',
      'offers.kind',
      'offers.currency',
      'offers.reward_type',
      'offers.reward_basis_points',
      'offers.reward_amount',
      'offers.max_reward',
      'offers.min_spend',
      'offers.price',
      'offers.state',
      'offers.starts_at',
      'offers.ends_at',
      'offers.budget_remaining',
      'offers.quantity_remaining',
      'merchants.id as m_id',
      'merchants.name as m_name',
    ])
    .where('merchants.status', '=', 'APPROVED')
    .where('offers.state', '=', 'PUBLISHED')
    .where('offers.ends_at', '>', now)
    .where(sql<boolean>`coalesce(offers.budget_remaining, offers.quantity_remaining) > 0`)
    .orderBy('offers.created_at', 'desc')
    .orderBy('offers.id', 'desc')
    .limit(PAGE_SIZE)
    .execute();
  const at = new Date();
  return {
    data: {
      offers: {
        edges: rows.map((o) => ({
          node: {
            id: encodeGlobalId('Offer', o.id),
            title: o.title,
            rewardSummary: rewardSummary(o),
            status: offerStatus(o, at),
            endsAt: o.ends_at.toISOString(),
            merchant: { id: encodeGlobalId('Merchant', o.m_id), name: o.m_name },
          },
        })),
      },
    },
  };
}

function createBaselineServer(db: Kysely<DB>): http.Server {
  return http.createServer((req, res) => {
    if (req.method !== 'POST') {
      res.writeHead(405, { allow: 'POST' }).end();
      return;
    }
    readBody(req)
      .then(async (text) => {
        const { query } = JSON.parse(text) as { query?: unknown };
        if (typeof query !== 'string') throw new Error('query missing');
        const body = JSON.stringify(await baselineFeed(db));
        res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) }).end(body);
      })
      .catch((error: unknown) => {
        const body = JSON.stringify({ errors: [{ message: (error as Error).message }] });
        res.writeHead(500, { 'content-type': 'application/json' }).end(body);
      });
  });
}

function listen(server: http.Server): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`);
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Load generator: plain JavaScript run in a worker thread (keep-alive node:http agent)
// ---------------------------------------------------------------------------------------------

const LOAD_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const http = require('node:http');
const { url, body, clients, requests, expectEdges, progressEvery, extraHeaders } = workerData;
const target = new URL(url);
const agent = new http.Agent({ keepAlive: true, maxSockets: clients });
const payload = Buffer.from(body);
const headers = {
  'content-type': 'application/json',
  accept: 'application/graphql-response+json, application/json',
  'content-length': payload.length,
  ...extraHeaders,
};
${LOAD_POST_SOURCE}
${THREAD_CPU_SOURCE}
function problemOf(status, text) {
  if (status !== 200) return 'HTTP ' + status + ': ' + text.slice(0, 200);
  let json;
  try { json = JSON.parse(text); } catch { return 'response is not JSON'; }
  if (json.errors && json.errors.length) return 'errors: ' + JSON.stringify(json.errors).slice(0, 200);
  const edges = json.data && json.data.offers && json.data.offers.edges;
  if (!Array.isArray(edges)) return 'no data.offers.edges';
  if (edges.length !== expectEdges) return edges.length + ' edges instead of ' + expectEdges;
  return null;
}
const latencies = new Float64Array(requests);
let next = 0, done = 0, failures = 0, firstFailure = null;
const started = performance.now();
const cpuStarted = threadCpuMs();
async function client() {
  while (next < requests) {
    const i = next++;
    const t0 = performance.now();
    let problem;
    try {
      const r = await post(target, agent, headers, payload);
      latencies[i] = performance.now() - t0;
      problem = problemOf(r.status, r.text);
    } catch (e) {
      latencies[i] = performance.now() - t0;
      problem = String((e && e.message) || e);
    }
    if (problem) { failures++; if (firstFailure === null) firstFailure = problem; }
    done++;
    if (progressEvery > 0 && done % progressEvery === 0 && done < requests) {
      parentPort.postMessage({ type: 'progress', done, failures, elapsedMs: performance.now() - started });
    }
  }
}
Promise.all(Array.from({ length: Math.min(clients, requests) }, client)).then(() => {
  const elapsedMs = performance.now() - started;
  const cpuMs = threadCpuMs() - cpuStarted;
  agent.destroy();
  parentPort.postMessage({ type: 'done', elapsedMs, cpuMs, failures, firstFailure, latencies }, [latencies.buffer]);
});
`;

interface LoadResult {
  elapsedMs: number;
  /** CPU of the load generator's own thread. */
  cpuMs: number;
  failures: number;
  firstFailure: string | null;
  latencies: Float64Array;
}

type WorkerMessage =
  | { type: 'progress'; done: number; failures: number; elapsedMs: number }
  | ({ type: 'done' } & LoadResult);

function runLoad(
  url: string,
  requests: number,
  headers: Record<string, string>,
  onProgress?: (done: number, failures: number, elapsedMs: number) => void,
): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(LOAD_WORKER, {
      eval: true,
      workerData: {
        url,
        body: JSON.stringify({ query: QUERY }),
        clients: CLIENTS,
        requests,
        expectEdges: PAGE_SIZE,
        extraHeaders: headers,
        progressEvery: onProgress ? Math.max(1, Math.ceil(requests / 5)) : 0,
      },
    });
    let result: LoadResult | undefined;
    worker.on('message', (message: WorkerMessage) => {
      if (message.type === 'progress') onProgress?.(message.done, message.failures, message.elapsedMs);
      else result = message;
    });
    worker.once('error', reject);
    worker.once('exit', (code) => (result ? resolve(result) : reject(new Error(`load worker exited with code ${code}`))));
  });
}

// ---------------------------------------------------------------------------------------------
// Measuring
// ---------------------------------------------------------------------------------------------

interface Measurement {
  name: string;
  requests: number;
  failures: number;
  firstFailure: string | null;
  reqPerSec: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  statementsPerRequest: number;
  /** CPU per request of the server (this process less the load generator) and of Postgres, ms. */
  serverCpuMs: number;
  postgresCpuMs: number;
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}


async function measure(name: string, url: string, database: Database, headers: Record<string, string> = {}): Promise<Measurement> {
  if (WARMUP > 0) {
    const warm = await runLoad(url, WARMUP, headers);
    log(`${name}: warm-up ${WARMUP} requests in ${(warm.elapsedMs / 1000).toFixed(1)}s, ${warm.failures} failed`);
    if (warm.failures > 0) log(`${name}: first warm-up failure: ${warm.firstFailure}`);
  }
  const statementsBefore = database.statementCount();
  const postgresCpu = database.kind === 'postgres' ? await postgresCpuMeter(database.db) : undefined;
  const cpuBefore = processCpuMs();
  const result = await profiled(PROFILE_DIR, name, () =>
    runLoad(url, REQUESTS, headers, (done, failures, elapsedMs) =>
      log(`${name}: ${done}/${REQUESTS} requests, ${((done / elapsedMs) * 1000).toFixed(0)} req/s so far, ${failures} failed`),
    ),
  );
  const serverCpu = processCpuMs() - cpuBefore - result.cpuMs;
  const postgresCpuUsed = postgresCpu ? await postgresCpu.stop() : Number.NaN;
  const statements = database.statementCount() - statementsBefore;
  const sorted = result.latencies.slice().sort();
  const m: Measurement = {
    name,
    requests: REQUESTS,
    failures: result.failures,
    firstFailure: result.firstFailure,
    reqPerSec: (REQUESTS / result.elapsedMs) * 1000,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1] ?? Number.NaN,
    statementsPerRequest: statements / REQUESTS,
    serverCpuMs: serverCpu / REQUESTS,
    postgresCpuMs: postgresCpuUsed / REQUESTS,
  };
  log(
    `${name}: done, ${REQUESTS} requests in ${(result.elapsedMs / 1000).toFixed(1)}s, ${m.reqPerSec.toFixed(0)} req/s, p50 ${m.p50.toFixed(1)} ms, ${m.failures} failed`,
  );
  if (m.failures > 0) log(`${name}: first failure: ${m.firstFailure}`);
  return m;
}

/** One request to each server from this thread: both must answer the same page. */
async function crossCheck(hashbackUrl: string, baselineUrl: string): Promise<{ same: boolean; merchants: number; detail: string }> {
  const ask = async (url: string) => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json' },
      body: JSON.stringify({ query: QUERY }),
    });
    return (await response.json()) as { data?: { offers: { edges: { node: { merchant: { id: string } } }[] } }; errors?: unknown };
  };
  const [a, b] = await Promise.all([ask(hashbackUrl), ask(baselineUrl)]);
  const edges = a.data?.offers.edges ?? [];
  const merchants = new Set(edges.map((e) => e.node.merchant.id)).size;
  // The data must match; hashback's answer also carries extensions (the operation's cost).
  const same = a.errors === undefined && JSON.stringify(a.data) === JSON.stringify(b.data);
  const detail = same
    ? ''
    : `hashback: ${JSON.stringify(a).slice(0, 300)}\n          baseline: ${JSON.stringify(b).slice(0, 300)}`;
  return { same, merchants, detail };
}

// ---------------------------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------------------------

function table(rows: string[][], rightAligned: (i: number) => boolean): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows
    .map((r) => r.map((cell, i) => (rightAligned(i) ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join('  ').trimEnd())
    .join('\n');
}

function summary(
  results: { uncached: Measurement; cached: Measurement; baseline: Measurement },
  info: { database: string; publicOffers: number; pageMerchants: number; same: boolean },
): string {
  const { uncached, cached, baseline } = results;
  const ms = (v: number) => v.toFixed(1);
  const cpu = (v: number) => (Number.isNaN(v) ? 'n/a' : v.toFixed(2));
  const ratio = (a: number, b: number) => (Number.isNaN(a) || Number.isNaN(b) || b === 0 ? '' : `${(a / b).toFixed(2)}x`);
  const row = (m: Measurement) => [
    m.name,
    m.reqPerSec.toFixed(0),
    ms(m.p50),
    ms(m.p95),
    ms(m.p99),
    ms(m.max),
    m.statementsPerRequest.toFixed(2),
    cpu(m.serverCpuMs),
    cpu(m.postgresCpuMs),
    String(m.failures),
  ];
  const ratios = (m: Measurement, label: string) => [
    label,
    ratio(m.reqPerSec, baseline.reqPerSec),
    ratio(m.p50, baseline.p50),
    ratio(m.p95, baseline.p95),
    ratio(m.p99, baseline.p99),
    '',
    ratio(m.statementsPerRequest, baseline.statementsPerRequest),
    ratio(m.serverCpuMs, baseline.serverCpuMs),
    ratio(m.postgresCpuMs, baseline.postgresCpuMs),
    '',
  ];
  const rows = [
    ['', 'req/s', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'SQL/req', 'server CPU ms/req', 'Postgres CPU ms/req', 'failed'],
    row(uncached),
    row(cached),
    row(baseline),
    ratios(uncached, 'uncached / baseline'),
    ratios(cached, 'cached / baseline'),
  ];
  const rss = process.memoryUsage().rss / (1024 * 1024);
  return [
    '',
    `offer feed benchmark: offers(first: ${PAGE_SIZE}) { id title rewardSummary status endsAt merchant { id name } }, anonymous`,
    `database  ${info.database}`,
    `load      CLIENTS=${CLIENTS}  REQUESTS=${REQUESTS} per server (after ${WARMUP} warm-up)  node ${process.version}  load average before ${loadBefore.toFixed(2)}`,
    `data      ${info.publicOffers} public offers; a page of ${PAGE_SIZE} spans ${info.pageMerchants} merchants; baseline data ${info.same ? 'identical to' : 'DIFFERENT from'} hashback's`,
    `targets   uncached >= 0.60x baseline req/s with Postgres CPU <= 1.30x; cached >= 1.50x baseline req/s (issue 13)`,
    '',
    table(rows, (i) => i > 0),
    '',
    `process RSS at end: ${rss.toFixed(0)} MB`,
    '',
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------

await runBench(config, async ({ bench, startApp, onCleanup }) => {
  const { database } = bench;
  const { publicOffers } = await createBenchData(database.db);
  log(`seeded demo data + ${EXTRA_MERCHANTS} merchants, ${EXTRA_OFFERS} live offers and noise: ${publicOffers} public offers`);

  const { app, url: hashbackUrl } = await startApp();
  if (!app.responseCache) log('the response cache is off (RESPONSE_CACHE_TTL_MS=0 or LIVE_EVENTS=false): the cached phase computes every answer');
  const baseline = createBaselineServer(database.db);
  onCleanup(
    () =>
      new Promise<void>((resolve) => {
        baseline.close(() => resolve());
        baseline.closeAllConnections();
      }),
  );
  const baselineUrl = await listen(baseline);
  log(`hashback at ${hashbackUrl}, baseline at ${baselineUrl}`);

  const check = await crossCheck(hashbackUrl, baselineUrl);
  log(`cross-check: a page spans ${check.merchants} merchants; baseline data ${check.same ? 'identical to hashback' : 'DIFFERS from hashback'}`);
  if (!check.same) log(`  ${check.detail}`);

  const results = {
    uncached: await measure('hashback uncached', hashbackUrl, database, { 'cache-control': 'no-cache' }),
    cached: await measure('hashback cached', hashbackUrl, database),
    baseline: await measure('baseline node:http+SQL', baselineUrl, database),
  };
  console.log(summary(results, { database: bench.label, publicOffers, pageMerchants: check.merchants, same: check.same }));
  const { uncached, cached, baseline: base } = results;
  const failed = (m: Measurement) => (m.failures > 0 ? `; ${m.failures} FAILED requests` : '');
  reportSummary([
    { bench: 'offers', metric: 'uncached req/s', value: uncached.reqPerSec, unit: 'req/s', baseline: base.reqPerSec, ratio: ratioOf(uncached.reqPerSec, base.reqPerSec), note: `target >= 0.60x; p50 ${uncached.p50.toFixed(1)} ms${failed(uncached)}` },
    { bench: 'offers', metric: 'cached req/s', value: cached.reqPerSec, unit: 'req/s', baseline: base.reqPerSec, ratio: ratioOf(cached.reqPerSec, base.reqPerSec), note: `target >= 1.50x; p50 ${cached.p50.toFixed(1)} ms${failed(cached)}` },
    { bench: 'offers', metric: 'uncached server CPU / request', value: uncached.serverCpuMs, unit: 'ms', baseline: base.serverCpuMs, ratio: ratioOf(uncached.serverCpuMs, base.serverCpuMs) },
    ...(Number.isNaN(uncached.postgresCpuMs)
      ? []
      : [{ bench: 'offers', metric: 'uncached Postgres CPU / request', value: uncached.postgresCpuMs, unit: 'ms', baseline: base.postgresCpuMs, ratio: ratioOf(uncached.postgresCpuMs, base.postgresCpuMs), note: 'target <= 1.30x' }]),
  ]);
  if (Object.values(results).some((m) => m.failures > 0)) process.exitCode = 1;
});
