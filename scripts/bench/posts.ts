/**
 * `npm run bench:posts`: social posts per second through `ingestPosts`, and post-to-order latency.
 *
 * (a) Throughput: batches of 500 posts, sent in order by one client (a platform's feed), each a
 * mix of 80% noise (half without hashtags, half with hashtags no offer answers to, from handles
 * nobody verified), 10% buy posts (`#Buy…`) from verified handles and 10% confirmations
 * (`#Confirm…`, answering the buy post) of the intents the previous batch started. Buyers come in
 * two groups that take turns: one buys while the other confirms. So every measured batch starts
 * 50 intents (a held unit, a CONFIRM_PROMPT reply, an e-mail) and charges 50 (the sandbox
 * gateway, the order, the ledger, the receipt) after its commit, in the same call.
 *
 * (b) Post-to-order latency: one confirmation per request from CLIENTS concurrent clients, for
 * intents opened just before (on other offers). The call answers ORDER_PLACED once the card is
 * charged and the order written, so its latency is the time from the post to the order.
 *
 * Baselines: the same posts stored as rows in a scratch copy of `social_posts` (same columns,
 * checks, indexes), one multi-row INSERT per 500 rows, and one row per INSERT from CLIENTS
 * clients, straight through the driver.
 *
 * Checked at the end: every answer as expected (noise IGNORED, buys INTENT_CREATED, confirms
 * ORDER_PLACED); the database holds one intent per buy, one order and one approved sandbox charge
 * per confirmation and none twice, no stock below zero, and each offer's units add up (remaining +
 * held + sold = quantity).
 *
 * The app runs in this process (jobs off); the load comes from a worker thread, as in
 * bench:ingest. Buyers, offers and handles are set up through the API (BUYERS sign-ups: slow on
 * purpose, argon2). Database: a fresh database on the server of DATABASE_URL (created and dropped
 * here), otherwise an in-memory PGlite.
 *
 * Knobs: BATCHES (8 measured batches of 500), BUY_PERCENT (10; confirms are as many, noise the
 * rest), CONFIRMS (160 one-post requests), CLIENTS (8), OFFERS (4 offers per phase),
 * WARMUP_BATCHES (2).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import os from 'node:os';
import { CompiledQuery, sql } from 'kysely';
import pg from 'pg';
import type { Config } from '../../src/config.js';
import type { Database } from '../../src/database.js';
import { mintApiKey } from '../../src/modules/api-keys/api-keys.service.js';
import {
  runBatchLoad,
  approvedMerchant,
  benchConfig,
  benchPartner,
  dbIdOf,
  gqlClient,
  int,
  loadBefore,
  log,
  pool,
  positiveInt,
  postgresCpuMeter,
  ratioOf,
  reportSummary,
  runBench,
  signUpShoppers,
  type BenchDatabase,
  type BenchShopper,
} from './bench-kit.js';

const BATCH_SIZE = 500;

// ---------------------------------------------------------------------------------------------
// Settings
// ---------------------------------------------------------------------------------------------

const BATCHES = positiveInt('BATCHES', 8);
const BUY_PERCENT = positiveInt('BUY_PERCENT', 10);
if (BUY_PERCENT > 50) {
  console.error(`BUY_PERCENT must be at most 50 (buys and confirms are as many), got ${BUY_PERCENT}`);
  process.exit(2);
}
const BUYS_PER_BATCH = Math.max(1, Math.round((BATCH_SIZE * BUY_PERCENT) / 100));
const NOISE_PER_BATCH = BATCH_SIZE - 2 * BUYS_PER_BATCH;
const CONFIRMS = positiveInt('CONFIRMS', 160);
const CLIENTS = positiveInt('CLIENTS', 8);
const OFFERS = positiveInt('OFFERS', 4);
const WARMUP_BATCHES = positiveInt('WARMUP_BATCHES', 2, 0);
/** Two groups take turns buying and confirming; the latency phase needs CONFIRMS / OFFERS distinct buyers. */
const BUYERS = Math.max(2 * BUYS_PER_BATCH, Math.ceil(CONFIRMS / OFFERS));
/** $1.00: the buyers' daily limit is raised anyway, and stock is far larger than any run buys. */
const PRICE = 100;
const QUANTITY = 10_000_000;

// Jobs off so nothing runs beside the load (no expiry: every window is 60 minutes anyway).
const config: Config = benchConfig({ JOBS: 'false' });
const run = randomBytes(3).toString('hex');

// ---------------------------------------------------------------------------------------------
// Set-up through the API
// ---------------------------------------------------------------------------------------------

interface Offer {
  id: string;
  buy: string;
  confirm: string;
}

interface Buyer extends BenchShopper {
  handle: string;
}

const INGEST = `mutation($input: IngestPostsInput!) { ingestPosts(input: $input) { results { postId outcome reason } userErrors { code message } } }`;

async function purchaseOffers(gql: ReturnType<typeof gqlClient>, merchantKey: string, locationId: string, label: string, count: number): Promise<Offer[]> {
  return pool(count, 2, async (i) => {
    const tag = `Bench${label}${run}${i + 1}`;
    const { createOffer } = await gql<{ createOffer: { offer: { id: string; confirmHashtag: string } } }>(
      'createOffer',
      'mutation($input: CreateOfferInput!) { createOffer(input: $input) { offer { id confirmHashtag } userErrors { code message } } }',
      {
        input: {
          kind: 'PURCHASE',
          title: `Bench gift card ${label} ${i + 1}`,
          currency: 'USD',
          price: PRICE,
          quantity: QUANTITY,
          hashtag: `#Buy${tag}`,
          confirmWindowMinutes: 60,
          startsAt: new Date(Date.now() - 60_000).toISOString(),
          endsAt: new Date(Date.now() + 24 * 3_600_000).toISOString(),
          locationIds: [locationId],
        },
      },
      merchantKey,
    );
    await gql(
      'publishOffer',
      'mutation($input: PublishOfferInput!) { publishOffer(input: $input) { offer { status } userErrors { code message } } }',
      { input: { offerId: createOffer.offer.id } },
      merchantKey,
    );
    return { id: createOffer.offer.id, buy: `#Buy${tag}`, confirm: createOffer.offer.confirmHashtag };
  });
}

async function createBenchData(url: string, adminKey: string): Promise<{ throughputOffers: Offer[]; latencyOffers: Offer[]; buyers: Buyer[]; socialKey: string; partnerId: string }> {
  const gql = gqlClient(url);
  const { merchantKey } = await approvedMerchant(gql, adminKey, 'Bench Gift Shop');
  const { createLocation } = await gql<{ createLocation: { location: { id: string } } }>(
    'createLocation',
    'mutation($input: CreateLocationInput!) { createLocation(input: $input) { location { id } userErrors { code message } } }',
    { input: { name: 'Bench Gift Shop — Online', channel: 'ONLINE', country: 'US', timezone: 'America/New_York', mids: [{ network: 'VISA', mid: `BENCH-POSTS-${run.toUpperCase()}` }] } },
    merchantKey,
  );
  const locationId = createLocation.location.id;
  const throughputOffers = await purchaseOffers(gql, merchantKey, locationId, 'T', OFFERS);
  const latencyOffers = await purchaseOffers(gql, merchantKey, locationId, 'L', OFFERS);
  log(`created ${OFFERS * 2} live PURCHASE offers (${OFFERS} for the batches, ${OFFERS} for the latency run), price $1.00, ${int(QUANTITY)} units each`);

  const { partnerId, partnerKey: socialKey } = await benchPartner(gql, adminKey, 'bench social platform', ['POSTS_WRITE']);

  const shoppers = await signUpShoppers(gql, BUYERS, 'posts');
  // Each buyer proves a handle the way users do (a code, then a post holding it), confirms by post,
  // and may spend as much as the run needs.
  const buyers = await pool(shoppers.length, 4, async (i): Promise<Buyer & { code: string }> => {
    const shopper = shoppers[i]!;
    const handle = `p${run}_${i}`;
    const { startHandleVerification } = await gql<{ startHandleVerification: { verification: { code: string } } }>(
      'startHandleVerification',
      'mutation($input: StartHandleVerificationInput!) { startHandleVerification(input: $input) { verification { code } userErrors { code message } } }',
      { input: { platform: 'X', handle } },
      shopper.token,
    );
    await gql(
      'updateHashtagSettings',
      'mutation($input: UpdateHashtagSettingsInput!) { updateHashtagSettings(input: $input) { hashtagSettings { hashtagBuying } userErrors { code message } } }',
      { input: { hashtagBuying: 'CONFIRM_BY_POST', dailyLimit: 1_000_000_000 } },
      shopper.token,
    );
    return { ...shopper, handle, code: startHandleVerification.verification.code };
  });
  const proofs = buyers.map((b) => post(`verify-${b.handle}`, b.handle, `linking my hashback account ${b.code}`));
  const verified = await runLoad(url, socialKey, bodiesOf(proofs, BATCH_SIZE), 1);
  if ((verified.labels.VERIFIED_HANDLE ?? 0) !== buyers.length) {
    throw new Error(`verifying handles: ${JSON.stringify(verified.labels)}${verified.firstFailure ? `, first failure: ${verified.firstFailure}` : ''}`);
  }
  log(`verified ${buyers.length} X handles through the platform's feed; each buyer confirms by post, daily limit raised`);
  return { throughputOffers, latencyOffers, buyers, socialKey, partnerId: dbIdOf(partnerId) };
}

// ---------------------------------------------------------------------------------------------
// Posts
// ---------------------------------------------------------------------------------------------

interface PostItem {
  platform: 'X';
  postId: string;
  authorHandle: string;
  text: string;
  postedAt: string;
  inReplyToPostId?: string;
}

type Kind = 'noise' | 'buy' | 'confirm';

function post(postId: string, handle: string, text: string, inReplyToPostId?: string): PostItem {
  return { platform: 'X', postId: `${run}-${postId}`, authorHandle: `@${handle}`, text, postedAt: new Date().toISOString(), ...(inReplyToPostId ? { inReplyToPostId } : {}) };
}

const NOISE_TEXTS = [
  'Morning run done, coffee next',
  'Anyone watching the game tonight?',
  'New blog post is up: ten tips for better sleep',
  'Loving this weather',
];
const NOISE_TAGS = ['#coffee #monday', '#sunset', '#travel #photography', '#BuyNothingDay', '#giftideas #sale'];

/**
 * The posts of the throughput phase: batch b's buys come from group b % 2, its confirmations from
 * the other group, answering the buy posts of batch b − 1. Batch 0 has buys only (a warm-up).
 */
function throughputBatches(count: number, offers: Offer[], buyers: Buyer[]): { posts: PostItem[]; kinds: Kind[] }[] {
  const groups = [buyers.slice(0, BUYS_PER_BATCH), buyers.slice(BUYS_PER_BATCH, 2 * BUYS_PER_BATCH)];
  const batches: { posts: PostItem[]; kinds: Kind[] }[] = [];
  let previousBuys: PostItem[] = [];
  for (let b = 0; b < count; b++) {
    const buyers = groups[b % 2]!;
    const buys = buyers.map((buyer, i) => post(`b${b}-buy-${i}`, buyer.handle, `Treating myself ${offers[i % offers.length]!.buy}`));
    const confirms =
      b === 0 ? [] : groups[(b + 1) % 2]!.map((buyer, i) => post(`b${b}-confirm-${i}`, buyer.handle, `${offers[i % offers.length]!.confirm} yes`, previousBuys[i]!.postId));
    const noise = Array.from({ length: BATCH_SIZE - buys.length - confirms.length }, (_, i) =>
      post(`b${b}-noise-${i}`, `n${run}_${i % 97}`, i % 2 === 0 ? NOISE_TEXTS[i % NOISE_TEXTS.length]! : `${NOISE_TEXTS[i % NOISE_TEXTS.length]} ${NOISE_TAGS[i % NOISE_TAGS.length]}`),
    );
    // Spread buys and confirms through the noise, as a feed would have them.
    const tagged: [PostItem, Kind][] = [...noise.map((p) => [p, 'noise'] as [PostItem, Kind]), ...buys.map((p) => [p, 'buy'] as [PostItem, Kind]), ...confirms.map((p) => [p, 'confirm'] as [PostItem, Kind])];
    for (let i = tagged.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [tagged[i], tagged[j]] = [tagged[j]!, tagged[i]!];
    }
    batches.push({ posts: tagged.map(([p]) => p), kinds: tagged.map(([, k]) => k) });
    previousBuys = buys;
  }
  return batches;
}

function bodiesOf(posts: PostItem[], perRequest: number): string[] {
  const bodies: string[] = [];
  for (let i = 0; i < posts.length; i += perRequest) {
    bodies.push(JSON.stringify({ query: INGEST, variables: { input: { posts: posts.slice(i, i + perRequest) } } }));
  }
  return bodies;
}

/** The batch load generator of bench-kit, for ingestPosts. */
const runLoad = (url: string, key: string, bodies: string[], clients: number, onProgress?: (requests: number, items: number, elapsedMs: number) => void) =>
  runBatchLoad({ url, key, bodies, clients, field: 'ingestPosts', idField: 'postId', progressReports: 4, onProgress });

/** Posts whose answer was not what their kind should get ("noise" → IGNORED, with or without NO_MATCHING_OFFER). */
function unexpected(posts: PostItem[], kinds: Kind[], byPost: Record<string, string>): Record<string, number> {
  const wrong: Record<string, number> = {};
  posts.forEach((p, i) => {
    const got = byPost[p.postId] ?? 'no answer';
    const kind = kinds[i]!;
    const ok = kind === 'noise' ? got.startsWith('IGNORED') : kind === 'buy' ? got === 'INTENT_CREATED' : got === 'ORDER_PLACED';
    if (!ok) wrong[`${kind}: ${got}`] = (wrong[`${kind}: ${got}`] ?? 0) + 1;
  });
  return wrong;
}

// ---------------------------------------------------------------------------------------------
// Baseline: the same posts as rows, one multi-row INSERT per statement, through the driver
// ---------------------------------------------------------------------------------------------

const BASELINE_TABLE = 'bench_baseline_social_posts';
const BASELINE_COLUMNS = ['id', 'partner_id', 'platform', 'post_id', 'author_handle', 'text', 'posted_at', 'in_reply_to_post_id', 'url', 'outcome', 'reason'] as const;

function baselineRows(partnerId: string, posts: PostItem[], kinds: Kind[]): unknown[][] {
  return posts.map((p, i) => {
    const kind = kinds[i]!;
    const outcome = kind === 'noise' ? 'IGNORED' : kind === 'buy' ? 'INTENT_CREATED' : 'ORDER_PLACED';
    // Another post id: the real rows of these posts are in social_posts, not here, but the scratch table is a copy.
    return [randomUUID(), partnerId, p.platform, `base-${p.postId}`, p.authorHandle.slice(1), p.text, p.postedAt, p.inReplyToPostId ?? null, null, outcome, null];
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

async function baselineExecutor(bench: BenchDatabase, connections: number): Promise<Executor> {
  if (bench.url) {
    const pgPool = new pg.Pool({ connectionString: bench.url, max: connections });
    pgPool.on('error', (error) => log(`baseline connection error: ${error.message}`));
    return { label: 'pg', query: async (text, values) => void (await pgPool.query(text, values)), close: () => pgPool.end() };
  }
  const { db } = bench.database;
  return { label: 'PGlite client (raw SQL via Kysely)', query: async (text, values) => void (await db.executeQuery(CompiledQuery.raw(text, values))), close: async () => {} };
}

async function runBaseline(executor: Executor, rows: unknown[][], perStatement: number, clients: number): Promise<{ elapsedMs: number; latencies: Float64Array }> {
  const chunks: unknown[][][] = [];
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
  posts: number;
  requests: number;
  clients: number;
  seconds: number;
  postsPerSec: number;
  p50: number;
  p99: number;
  cpuMsPerRequest: number;
  postgresCpuMsPerRequest: number;
  /** SQL statements the app sent per request (1 for the baselines). */
  statementsPerRequest: number;
  failures: number;
}

function percentile(values: Float64Array, p: number): number {
  const sorted = values.slice().sort();
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

async function measured<T extends { elapsedMs: number; latencies: Float64Array }>(
  database: Database,
  work: () => Promise<T>,
): Promise<{ result: T; cpuMs: number; postgresCpuMs: number; statements: number }> {
  const postgresCpu = database.kind === 'postgres' ? await postgresCpuMeter(database.db) : undefined;
  const statementsBefore = database.statementCount();
  const before = process.cpuUsage();
  const result = await work();
  const cpu = process.cpuUsage(before);
  const statements = database.statementCount() - statementsBefore;
  return { result, cpuMs: (cpu.user + cpu.system) / 1000, postgresCpuMs: postgresCpu ? await postgresCpu.stop() : Number.NaN, statements };
}

function measurement(
  mode: string,
  posts: number,
  clients: number,
  m: { result: { elapsedMs: number; latencies: Float64Array }; cpuMs: number; postgresCpuMs: number; statements: number },
  failures: number,
): Measurement {
  const requests = m.result.latencies.length;
  return {
    mode,
    posts,
    requests,
    clients,
    seconds: m.result.elapsedMs / 1000,
    postsPerSec: (posts / m.result.elapsedMs) * 1000,
    p50: percentile(m.result.latencies, 50),
    p99: percentile(m.result.latencies, 99),
    cpuMsPerRequest: m.cpuMs / requests,
    postgresCpuMsPerRequest: m.postgresCpuMs / requests,
    // The baselines' INSERTs go around the app's statement counter on Postgres: one per request.
    statementsPerRequest: mode.startsWith('baseline') ? 1 : m.statements / requests,
    failures,
  };
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((cell, i) => (i > 0 ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n');
}

// ---------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------

await runBench(config, async ({ bench, startApp, onCleanup }) => {
  const { database } = bench;
  const { url } = await startApp();
  log(`hashback at ${url} (in this process, jobs off)`);

  const adminKey = (await mintApiKey(database.db, { name: 'bench admin', role: 'ADMIN' })).secret;
  const { throughputOffers, latencyOffers, buyers, socialKey, partnerId } = await createBenchData(url, adminKey);

  await sql.raw(`create table ${BASELINE_TABLE} (like social_posts including all)`).execute(database.db);
  const executor = await baselineExecutor(bench, CLIENTS);
  onCleanup(() => executor.close());

  // ---- (a) throughput: warm-up batches, then the measured ones, all in one ordered feed ----
  const all = throughputBatches(WARMUP_BATCHES + BATCHES, throughputOffers, buyers);
  const warm = all.slice(0, WARMUP_BATCHES);
  const batches = all.slice(WARMUP_BATCHES);
  const wrong: Record<string, number> = {};
  const addWrong = (w: Record<string, number>) => Object.entries(w).forEach(([k, v]) => (wrong[k] = (wrong[k] ?? 0) + v));
  let failures = 0;
  if (warm.length > 0) {
    const posts = warm.flatMap((b) => b.posts);
    const r = await runLoad(url, socialKey, bodiesOf(posts, BATCH_SIZE), 1);
    addWrong(unexpected(posts, warm.flatMap((b) => b.kinds), r.byId));
    failures += r.failures;
    log(`warm-up: ${warm.length} batches, ${JSON.stringify(r.labels)}${r.firstFailure ? `, first failure: ${r.firstFailure}` : ''}`);
  }
  const posts = batches.flatMap((b) => b.posts);
  const kinds = batches.flatMap((b) => b.kinds);
  log(`measuring: ${BATCHES} batches of ${BATCH_SIZE} (${NOISE_PER_BATCH} noise, ${BUYS_PER_BATCH} buys, ${BUYS_PER_BATCH} confirms each), then ${int(CONFIRMS)} single confirmations from ${CLIENTS} clients, and the baselines`);

  const results: Measurement[] = [];
  const base500 = await measured(database, () => runBaseline(executor, baselineRows(partnerId, posts, kinds), BATCH_SIZE, 1));
  results.push(measurement(`baseline, ${BATCH_SIZE} rows per INSERT`, posts.length, 1, base500, 0));
  log(`baseline: ${int(posts.length)} rows in ${(base500.result.elapsedMs / 1000).toFixed(2)}s`);

  const batched = await measured(database, () =>
    runLoad(url, socialKey, bodiesOf(posts, BATCH_SIZE), 1, (requests, done, elapsedMs) => log(`batches: ${requests}/${BATCHES} done, ${int((done / elapsedMs) * 1000)} posts/s so far`)),
  );
  addWrong(unexpected(posts, kinds, batched.result.byId));
  failures += batched.result.failures;
  results.push(measurement(`hashback, ${BATCH_SIZE} per request (mix)`, posts.length, 1, batched, batched.result.failures));
  log(`batches: ${JSON.stringify(batched.result.labels)}${batched.result.firstFailure ? `, first failure: ${batched.result.firstFailure}` : ''}`);

  // ---- (b) post-to-order latency: open CONFIRMS intents (buys in batches), then confirm one per request ----
  const latencyBuys: PostItem[] = [];
  const latencyConfirms: PostItem[] = [];
  for (let i = 0; i < CONFIRMS; i++) {
    // Neighbouring requests come from different buyers (on the same offer).
    const buyer = buyers[i % buyers.length]!;
    const offer = latencyOffers[Math.floor(i / buyers.length) % latencyOffers.length]!;
    const buy = post(`lat-buy-${i}`, buyer.handle, `${offer.buy} for me`);
    latencyBuys.push(buy);
    latencyConfirms.push(post(`lat-confirm-${i}`, buyer.handle, `${offer.confirm}`, buy.postId));
  }
  const opened = await runLoad(url, socialKey, bodiesOf(latencyBuys, BATCH_SIZE), 1);
  addWrong(unexpected(latencyBuys, latencyBuys.map(() => 'buy'), opened.byId));
  failures += opened.failures;
  const baseSingle = await measured(database, () => runBaseline(executor, baselineRows(partnerId, latencyConfirms, latencyConfirms.map(() => 'confirm')), 1, CLIENTS));
  results.push(measurement('baseline, 1 row per INSERT', latencyConfirms.length, CLIENTS, baseSingle, 0));
  const single = await measured(database, () => runLoad(url, socialKey, bodiesOf(latencyConfirms, 1), CLIENTS));
  addWrong(unexpected(latencyConfirms, latencyConfirms.map(() => 'confirm'), single.result.byId));
  failures += single.result.failures;
  results.push(measurement('hashback, 1 confirm per request', latencyConfirms.length, CLIENTS, single, single.result.failures));
  log(`single confirmations: ${JSON.stringify(single.result.labels)}${single.result.firstFailure ? `, first failure: ${single.result.firstFailure}` : ''}`);

  // ---- what the database says ----
  const allPosts = [...warm.flatMap((b) => b.posts), ...posts, ...latencyBuys, ...latencyConfirms];
  const allKinds = [...warm.flatMap((b) => b.kinds), ...kinds, ...latencyBuys.map((): Kind => 'buy'), ...latencyConfirms.map((): Kind => 'confirm')];
  const buysSent = allKinds.filter((k) => k === 'buy').length;
  const confirmsSent = allKinds.filter((k) => k === 'confirm').length;
  const offerIds = [...throughputOffers, ...latencyOffers].map((o) => dbIdOf(o.id));
  const counts = await sql<{ intents: number; orders: number; twice: number; charges: number; charged_twice: number; negative: number; unbalanced: number; posts: number }>`
    select (select count(*) from purchase_intents where offer_id = any(${offerIds}))::int as intents,
           (select count(*) from orders where offer_id = any(${offerIds}))::int as orders,
           (select count(*) from (select intent_id from orders group by intent_id having count(*) > 1) t)::int as twice,
           (select count(*) from sandbox_charges where status = 'APPROVED')::int as charges,
           (select count(*) from (select idempotency_key from sandbox_charges group by idempotency_key having count(*) > 1) t)::int as charged_twice,
           (select count(*) from offers where id = any(${offerIds}) and (quantity_remaining < 0 or quantity_held < 0))::int as negative,
           (select count(*) from offers o where o.id = any(${offerIds})
              and o.quantity_remaining + o.quantity_held + (select count(*) from orders where offer_id = o.id) <> o.quantity)::int as unbalanced,
           (select count(*) from social_posts where partner_id = ${partnerId} and post_id like ${`${run}-%`})::int as posts`.execute(database.db);
  const c = counts.rows[0]!;
  const wrongCount = Object.values(wrong).reduce((s, v) => s + v, 0);
  const ok =
    wrongCount === 0 && failures === 0 && c.intents === buysSent && c.orders === confirmsSent && c.twice === 0 && c.charges === confirmsSent && c.charged_twice === 0 && c.negative === 0 && c.unbalanced === 0 && c.posts === allPosts.length + buyers.length;
  const verified = [
    `${int(allPosts.length)} posts answered${wrongCount ? `, ${wrongCount} NOT as expected: ${JSON.stringify(wrong)}` : ' as expected (noise IGNORED, buys INTENT_CREATED, confirms ORDER_PLACED)'}; ${int(c.posts)} stored with the ${buyers.length} handle proofs`,
    `${int(c.intents)} intents for ${int(buysSent)} buys; ${int(c.orders)} orders and ${int(c.charges)} approved sandbox charges for ${int(confirmsSent)} confirms (${c.twice} intents with two orders, ${c.charged_twice} keys charged twice)`,
    `stock: ${c.negative} offers below zero, ${c.unbalanced} whose remaining + held + sold differs from the quantity${failures ? `; ${failures} failed requests` : ''}`,
  ];

  const baseline = results[0]!;
  const singleBaseline = results[2]!;
  const rows = [
    ['mode', 'posts', 'req', 'clients', 'seconds', 'posts/s', 'p50 ms', 'p99 ms', 'SQL/req', 'node CPU ms/req', 'PG CPU ms/req', 'x baseline'],
    ...results.map((m) => [
      m.mode,
      int(m.posts),
      int(m.requests),
      String(m.clients),
      m.seconds.toFixed(2),
      int(m.postsPerSec),
      m.p50.toFixed(1),
      m.p99.toFixed(1),
      m.statementsPerRequest.toFixed(1),
      m.cpuMsPerRequest.toFixed(1),
      Number.isNaN(m.postgresCpuMsPerRequest) ? '' : m.postgresCpuMsPerRequest.toFixed(1),
      `${(m.postsPerSec / (m.mode.includes('1 ') ? singleBaseline : baseline).postsPerSec).toFixed(3)}x`,
    ]),
  ];
  const batchRow = results[1]!;
  const singleRow = results[3]!;
  console.log(
    [
      '',
      'posts benchmark: ingestPosts { results { postId outcome reason } }, social partner key (posts:write)',
      `database  ${bench.label}`,
      `mix       per batch of ${BATCH_SIZE}: ${NOISE_PER_BATCH} noise (half without hashtags, half with hashtags no offer has), ${BUYS_PER_BATCH} buys from verified handles, ${BUYS_PER_BATCH} confirms of the previous batch's intents (CONFIRM_BY_POST buyers; each charged through the sandbox gateway in the call)`,
      `data      ${buyers.length} buyers with a card and a verified X handle, ${OFFERS} PURCHASE offers per phase`,
      `baseline  the same posts as rows of a copy of social_posts (columns, checks, indexes), via ${executor.label}; the 1-row baseline compares with the single confirmations`,
      `machine   ${os.cpus().length} CPUs, 1-minute load average ${loadBefore.toFixed(1)} before the run; node ${process.version}`,
      '',
      table(rows),
      '',
      `throughput: ${int(batchRow.postsPerSec)} posts/s in batches of ${BATCH_SIZE} (${int((batchRow.postsPerSec * 2 * BUYS_PER_BATCH) / BATCH_SIZE)} buys + confirms/s), ${(batchRow.postsPerSec / baseline.postsPerSec).toFixed(3)}x the multi-row INSERT.`,
      `post-to-order latency (one confirm post per request, ${CLIENTS} clients, answered ORDER_PLACED): p50 ${singleRow.p50.toFixed(1)} ms, p99 ${singleRow.p99.toFixed(1)} ms.`,
      `${ok ? 'verified' : 'FAILED'}: ${verified.join('; ')}`,
      `process RSS at end: ${(process.memoryUsage().rss / (1024 * 1024)).toFixed(0)} MB`,
      '',
    ].join('\n'),
  );
  const verdict = ok ? '' : '; verification FAILED';
  reportSummary([
    { bench: 'posts', metric: `posts/s, ${BATCH_SIZE} per request (mix)`, value: batchRow.postsPerSec, unit: 'posts/s', baseline: baseline.postsPerSec, ratio: ratioOf(batchRow.postsPerSec, baseline.postsPerSec), note: `baseline: ${BATCH_SIZE}-row INSERT; ${BUYS_PER_BATCH} buys + ${BUYS_PER_BATCH} charged confirms per batch${verdict}` },
    { bench: 'posts', metric: `confirm posts/s, 1 per request (${CLIENTS} clients)`, value: singleRow.postsPerSec, unit: 'posts/s', baseline: singleBaseline.postsPerSec, ratio: ratioOf(singleRow.postsPerSec, singleBaseline.postsPerSec), note: `baseline: 1-row INSERTs${verdict}` },
    { bench: 'posts', metric: 'post to order p50', value: singleRow.p50, unit: 'ms', note: `p99 ${Math.round(singleRow.p99).toLocaleString('en-US')} ms; one confirm post per request` },
  ]);
  if (!ok) process.exitCode = 1;
});
