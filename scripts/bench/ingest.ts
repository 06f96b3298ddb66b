/**
 * `npm run bench:ingest`: matched card transactions per second through `ingestTransactions`, sent
 * (a) in batches of 500 items per request and (b) one transaction per request from CLIENTS
 * concurrent clients, against a baseline that only stores the same transaction rows in a scratch
 * copy of the `transactions` table (same columns, checks and indexes), one multi-row INSERT per
 * 500 rows, straight through the driver.
 *
 * Every benchmark transaction qualifies: a standalone CLEARING (TX_TYPE=AUTH for auths) with a
 * linked card at a MID of an approved merchant whose live 1% cashback offer has a budget far
 * larger than the run can spend. So each item does the whole job: fingerprint the card, match it,
 * lock the offer, reserve budget, write the transaction, the cashback, its history, the ledger
 * posting and (for a clearing) the confirmation e-mail. The run fails if any item did not qualify,
 * if the database does not hold exactly the cashback the items earned, or if the ledger does not
 * balance.
 *
 * The app runs in this process (jobs off); the load comes from a worker thread, as in
 * bench:offers. The catalogue, users and cards are created through the API (USERS sign-ups: slow
 * on purpose, argon2). Database: a fresh database on the server of DATABASE_URL (created and
 * dropped here), otherwise an in-memory PGlite.
 *
 * Knobs: TOTAL (20000 items in batches), SINGLE (2000 one-item requests), CLIENTS (8, for the
 * one-item requests and the one-row baseline), BATCH_CLIENTS (1: a partner's ordered feed; batches
 * span every offer, so concurrent ones queue on the offer locks by design), USERS (50), SHOPS
 * (max(8, CLIENTS)), TX_TYPE (CLEARING or AUTH), WARMUP_BATCHES (2), WARMUP_SINGLE (2000: the one-item
 * path runs a fifth slower in its first few thousand requests, while V8 is still optimising it),
 * PROFILE (a folder: a CPU profile of this thread per measured hashback phase, `<phase>.cpuprofile`).
 */
import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import os from 'node:os';
import { CompiledQuery, sql } from 'kysely';
import pg from 'pg';
import type { Config } from '../../src/config.js';
import type { Database } from '../../src/database.js';
import { MAX_MINOR_UNITS } from '../../src/lib/money.js';
import { mintApiKey } from '../../src/modules/api-keys/api-keys.service.js';
import { approvedMerchant, benchConfig, benchPartner, cashbackOfferInput, dbIdOf, gqlClient, int, loadBefore, log, pool, positiveInt, postgresCpuMeter, ratioOf, reportSummary, runBatchLoad, runBench, signUpShoppers, type BenchDatabase, type BenchShopper,
  profiled,
} from './bench-kit.js';

const BATCH_SIZE = 500;

// ---------------------------------------------------------------------------------------------
// Settings
// ---------------------------------------------------------------------------------------------

const TOTAL = positiveInt('TOTAL', 20_000);
const SINGLE = positiveInt('SINGLE', 2_000);
const CLIENTS = positiveInt('CLIENTS', 8);
const BATCH_CLIENTS = positiveInt('BATCH_CLIENTS', 1);
const USERS = positiveInt('USERS', 50);
const SHOPS = positiveInt('SHOPS', Math.max(8, CLIENTS));
const WARMUP_BATCHES = positiveInt('WARMUP_BATCHES', 2, 0);
const WARMUP_SINGLE = positiveInt('WARMUP_SINGLE', 2_000, 0);
const TX_TYPE = process.env.TX_TYPE || 'CLEARING';
const PROFILE_DIR = process.env.PROFILE || undefined;
if (TX_TYPE !== 'CLEARING' && TX_TYPE !== 'AUTH') {
  console.error(`TX_TYPE must be CLEARING or AUTH, got "${TX_TYPE}"`);
  process.exit(2);
}
/** 1% back: a purchase of at most $200 earns at most $2, so a budget of 10^9 minor units outlasts any run. */
const REWARD_BASIS_POINTS = 100;

// Jobs off so nothing runs beside the load.
const config: Config = benchConfig({ JOBS: 'false' });

// ---------------------------------------------------------------------------------------------
// Set-up through the API: merchants, locations, offers, a partner key, users with cards
// ---------------------------------------------------------------------------------------------

interface Shop {
  mid: string;
  locationId: string;
}

type Shopper = BenchShopper;



async function createBenchData(url: string, adminKey: string): Promise<{ shops: Shop[]; shoppers: Shopper[]; partnerKey: string; partnerId: string }> {
  const gql = gqlClient(url);
  const run = randomBytes(3).toString('hex').toUpperCase();

  const shops = await pool(SHOPS, 2, async (i): Promise<Shop> => {
    const name = `Bench Shop ${i + 1}`;
    const { merchantKey } = await approvedMerchant(gql, adminKey, name);
    const mid = `BENCH-${run}-${String(i + 1).padStart(3, '0')}`;
    const { createLocation } = await gql<{ createLocation: { location: { id: string } } }>(
      'createLocation',
      'mutation($input: CreateLocationInput!) { createLocation(input: $input) { location { id } userErrors { code message } } }',
      { input: { name: `${name} — Main St`, channel: 'IN_STORE', country: 'US', timezone: 'America/New_York', mids: [{ network: 'VISA', mid }] } },
      merchantKey,
    );
    const locationId = createLocation.location.id;
    const { createOffer } = await gql<{ createOffer: { offer: { id: string } } }>(
      'createOffer',
      'mutation($input: CreateOfferInput!) { createOffer(input: $input) { offer { id } userErrors { code message } } }',
      { input: cashbackOfferInput(`1% back at ${name}`, locationId, REWARD_BASIS_POINTS) },
      merchantKey,
    );
    await gql(
      'publishOffer',
      'mutation($input: PublishOfferInput!) { publishOffer(input: $input) { offer { status } userErrors { code message } } }',
      { input: { offerId: createOffer.offer.id } },
      merchantKey,
    );
    return { mid, locationId: dbIdOf(locationId) };
  });
  log(`created ${SHOPS} approved merchants, each with a location (one VISA MID) and a live 1% cashback offer, budget ${int(MAX_MINOR_UNITS)} minor units`);

  const { partnerId, partnerKey } = await benchPartner(gql, adminKey, 'bench partner', ['TRANSACTIONS_WRITE']);

  const shoppers = await signUpShoppers(gql, USERS, 'bench');
  return { shops, shoppers, partnerKey, partnerId: dbIdOf(partnerId) };
}

// ---------------------------------------------------------------------------------------------
// Items: qualifying transactions, spread over shops and shoppers
// ---------------------------------------------------------------------------------------------

interface Item {
  externalId: string;
  type: string;
  cardNumber: string;
  network: 'VISA';
  mid: string;
  amount: number;
  currency: 'USD';
  occurredAt: string;
}

/** Item i goes to shop i % SHOPS, so concurrent one-item requests touch different offers. */
function makeItems(prefix: string, count: number, shops: Shop[], shoppers: Shopper[]): { items: Item[]; owners: { shop: Shop; shopper: Shopper }[] } {
  const occurredAt = new Date(Date.now() - 60_000).toISOString();
  const items: Item[] = [];
  const owners: { shop: Shop; shopper: Shopper }[] = [];
  for (let i = 0; i < count; i++) {
    const shop = shops[i % shops.length]!;
    const shopper = shoppers[Math.floor(i / shops.length) % shoppers.length]!;
    items.push({
      externalId: `${prefix}-${i}`,
      type: TX_TYPE,
      cardNumber: shopper.cardNumber,
      network: 'VISA',
      mid: shop.mid,
      amount: 500 + randomInt(19_500), // $5.00 … $199.99
      currency: 'USD',
      occurredAt,
    });
    owners.push({ shop, shopper });
  }
  return { items, owners };
}

const INGEST = `mutation($input: IngestTransactionsInput!) { ingestTransactions(input: $input) { results { externalId outcome reason } userErrors { code message } } }`;

function requestBodies(items: Item[], perRequest: number): string[] {
  const bodies: string[] = [];
  for (let i = 0; i < items.length; i += perRequest) {
    bodies.push(JSON.stringify({ query: INGEST, variables: { input: { transactions: items.slice(i, i + perRequest) } } }));
  }
  return bodies;
}

/** The batch load generator of bench-kit, for ingestTransactions. */
const runLoad = (url: string, key: string, bodies: string[], clients: number, onProgress?: (requests: number, items: number, elapsedMs: number) => void) =>
  runBatchLoad({ url, key, bodies, clients, field: 'ingestTransactions', idField: 'externalId', progressReports: 5, onProgress });

// ---------------------------------------------------------------------------------------------
// Baseline: the same transaction rows, one multi-row INSERT per statement, through the driver
// ---------------------------------------------------------------------------------------------

const BASELINE_TABLE = 'bench_baseline_transactions';
const BASELINE_COLUMNS = [
  'id',
  'partner_id',
  'external_id',
  'type',
  'network',
  'mid',
  'location_id',
  'card_id',
  'user_id',
  'amount',
  'currency',
  'occurred_at',
  'outcome',
  'cashback_id',
] as const;

type BaselineRow = unknown[];

function baselineRows(partnerId: string, items: Item[], owners: { shop: Shop; shopper: Shopper }[]): BaselineRow[] {
  return items.map((item, i) => {
    const { shop, shopper } = owners[i]!;
    // A matched transaction row as ingest writes it; the cashback id points nowhere (no foreign keys here).
    return [randomUUID(), partnerId, item.externalId, item.type, item.network, item.mid, shop.locationId, shopper.cardId, shopper.userId, item.amount, item.currency, item.occurredAt, 'QUALIFIED', randomUUID()];
  });
}

function insertText(rowCount: number): string {
  const width = BASELINE_COLUMNS.length;
  const tuples = Array.from({ length: rowCount }, (_, r) => `(${Array.from({ length: width }, (_, c) => `$${r * width + c + 1}`).join(', ')})`);
  return `insert into ${BASELINE_TABLE} (${BASELINE_COLUMNS.join(', ')}) values ${tuples.join(', ')}`;
}

interface Executor {
  label: string;
  query(text: string, values: unknown[]): Promise<void>;
  close(): Promise<void>;
}

/** pg straight to the throwaway database; on PGlite the only way in is its client, through Kysely's raw SQL. */
async function baselineExecutor(bench: BenchDatabase, connections: number): Promise<Executor> {
  if (bench.url) {
    const pgPool = new pg.Pool({ connectionString: bench.url, max: connections });
    // An idle connection closed by the server must not take the process down.
    pgPool.on('error', (error) => log(`baseline connection error: ${error.message}`));
    return {
      label: 'pg',
      query: async (text, values) => void (await pgPool.query(text, values)),
      close: () => pgPool.end(),
    };
  }
  const { db } = bench.database;
  return {
    label: 'PGlite client (raw SQL via Kysely)',
    // The same text with positional parameters that pg would send.
    query: async (text, values) => void (await db.executeQuery(CompiledQuery.raw(text, values))),
    close: async () => {},
  };
}

async function runBaseline(executor: Executor, rows: BaselineRow[], perStatement: number, clients: number): Promise<{ elapsedMs: number; latencies: Float64Array }> {
  const chunks: BaselineRow[][] = [];
  for (let i = 0; i < rows.length; i += perStatement) chunks.push(rows.slice(i, i + perStatement));
  const texts = new Map<number, string>();
  const latencies = new Float64Array(chunks.length);
  const started = performance.now();
  await pool(chunks.length, clients, async (i) => {
    const chunk = chunks[i]!;
    let text = texts.get(chunk.length);
    if (!text) texts.set(chunk.length, (text = insertText(chunk.length)));
    const t0 = performance.now();
    await executor.query(text, chunk.flat());
    latencies[i] = performance.now() - t0;
  });
  return { elapsedMs: performance.now() - started, latencies };
}

// ---------------------------------------------------------------------------------------------
// Measuring and the report
// ---------------------------------------------------------------------------------------------

interface Measurement {
  mode: string;
  items: number;
  requests: number;
  clients: number;
  seconds: number;
  txPerSec: number;
  p50: number;
  p95: number;
  statementsPerRequest: number | null;
  /** CPU time of this process (the app, or the baseline's driver, plus the load worker) per request. */
  cpuMsPerRequest: number;
  /** CPU time of the Postgres backends of the bench database per request (NaN on PGlite). */
  postgresCpuMsPerRequest: number;
  qualified: number;
  failures: number;
}

function percentile(values: Float64Array, p: number): number {
  const sorted = values.slice().sort();
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}


async function measureIngest(
  mode: string,
  url: string,
  key: string,
  database: Database,
  items: Item[],
  perRequest: number,
  clients: number,
): Promise<Measurement> {
  const bodies = requestBodies(items, perRequest);
  const statementsBefore = database.statementCount();
  const postgresCpu = database.kind === 'postgres' ? await postgresCpuMeter(database.db) : undefined;
  const cpuBefore = process.cpuUsage();
  const result = await profiled(PROFILE_DIR, mode, () =>
    runLoad(url, key, bodies, clients, (requests, done, elapsedMs) =>
      log(`${mode}: ${int(done)}/${int(items.length)} items in ${int(requests)} requests, ${int((done / elapsedMs) * 1000)} matched tx/s so far`),
    ),
  );
  const cpu = process.cpuUsage(cpuBefore);
  const postgresCpuMs = postgresCpu ? await postgresCpu.stop() : Number.NaN;
  const statements = database.statementCount() - statementsBefore;
  const qualified = result.outcomes.QUALIFIED ?? 0;
  const m: Measurement = {
    mode,
    items: items.length,
    requests: bodies.length,
    clients,
    seconds: result.elapsedMs / 1000,
    txPerSec: (qualified / result.elapsedMs) * 1000,
    p50: percentile(result.latencies, 50),
    p95: percentile(result.latencies, 95),
    statementsPerRequest: statements / bodies.length,
    cpuMsPerRequest: (cpu.user + cpu.system) / 1000 / bodies.length,
    postgresCpuMsPerRequest: postgresCpuMs / bodies.length,
    qualified,
    failures: result.failures,
  };
  const others = Object.entries(result.outcomes).filter(([k]) => k !== 'QUALIFIED');
  log(
    `${mode}: done, ${int(qualified)}/${int(items.length)} QUALIFIED in ${m.seconds.toFixed(1)}s = ${int(m.txPerSec)} matched tx/s` +
      (others.length ? `; also ${others.map(([k, v]) => `${v} ${k}`).join(', ')}` : '') +
      (Object.keys(result.reasons).length ? ` (reasons: ${JSON.stringify(result.reasons)})` : '') +
      (result.failures ? `; ${result.failures} failed requests, first: ${result.firstFailure}` : ''),
  );
  return m;
}

async function measureBaseline(mode: string, executor: Executor, database: Database, rows: BaselineRow[], perStatement: number, clients: number): Promise<Measurement> {
  const postgresCpu = database.kind === 'postgres' ? await postgresCpuMeter(database.db) : undefined;
  const cpuBefore = process.cpuUsage();
  const { elapsedMs, latencies } = await runBaseline(executor, rows, perStatement, clients);
  const cpu = process.cpuUsage(cpuBefore);
  const postgresCpuMs = postgresCpu ? await postgresCpu.stop() : Number.NaN;
  const m: Measurement = {
    mode,
    items: rows.length,
    requests: latencies.length,
    clients,
    seconds: elapsedMs / 1000,
    txPerSec: (rows.length / elapsedMs) * 1000,
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    statementsPerRequest: 1,
    cpuMsPerRequest: (cpu.user + cpu.system) / 1000 / latencies.length,
    postgresCpuMsPerRequest: postgresCpuMs / latencies.length,
    qualified: rows.length,
    failures: 0,
  };
  log(`${mode}: ${int(rows.length)} rows in ${m.seconds.toFixed(2)}s = ${int(m.txPerSec)} rows/s`);
  return m;
}

function table(rows: string[][], rightAligned: (i: number) => boolean): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows
    .map((r) => r.map((cell, i) => (rightAligned(i) ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join('  ').trimEnd())
    .join('\n');
}

function summary(results: Measurement[], info: { database: string; baselineVia: string; verified: string; ok: boolean }): string {
  const baseline = results[0]!;
  const rows = [
    ['mode', 'items', 'req', 'clients', 'seconds', 'matched tx/s', 'p50 ms', 'p95 ms', 'SQL/req', 'node CPU ms/req', 'PG CPU ms/req', 'CPU µs/tx', 'x baseline'],
    ...results.map((m) => [
      m.mode,
      int(m.items),
      int(m.requests),
      String(m.clients),
      m.seconds.toFixed(2),
      int(m.txPerSec),
      m.p50.toFixed(1),
      m.p95.toFixed(1),
      m.statementsPerRequest === null ? '' : m.statementsPerRequest.toFixed(1),
      m.cpuMsPerRequest.toFixed(1),
      Number.isNaN(m.postgresCpuMsPerRequest) ? '' : m.postgresCpuMsPerRequest.toFixed(1),
      int(((m.cpuMsPerRequest + (Number.isNaN(m.postgresCpuMsPerRequest) ? 0 : m.postgresCpuMsPerRequest)) * 1000 * m.requests) / m.items),
      `${(m.txPerSec / baseline.txPerSec).toFixed(3)}x`,
    ]),
  ];
  const batch = results.find((m) => m.mode.startsWith('hashback, 500'));
  const single = results.find((m) => m.mode.startsWith('hashback, 1 '));
  const singleBaseline = results.find((m) => m.mode.startsWith('baseline, 1 '));
  const notes: string[] = [];
  if (batch && single) notes.push(`batching: 500 per request is ${(batch.txPerSec / single.txPerSec).toFixed(1)}x one per request`);
  if (single && singleBaseline) notes.push(`one per request reaches ${(single.txPerSec / singleBaseline.txPerSec).toFixed(2)}x of one-row INSERTs with the same clients`);
  // A request's statements run one after another on one connection, so Postgres's own CPU per
  // request bounds what one partner sending one request at a time can reach, however little the
  // server spends.
  if (batch && !Number.isNaN(batch.postgresCpuMsPerRequest) && BATCH_CLIENTS === 1) {
    const ceiling = (BATCH_SIZE * 1000) / batch.postgresCpuMsPerRequest;
    notes.push(`Postgres alone spends ${batch.postgresCpuMsPerRequest.toFixed(0)} ms of CPU on a ${BATCH_SIZE}-item request: one request at a time, that caps the batch path at ${int(ceiling)} tx/s were the server free`);
  }
  if (single && !Number.isNaN(single.postgresCpuMsPerRequest)) {
    const ceiling = (os.cpus().length * 1000) / (single.cpuMsPerRequest + single.postgresCpuMsPerRequest);
    notes.push(`one per request costs ${(single.cpuMsPerRequest + single.postgresCpuMsPerRequest).toFixed(1)} ms of CPU (node + Postgres): ${os.cpus().length} CPUs fully busy would serve ${int(ceiling)} tx/s`);
  }
  const rss = process.memoryUsage().rss / (1024 * 1024);
  return [
    '',
    `ingest benchmark: ingestTransactions { results { externalId outcome reason } }, partner key, every item a qualifying ${TX_TYPE}`,
    `database  ${info.database}`,
    `data      ${SHOPS} merchants with a live 1% offer, ${USERS} users with a linked card; items spread over all of them`,
    `baseline  the same transaction rows into a copy of the transactions table (columns, checks, indexes), via ${info.baselineVia}`,
    `machine   ${os.cpus().length} CPUs, 1-minute load average ${loadBefore.toFixed(1)} before the run; node ${process.version}`,
    `          "node CPU" is this process (the app, or the baseline's driver${config.databaseUrl ? '' : ' and PGlite'}, plus the load worker)${config.databaseUrl ? '; "PG CPU" the backends of the bench database (/proc)' : ''};`,
    `          "CPU µs/tx" is both per item: the figure other work on the machine skews least`,
    '',
    table(rows, (i) => i > 0),
    '',
    ...notes.map((n) => `${n}.`),
    `${info.ok ? 'verified' : 'FAILED'}: ${info.verified}`,
    `process RSS at end: ${rss.toFixed(0)} MB`,
    '',
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------

await runBench(config, async ({ bench, startApp, onCleanup }) => {
  const { database } = bench;
  const { url } = await startApp();
  log(`hashback at ${url} (in this process, jobs off)`);

  const adminKey = (await mintApiKey(database.db, { name: 'bench admin', role: 'ADMIN' })).secret;
  const { shops, shoppers, partnerKey, partnerId } = await createBenchData(url, adminKey);

  await sql.raw(`create table ${BASELINE_TABLE} (like transactions including all)`).execute(database.db);
  const executor = await baselineExecutor(bench, CLIENTS);
  onCleanup(() => executor.close());

  // Warm-up (JIT, caches, connections): qualifying items too, counted in the final check.
  let sent = 0;
  /** The cashback every item sent must have earned: 1% of its amount, rounded down. */
  let rewardsSent = 0;
  const expectRewards = (items: Item[]) => {
    for (const item of items) rewardsSent += Math.floor((item.amount * REWARD_BASIS_POINTS) / 10_000);
  };
  if (WARMUP_BATCHES > 0 || WARMUP_SINGLE > 0) {
    const warmBatch = makeItems('warm-batch', WARMUP_BATCHES * BATCH_SIZE, shops, shoppers);
    const warmSingle = makeItems('warm-single', WARMUP_SINGLE, shops, shoppers);
    const a = await runLoad(url, partnerKey, requestBodies(warmBatch.items, BATCH_SIZE), BATCH_CLIENTS);
    const b = await runLoad(url, partnerKey, requestBodies(warmSingle.items, 1), CLIENTS);
    await runBaseline(executor, baselineRows(partnerId, warmBatch.items, warmBatch.owners), BATCH_SIZE, 1);
    sent += warmBatch.items.length + warmSingle.items.length;
    expectRewards(warmBatch.items);
    expectRewards(warmSingle.items);
    const q = (a.outcomes.QUALIFIED ?? 0) + (b.outcomes.QUALIFIED ?? 0);
    log(`warm-up: ${int(q)}/${int(warmBatch.items.length + warmSingle.items.length)} QUALIFIED, ${a.failures + b.failures} failed requests`);
    if (a.firstFailure || b.firstFailure) log(`  first warm-up failure: ${a.firstFailure ?? b.firstFailure}`);
    await sql.raw(`truncate ${BASELINE_TABLE}`).execute(database.db);
  }

  const batched = makeItems('batch', TOTAL, shops, shoppers);
  const single = makeItems('single', SINGLE, shops, shoppers);
  sent += TOTAL + SINGLE;
  expectRewards(batched.items);
  expectRewards(single.items);
  log(`measuring: ${int(TOTAL)} items in batches of ${BATCH_SIZE}, then ${int(SINGLE)} one per request (${CLIENTS} clients), and the baselines`);

  const results: Measurement[] = [];
  results.push(await measureBaseline(`baseline, ${BATCH_SIZE} rows per INSERT`, executor, database, baselineRows(partnerId, batched.items, batched.owners), BATCH_SIZE, 1));
  results.push(await measureIngest(`hashback, ${BATCH_SIZE} per request`, url, partnerKey, database, batched.items, BATCH_SIZE, BATCH_CLIENTS));
  results.push(await measureBaseline('baseline, 1 row per INSERT', executor, database, baselineRows(partnerId, single.items, single.owners), 1, CLIENTS));
  results.push(await measureIngest('hashback, 1 per request', url, partnerKey, database, single.items, 1, CLIENTS));

  // The answers said QUALIFIED; the database must say so too, hold exactly the cashback the items
  // earned, and its ledger must balance: every posting sums to zero, and what the offers' budgets
  // gave is what the cashback holds.
  const counted = await sql<{ transactions: number; cashbacks: number; rewards: number; ledger: number; budgets: number; remaining: number }>`
    select (select count(*) from transactions where outcome = 'QUALIFIED')::int as transactions,
           (select count(*) from cashbacks)::int as cashbacks,
           (select coalesce(sum(amount), 0) from cashbacks)::bigint as rewards,
           (select coalesce(sum(amount), 0) from ledger_entries)::bigint as ledger,
           (select coalesce(sum(amount), 0) from ledger_entries where account = 'OFFER_BUDGET')::bigint as budgets,
           (select coalesce(sum(budget - budget_remaining), 0) from offers)::bigint as remaining`.execute(database.db);
  const { transactions, cashbacks } = counted.rows[0]!;
  const rewards = Number(counted.rows[0]!.rewards);
  const ledger = Number(counted.rows[0]!.ledger);
  const budgets = Number(counted.rows[0]!.budgets);
  const spent = Number(counted.rows[0]!.remaining);
  const answered = results.filter((m) => m.mode.startsWith('hashback')).reduce((s, m) => s + m.qualified, 0);
  const measuredSent = TOTAL + SINGLE;
  const failures = results.reduce((s, m) => s + m.failures, 0);
  const balanced = ledger === 0 && budgets === -rewards && spent === rewards;
  const ok = answered === measuredSent && transactions === sent && cashbacks === sent && rewards === rewardsSent && balanced && failures === 0;
  const verified =
    `${int(answered)}/${int(measuredSent)} measured items answered QUALIFIED; the database holds ${int(transactions)} qualified transactions and ${int(cashbacks)} cashbacks for ${int(sent)} sent (warm-up included), ` +
    `${int(rewards)} minor units of cashback for ${int(rewardsSent)} earned; ledger ${balanced ? 'balanced' : `NOT balanced (sum ${ledger}, budgets ${budgets}, offers spent ${spent})`}` +
    (failures ? `; ${failures} failed requests` : '');
  console.log(summary(results, { database: bench.label, baselineVia: executor.label, verified, ok }));
  // Node and Postgres CPU together per item, as in the table's "CPU µs/tx".
  const cpuUsPerTx = (m: Measurement) => ((m.cpuMsPerRequest + (Number.isNaN(m.postgresCpuMsPerRequest) ? 0 : m.postgresCpuMsPerRequest)) * 1000 * m.requests) / m.items;
  const [batchBase, batch, singleBase, one] = results as [Measurement, Measurement, Measurement, Measurement];
  const verdict = ok ? '' : '; verification FAILED';
  reportSummary([
    { bench: 'ingest', metric: `matched tx/s, ${BATCH_SIZE} per request`, value: batch.txPerSec, unit: 'tx/s', baseline: batchBase.txPerSec, ratio: ratioOf(batch.txPerSec, batchBase.txPerSec), note: `baseline: ${BATCH_SIZE}-row INSERT; target >= 6,000 tx/s on Postgres${verdict}` },
    { bench: 'ingest', metric: `matched tx/s, 1 per request (${CLIENTS} clients)`, value: one.txPerSec, unit: 'tx/s', baseline: singleBase.txPerSec, ratio: ratioOf(one.txPerSec, singleBase.txPerSec), note: `baseline: 1-row INSERTs; target >= 500 tx/s${verdict}` },
    { bench: 'ingest', metric: `CPU per tx, ${BATCH_SIZE} per request`, value: cpuUsPerTx(batch), unit: 'µs', baseline: cpuUsPerTx(batchBase), ratio: ratioOf(cpuUsPerTx(batch), cpuUsPerTx(batchBase)), note: config.databaseUrl ? 'node + Postgres' : 'node (PGlite inside)' },
  ]);
  if (!ok) process.exitCode = 1;
});
