/**
 * A server killed (SIGKILL) while a delivery is in flight: after a restart the delivery is sent
 * again with the same webhook-id once its lease runs out, and every event arrives (nothing lost).
 * Real server processes on a scratch Postgres database of their own (PGlite has one process).
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it, onTestFailed, vi } from 'vitest';
import { openDatabase, type Database } from '../../database.js';
import { migrateToLatest } from '../../migrate.js';
import { mintApiKey } from '../api-keys/api-keys.service.js';
import { generateCardKeys } from '../cards/card-crypto.js';
import { apiFixtures, databaseKind, httpGql, unique } from '../../../test/harness.js';
import { startServerProcess, stopAllServerProcesses, type ServerProcess } from '../../../test/server-process.js';
import { startReceiver } from '../../../test/webhook-receiver.js';

async function adminQuery(url: string, statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

describe.runIf(databaseKind() === 'postgres')('a server killed while delivering (Postgres: real processes)', () => {
  const cardKeys = generateCardKeys();
  const tokenSecret = randomBytes(32).toString('base64url');
  let scratchUrl: string;
  let scratchName: string;
  let database: Database;
  let adminKey: string;
  let dataDir: string;

  const env = (): Record<string, string> => ({
    DATABASE_URL: scratchUrl,
    DATABASE_POOL_SIZE: '4',
    DATA_DIR: dataDir,
    NODE_ENV: 'test',
    LOG_LEVEL: 'warn',
    JOBS: 'true',
    JOB_INTERVAL_MS: '50',
    LIVE_EVENTS: 'false',
    SEED_ON_FIRST_START: 'false',
    GRAPHIQL: 'false',
    RATE_LIMIT_API_KEY: '100000000',
    TOKEN_SECRET: tokenSecret,
    CARD_ENCRYPTION_KEYS: cardKeys.encryptionKeys,
    CARD_FINGERPRINT_KEY: cardKeys.fingerprintKey,
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
    WEBHOOK_RETRY_SCHEDULE: '0ms,10ms,10ms,10ms',
    // Lease = 4 jobs × 1 s + 5 s: the killed server's delivery is taken over 9 s later at most.
    WEBHOOK_TIMEOUT_MS: '1000',
  });

  beforeAll(async () => {
    const target = inject('database');
    if (target.kind !== 'postgres') throw new Error('needs Postgres');
    scratchName = `hashback_webhooks_${Date.now()}_${randomBytes(3).toString('hex')}`;
    await adminQuery(target.url, `create database ${scratchName}`);
    const url = new URL(target.url);
    url.pathname = `/${scratchName}`;
    scratchUrl = url.toString();
    database = await openDatabase({ url: scratchUrl, poolSize: 2 });
    await migrateToLatest(database.db);
    adminKey = (await mintApiKey(database.db, { name: unique('webhooks admin'), role: 'ADMIN' })).secret;
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hashback-webhooks-'));
  });
  afterAll(async () => {
    await stopAllServerProcesses();
    await database?.close();
    const target = inject('database');
    if (scratchName && target.kind === 'postgres') await adminQuery(target.url, `drop database if exists ${scratchName} with (force)`);
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('redelivers after a restart with the same webhook-id, and loses nothing', { timeout: 60_000 }, async () => {
    // The first request is held unanswered until the server that sent it is dead.
    let hold = true;
    const receiver = await startReceiver({ answer: (_r, i) => (i === 0 && hold ? { delayMs: 30_000 } : { status: 200 }) });
    const servers: ServerProcess[] = [];
    onTestFailed(() => {
      for (const s of servers) console.error(`--- server ${s.pid} ---\n${s.output()}`);
    });
    try {
      const first = await startServerProcess(env());
      servers.push(first);
      const api = apiFixtures(httpGql(first.url), adminKey);
      const merchant = await api.newMerchant();
      const created = await api.gql(
        'mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { endpoint { id } userErrors { code } } }',
        { input: { url: receiver.url(), eventTypes: ['offer.created', 'offer.published'] } },
        merchant.key,
      );
      expect(created.data.createWebhookEndpoint.userErrors).toEqual([]);
      await api.newOffer(merchant.key);
      await vi.waitFor(() => expect(receiver.received.length).toBeGreaterThanOrEqual(1), { timeout: 20_000, interval: 20 });
      const inFlight = receiver.received[0]!.id;

      process.kill(first.pid, 'SIGKILL');
      await first.exited;
      hold = false;
      const second = await startServerProcess(env());
      servers.push(second);

      await vi.waitFor(
        async () => {
          const { rows } = await pg_query(scratchUrl, "select count(*)::int as n from webhook_deliveries where status = 'DELIVERED'");
          expect(rows[0]!.n).toBe(2);
        },
        { timeout: 40_000, interval: 100 },
      );
      const ids = receiver.received.map((r) => r.id);
      expect(ids.filter((id) => id === inFlight).length).toBeGreaterThanOrEqual(2);
      expect(new Set(ids).size).toBe(2);
      expect(new Set(receiver.received.map((r) => r.json.type))).toEqual(new Set(['offer.created', 'offer.published']));
    } finally {
      await receiver.close();
    }
  });
});

async function pg_query(url: string, statement: string) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await client.query<{ n: number }>(statement);
  } finally {
    await client.end();
  }
}
