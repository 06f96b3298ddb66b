/**
 * Live events across instances. On real Postgres: two server processes, a subscription on one
 * and the write on the other, signalled by Postgres NOTIFY or by Redis; a subscriber that resumes
 * after its server restarted; and background jobs raced by two instances. On both databases:
 * subscriptions over Server-Sent Events.
 *
 * The processes and the job race get a scratch database of their own on the run's Postgres
 * server: test files share the run's database, and other files' in-process apps sequence events
 * there without notifying anyone (and run jobs over every row), which would make "delivered by
 * NOTIFY within 3 s" and "the job ran exactly once" depend on what else happens to be running.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it, onTestFailed } from 'vitest';
import { daysAgo, ingest, item, newShop, newShopper } from '../../test/cashback-fixtures.js';
import { CONFIRMATIONS, openStream, type Confirmation, type Stream } from '../../test/confirmation-stream.js';
import { apiFixtures, databaseKind, dbId, httpGql, startHarness, unique, type Harness } from '../../test/harness.js';
import { startServerProcess, stopAllServerProcesses, type ServerProcess } from '../../test/server-process.js';
import { createApp, type App } from '../app.js';
import { loadConfig } from '../config.js';
import { openDatabase, type Database } from '../database.js';
import { decodeCursor } from '../lib/pagination.js';
import { createLogger } from '../logger.js';
import { migrateToLatest } from '../migrate.js';
import { mintApiKey } from '../modules/api-keys/api-keys.service.js';
import { generateCardKeys } from '../modules/cards/card-crypto.js';
import { loadSecurity } from '../security.js';
import { EVENTS_CHANNEL } from './relay.js';

const HOUR = 60 * 60 * 1000;


const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const summary = (events: Confirmation[]) => events.map((e) => [e.type, e.amount.amount]);
const positionOf = (cursor: string) => decodeCursor(cursor, ['int'] as const)[0];

// ---------------------------------------------------------------------------------------------
// The harness's fixtures against an instance reached by URL (a child process, or an in-process app).

function apiOf(url: string, adminKey: string, fetcher?: (url: string, init: RequestInit) => Promise<Response>) {
  const api = apiFixtures(httpGql(url, fetcher), adminKey);
  return {
    ...api,
    newShop: (offer: Record<string, unknown> = {}) => newShop(api, offer),
    newShopper: () => newShopper(api),
    ingest: async (partnerKey: string, transactions: Record<string, unknown>[]) => {
      const { results, userErrors } = await ingest(api, partnerKey, transactions);
      if (!results) throw new Error(`ingestTransactions: ${JSON.stringify(userErrors)}`);
      return results;
    },
  };
}
type Api = ReturnType<typeof apiOf>;

// ---------------------------------------------------------------------------------------------
// graphql-ws streams against another process.

/**
 * A remote server gives no sign that it has registered a subscription, so instead of sleeping:
 * ingest a probe purchase (each with its own amount) until the probe's own event arrives. After
 * that the subscription is live, and every earlier probe has either arrived or never will.
 * Returns the auth of the probe that arrived.
 */
async function goLive(stream: Stream, api: Api, partnerKey: string, shop: { mid: string }, cardNumber: string) {
  for (let attempt = 1; attempt <= 5; attempt++) {
    const probe = item(shop, cardNumber, { amount: 1000 + attempt * 10 });
    await api.ingest(partnerKey, [probe]);
    const reward = 100 + attempt;
    const end = Date.now() + 1000;
    while (Date.now() < end) {
      if (stream.events.some((e) => e.type === 'PENDING' && e.amount.amount === reward)) return probe;
      await stream.next(stream.events.length + 1, end - Date.now());
    }
  }
  throw new Error(`the subscription never received one of five probe events (got ${JSON.stringify(stream.events)})`);
}

// ---------------------------------------------------------------------------------------------
// A scratch database on the run's Postgres server.

async function adminQuery(url: string, statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

async function createScratchDatabase(): Promise<{ url: string; database: Database; drop(): Promise<void> }> {
  const target = inject('database');
  if (target.kind !== 'postgres') throw new Error('needs Postgres');
  const name = `hashback_scale_${Date.now()}_${randomBytes(3).toString('hex')}`;
  await adminQuery(target.url, `create database ${name}`);
  const url = new URL(target.url);
  url.pathname = `/${name}`;
  const database = await openDatabase({ url: url.toString(), poolSize: 3 });
  await migrateToLatest(database.db);
  return {
    url: url.toString(),
    database,
    drop: async () => {
      await database.close();
      await adminQuery(target.url, `drop database if exists ${name} with (force)`);
    },
  };
}

/** Whether the Redis of TEST_REDIS_URL answers a PING within 1 s; the reason when it does not. */
async function redisProblem(): Promise<string | null> {
  const url = process.env.TEST_REDIS_URL;
  if (!url) return 'TEST_REDIS_URL is not set';
  const client = new Redis(url, { lazyConnect: true, connectTimeout: 1000, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null });
  client.on('error', () => undefined);
  try {
    const answer = await Promise.race([
      client.connect().then(() => client.ping()),
      sleep(1000).then(() => 'no answer within 1 s'),
    ]);
    return answer === 'PONG' ? null : `Redis at ${url} did not answer a PING (${answer})`;
  } catch (error) {
    return `Redis at ${url} did not answer a PING (${(error as Error).message})`;
  } finally {
    client.disconnect();
  }
}

const onPostgres = databaseKind() === 'postgres';
const redisSkipReason = onPostgres ? await redisProblem() : 'not on Postgres';
if (onPostgres && redisSkipReason) console.warn(`scale-out: skipping the Redis test: ${redisSkipReason}`);

// ---------------------------------------------------------------------------------------------

describe.runIf(onPostgres)('scale-out on Postgres', () => {
  const tokenSecret = randomBytes(32).toString('base64url');
  const cardKeys = generateCardKeys();
  const secrets = { TOKEN_SECRET: tokenSecret, CARD_ENCRYPTION_KEYS: cardKeys.encryptionKeys, CARD_FINGERPRINT_KEY: cardKeys.fingerprintKey };
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
  let adminKey: string;
  let dataDir: string;

  const childEnv = (extra: Record<string, string> = {}): Record<string, string> => ({
    DATABASE_URL: scratch.url,
    DATABASE_POOL_SIZE: '4',
    DATA_DIR: dataDir,
    NODE_ENV: 'test',
    LOG_LEVEL: 'warn',
    JOBS: 'false',
    // Only the signal can deliver within the test: the fallback poll is a minute away.
    EVENT_POLL_MS: '60000',
    SEED_ON_FIRST_START: 'false',
    GRAPHIQL: 'false',
    SHUTDOWN_TIMEOUT_MS: '2000',
    ...secrets,
    ...extra,
  });

  beforeAll(async () => {
    scratch = await createScratchDatabase();
    adminKey = (await mintApiKey(scratch.database.db, { name: unique('scale admin'), role: 'ADMIN' })).secret;
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hashback-scale-'));
  });
  afterAll(async () => {
    await stopAllServerProcesses();
    await scratch?.drop();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const dumpOnFailure = (...servers: (ServerProcess | undefined)[]) =>
    onTestFailed(() => {
      for (const s of servers) if (s) console.error(`--- server on port ${s.port} (pid ${s.pid}) ---\n${s.output()}`);
    });

  describe('through Postgres NOTIFY', () => {
    let a: ServerProcess;
    let b: ServerProcess;
    let api: Api;
    let partner: { key: string };

    beforeAll(async () => {
      [a, b] = await Promise.all([startServerProcess(childEnv()), startServerProcess(childEnv())]);
      api = apiOf(a.url, adminKey);
      partner = await api.newPartner();
    });
    afterAll(async () => {
      await Promise.all([a?.stop(), b?.stop()]);
    });

    it('delivers across instances through Postgres NOTIFY', async () => {
      dumpOnFailure(a, b);
      const shop = await api.newShop();
      const shopper = await api.newShopper();
      const stream = openStream(b.wsUrl, shopper.token);
      try {
        await goLive(stream, api, partner.key, shop, shopper.card.number);
        const seen = stream.events.length;
        const auth = item(shop, shopper.card.number, { amount: 4000 });
        const started = Date.now();
        await api.ingest(partner.key, [auth]);
        const [pending] = (await stream.next(seen + 1, 3000)).slice(seen);
        const latency = Date.now() - started;
        expect(pending, 'the PENDING confirmation reached the other instance').toMatchObject({ type: 'PENDING', status: 'PENDING', amount: { amount: 400 } });
        expect(latency).toBeLessThan(3000);
        await api.ingest(partner.key, [item(shop, shopper.card.number, { type: 'CLEARING', amount: 5000, authExternalId: auth.externalId })]);
        const [confirmed] = (await stream.next(seen + 2, 3000)).slice(seen + 1);
        expect(confirmed).toMatchObject({ type: 'CONFIRMED', status: 'CONFIRMED', amount: { amount: 500 }, cashback: { status: 'CONFIRMED' } });
        expect(positionOf(confirmed!.cursor)).toBeGreaterThan(positionOf(pending!.cursor));
        await sleep(300);
        expect(stream.events).toHaveLength(seen + 2);
      } finally {
        await stream.stop();
      }
    });

    it('resumes across a server restart', async () => {
      dumpOnFailure(a, b);
      const shop = await api.newShop();
      const shopper = await api.newShopper();
      const first = openStream(b.wsUrl, shopper.token);
      let again: Stream | undefined;
      try {
        await goLive(first, api, partner.key, shop, shopper.card.number);
        const seenBefore = first.events.length;
        const auth = item(shop, shopper.card.number, { amount: 3000 });
        await api.ingest(partner.key, [auth]);
        const [seen] = (await first.next(seenBefore + 1, 3000)).slice(seenBefore);
        expect(seen).toMatchObject({ type: 'PENDING', amount: { amount: 300 } });

        // B goes away: it shuts down cleanly and tells the client it is going away.
        const port = b.port;
        expect(await b.stop()).toBe(0);
        const closed = await Promise.race([first.closed, sleep(3000).then(() => null)]);
        expect(closed?.code).toBe(1001);

        // While B is down, A keeps taking writes: a clearing and a partial refund.
        await api.ingest(partner.key, [item(shop, shopper.card.number, { type: 'CLEARING', amount: 3000, authExternalId: auth.externalId })]);
        await api.ingest(partner.key, [item(shop, shopper.card.number, { type: 'REFUND', amount: 1000, originalExternalId: auth.externalId })]);

        b = await startServerProcess(childEnv(), { port });
        again = openStream(b.wsUrl, shopper.token, { after: seen!.cursor });
        expect(summary(await again.next(2, 3000))).toEqual([
          ['CONFIRMED', 300],
          ['REVERSED', 200],
        ]);
        // The replay is done, so the subscription is registered: the next one comes live.
        await api.ingest(partner.key, [item(shop, shopper.card.number, { amount: 1000 })]);
        expect(summary(await again.next(3, 3000))).toEqual([
          ['CONFIRMED', 300],
          ['REVERSED', 200],
          ['PENDING', 100],
        ]);
        const positions = again.events.map((e) => positionOf(e.cursor));
        expect(positions[0]).toBeGreaterThan(positionOf(seen!.cursor));
        expect([...positions].sort((x, y) => x - y)).toEqual(positions);
        await sleep(300);
        expect(again.events).toHaveLength(3);
      } finally {
        await first.stop();
        await again?.stop();
      }
    });
  });

  describe('through Redis', () => {
    let a: ServerProcess | undefined;
    let b: ServerProcess | undefined;
    let listener: Redis | undefined;
    const published: string[] = [];

    beforeAll(async () => {
      if (redisSkipReason) return;
      listener = new Redis(process.env.TEST_REDIS_URL!, { maxRetriesPerRequest: 1 });
      listener.on('message', (channel: string, message: string) => {
        if (channel === EVENTS_CHANNEL) published.push(message);
      });
      await listener.subscribe(EVENTS_CHANNEL);
      const env = childEnv({ REDIS_URL: process.env.TEST_REDIS_URL! });
      [a, b] = await Promise.all([startServerProcess(env), startServerProcess(env)]);
    });
    afterAll(async () => {
      await Promise.all([a?.stop(), b?.stop()]);
      listener?.disconnect();
    });

    it.skipIf(redisSkipReason !== null)('delivers across instances through Redis', async () => {
      dumpOnFailure(a, b);
      const api = apiOf(a!.url, adminKey);
      const partner = await api.newPartner();
      const shop = await api.newShop();
      const shopper = await api.newShopper();
      const stream = openStream(b!.wsUrl, shopper.token);
      try {
        await goLive(stream, api, partner.key, shop, shopper.card.number);
        const seen = stream.events.length;
        const signalsBefore = published.length;
        const started = Date.now();
        await api.ingest(partner.key, [item(shop, shopper.card.number, { amount: 6000 })]);
        const [pending] = (await stream.next(seen + 1, 3000)).slice(seen);
        expect(pending).toMatchObject({ type: 'PENDING', status: 'PENDING', amount: { amount: 600 } });
        expect(Date.now() - started).toBeLessThan(3000);
        // The signal went through Redis: a head at or past the event's position was published.
        const deadline = Date.now() + 1000;
        while (published.length === signalsBefore && Date.now() < deadline) await sleep(10);
        const heads = published.slice(signalsBefore).map(Number);
        expect(heads.some((head) => head >= positionOf(pending!.cursor))).toBe(true);
        await sleep(300);
        expect(stream.events).toHaveLength(seen + 1);
      } finally {
        await stream.stop();
      }
    });
  });

  describe('background jobs', () => {
    interface Instance {
      app: App;
      db: Database['db'];
      logs: string[];
    }
    const instances: Instance[] = [];

    async function startInstance(): Promise<Instance> {
      const database = await openDatabase({ url: scratch.url, poolSize: 5 });
      const logs: string[] = [];
      const logger = createLogger({ logLevel: 'info' }, { write: (line: string) => void logs.push(line) });
      const config = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'info', JOBS: 'false', LIVE_EVENTS: 'false', SHUTDOWN_TIMEOUT_MS: '2000', DATA_DIR: dataDir, ...secrets });
      const app = createApp({ config, database, logger, security: loadSecurity(config, (m) => logger.warn(m)) });
      const instance = { app, db: database.db, logs };
      instances.push(instance);
      return instance;
    }
    afterAll(async () => {
      await Promise.all(instances.map((i) => i.app.close()));
    });

    it('two instances never run a job twice', async () => {
      const [one, two] = await Promise.all([startInstance(), startInstance()]);
      const { db } = one;
      const api = apiOf('http://hashback.test/graphql', adminKey, async (u, i) => one.app.yoga.fetch(u, i));
      const partner = await api.newPartner();

      // Confirmed cashback due for a statement credit now (no return period), and an auth that
      // never cleared and is long past its expiry.
      const shop = await api.newShop({ returnPeriodDays: 0, startsAt: daysAgo(40) });
      const shopper = await api.newShopper();
      const results = await api.ingest(partner.key, [
        item(shop, shopper.card.number, { type: 'CLEARING', amount: 10_000 }),
        item(shop, shopper.card.number, { amount: 5000, occurredAt: daysAgo(30) }),
      ]);
      expect(results.map((r) => r.cashback?.status)).toEqual(['CONFIRMED', 'PENDING']);
      const credited = dbId(results[0]!.cashback!.id);
      const stale = dbId(results[1]!.cashback!.id);

      // An offer that starts tomorrow (published, not yet announced as live)...
      const later = await api.newShop({ startsAt: new Date(Date.now() + 24 * HOUR).toISOString() });
      const laterId = later.offerDbId;
      expect(await db.selectFrom('offers').select(['announced_live', 'announced_ended']).where('id', '=', laterId).executeTakeFirstOrThrow()).toEqual({
        announced_live: false,
        announced_ended: false,
      });

      const race = async (rounds: number) => {
        const done = await Promise.all(Array.from({ length: rounds }, () => [one.app.jobs.runOnce(), two.app.jobs.runOnce()]).flat());
        const total: Record<string, number> = {};
        for (const round of done) for (const [job, count] of Object.entries(round)) total[job] = (total[job] ?? 0) + count;
        return total;
      };

      // ...whose start is moved into the past: both instances race every job.
      await db.updateTable('offers').set({ starts_at: new Date(Date.now() - HOUR) }).where('id', '=', laterId).execute();
      const first = await race(4);
      // ...then whose end is moved into the past: the race again.
      await db.updateTable('offers').set({ ends_at: new Date(Date.now() - 60_000) }).where('id', '=', laterId).execute();
      const second = await race(4);

      const credits = await db.selectFrom('statement_credits').select(['amount', 'status']).where('cashback_id', '=', credited).execute();
      expect(credits).toEqual([{ amount: 1000, status: 'PENDING' }]);

      const releases = await db
        .selectFrom('ledger_entries')
        .select('posting_id')
        .distinct()
        .where('subject_id', '=', stale)
        .where('kind', '=', 'RELEASE')
        .execute();
      expect(releases).toHaveLength(1);
      expect(await db.selectFrom('cashbacks').select(['status', 'amount', 'reason']).where('id', '=', stale).executeTakeFirstOrThrow()).toEqual({
        status: 'REVERSED',
        amount: 0,
        reason: 'AUTH_EXPIRED',
      });
      const offer = await db.selectFrom('offers').select(['budget', 'budget_remaining']).where('id', '=', shop.offerDbId).executeTakeFirstOrThrow();
      expect(offer.budget! - offer.budget_remaining!, 'only the confirmed reward still holds budget').toBe(1000);

      const transitions = await db
        .selectFrom('events')
        .select(['type'])
        .where('topic', '=', 'OFFER')
        .where('subject_id', '=', laterId)
        .where('type', 'in', ['LIVE', 'EXPIRED'])
        .orderBy('id')
        .execute();
      expect(transitions.map((t) => t.type)).toEqual(['LIVE', 'EXPIRED']);
      expect(await db.selectFrom('offers').select(['announced_live', 'announced_ended']).where('id', '=', laterId).executeTakeFirstOrThrow()).toEqual({
        announced_live: true,
        announced_ended: true,
      });
      const reversals = await db.selectFrom('events').select('id').where('subject_id', '=', stale).where('type', '=', 'REVERSED').execute();
      expect(reversals).toHaveLength(1);

      // What the instances say they did adds up to each thing done once, and no round failed.
      expect(first).toMatchObject({ 'statement-credits': 1, 'expire-auths': 1, 'offer-transitions': 1 });
      expect(second).toMatchObject({ 'statement-credits': 0, 'expire-auths': 0, 'offer-transitions': 1 });
      const failures = [...one.logs, ...two.logs].filter((line) => line.includes('job failed'));
      expect(failures).toEqual([]);
    });
  });
});

// ---------------------------------------------------------------------------------------------

interface SseStream {
  events: Confirmation[];
  status: Promise<number>;
  next(count: number, timeoutMs?: number): Promise<Confirmation[]>;
  /** Resolves when the stream ended (server, abort, or a broken connection: then with the error). */
  ended: Promise<Error | null>;
  abort(): void;
}

/** Subscribes over Server-Sent Events and parses `event: next` / `data:` blocks as they come. */
function openSse(request: { url: string; method: 'GET' | 'POST'; variables: Record<string, unknown>; token: string }): SseStream {
  const controller = new AbortController();
  const events: Confirmation[] = [];
  const waiters: (() => void)[] = [];
  let failure: Error | null = null;
  let url = request.url;
  let body: string | undefined;
  if (request.method === 'GET') {
    url += `?${new URLSearchParams({ query: CONFIRMATIONS, variables: JSON.stringify(request.variables) })}`;
  } else {
    body = JSON.stringify({ query: CONFIRMATIONS, variables: request.variables });
  }
  const response = fetch(url, {
    method: request.method,
    headers: { accept: 'text/event-stream', authorization: `Bearer ${request.token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body,
    signal: controller.signal,
  });
  const ended = (async () => {
    const res = await response;
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      let split: number;
      while ((split = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, split);
        buffer = buffer.slice(split + 2);
        const lines = block.split('\n');
        if (!lines.includes('event: next')) continue;
        const data = lines.filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trim()).join('\n');
        const result = JSON.parse(data) as { data?: { purchaseConfirmations: Confirmation }; errors?: unknown[] };
        if (result.errors) throw new Error(JSON.stringify(result.errors));
        events.push(result.data!.purchaseConfirmations);
        for (const w of waiters.splice(0)) w();
      }
    }
    return null;
  })().then(
    () => null,
    (error: unknown) => {
      if ((error as Error).name !== 'AbortError') failure = error as Error;
      for (const w of waiters.splice(0)) w();
      return failure;
    },
  );
  return {
    events,
    status: response.then((r) => r.status),
    ended,
    async next(count, timeoutMs = 5000) {
      const end = Date.now() + timeoutMs;
      while (events.length < count && !failure && Date.now() < end) await new Promise<void>((r) => (waiters.push(r), setTimeout(r, 25)));
      if (failure) throw failure;
      return events.slice(0, count);
    },
    abort: () => controller.abort(),
  };
}

describe('purchaseConfirmations over Server-Sent Events', () => {
  let h: Harness;
  let url: string;
  let partner: { id: string; key: string };

  beforeAll(async () => {
    h = await startHarness({ LIVE_EVENTS: 'true', EVENT_POLL_MS: '200' });
    url = await h.app.listen(0, '127.0.0.1');
    partner = await h.newPartner();
  });
  afterAll(() => h?.close());

  const ingestOn = async (harness: Harness, transactions: Record<string, unknown>[]) => {
    const res = await ingest(harness, partner.key, transactions);
    expect(res.userErrors).toEqual([]);
  };

  /** The bus's listeners (one per live subscription of this instance). */
  const listeners = () => (h.app.events!.bus as unknown as { listeners: Set<object> }).listeners;

  /** Waits until a subscription not among `before` is registered on the bus; returns its listener. */
  async function registered(before: ReadonlySet<object>): Promise<object> {
    const deadline = Date.now() + 5000;
    for (;;) {
      const fresh = [...listeners()].find((l) => !before.has(l));
      if (fresh) return fresh;
      if (Date.now() > deadline) throw new Error('the SSE subscription was never registered on the bus');
      await sleep(10);
    }
  }

  it('streams the signed-in user its confirmations over SSE', async () => {
    const shop = await newShop(h);
    const shopper = await newShopper(h);
    const other = await newShopper(h);
    const before = new Set(listeners());
    const sse = openSse({ url, method: 'POST', variables: {}, token: shopper.token });
    try {
      expect(await sse.status).toBe(200);
      await registered(before);
      const auth = item(shop, shopper.card.number, { amount: 4000 });
      await ingestOn(h, [item(shop, other.card.number, { amount: 9000 }), auth]);
      await ingestOn(h, [item(shop, shopper.card.number, { type: 'CLEARING', amount: 5000, authExternalId: auth.externalId })]);
      expect(summary(await sse.next(2))).toEqual([
        ['PENDING', 400],
        ['CONFIRMED', 500],
      ]);
      expect(sse.events[1]).toMatchObject({ status: 'CONFIRMED', cashback: { status: 'CONFIRMED' } });
      await sleep(300);
      expect(sse.events, "no other user's events").toHaveLength(2);
    } finally {
      sse.abort();
      await sse.ended;
    }
  });

  it('lets go of the subscription as soon as the SSE client leaves', async () => {
    const shopper = await newShopper(h);
    const before = new Set(listeners());
    const sse = openSse({ url, method: 'POST', variables: {}, token: shopper.token });
    try {
      expect(await sse.status).toBe(200);
      const mine = await registered(before);
      sse.abort();
      expect(await sse.ended).toBeNull();
      const deadline = Date.now() + 2000;
      while (listeners().has(mine) && Date.now() < deadline) await sleep(20);
      expect(listeners().has(mine), "the stream's listener is still on the bus after the client left").toBe(false);
    } finally {
      sse.abort();
      await sse.ended;
    }
  });

  it('replays after a cursor over SSE (GET with query parameters), then goes live', async () => {
    const shop = await newShop(h);
    const shopper = await newShopper(h);
    const before = new Set(listeners());
    const first = openSse({ url, method: 'POST', variables: {}, token: shopper.token });
    let again: SseStream | undefined;
    try {
      await registered(before);
      const auth = item(shop, shopper.card.number, { amount: 3000 });
      await ingestOn(h, [auth]);
      const [seen] = await first.next(1);
      expect(seen).toMatchObject({ type: 'PENDING', amount: { amount: 300 } });
      first.abort();
      await first.ended;
      await ingestOn(h, [item(shop, shopper.card.number, { type: 'CLEARING', amount: 3000, authExternalId: auth.externalId })]);
      again = openSse({ url, method: 'GET', variables: { after: seen!.cursor }, token: shopper.token });
      expect(await again.status).toBe(200);
      expect(summary(await again.next(1))).toEqual([['CONFIRMED', 300]]);
      await ingestOn(h, [item(shop, shopper.card.number, { amount: 1000 })]);
      expect(summary(await again.next(2))).toEqual([
        ['CONFIRMED', 300],
        ['PENDING', 100],
      ]);
      await sleep(300);
      expect(again.events).toHaveLength(2);
    } finally {
      first.abort();
      again?.abort();
      await first.ended;
      await again?.ended;
    }
  });
});
