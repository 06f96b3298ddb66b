/**
 * A Postgres database of a test file's own, for tests that run real server processes and do what
 * the run's shared database must not see (terminate every backend, kill -9 a server, check that
 * positions are gap-free): created and migrated before the file's tests, with an admin key and a
 * data folder for the servers, dropped after them once every server process has stopped.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, inject } from 'vitest';
import { openDatabase, type Database } from '../src/database.js';
import { migrateToLatest } from '../src/migrate.js';
import { mintApiKey } from '../src/modules/api-keys/api-keys.service.js';
import { generateCardKeys } from '../src/modules/cards/card-crypto.js';
import { unique } from './harness.js';
import { stopAllServerProcesses } from './server-process.js';

/** One statement on the server at `url` with a connection of its own. */
export async function adminQuery<R extends pg.QueryResultRow = pg.QueryResultRow>(url: string, statement: string, values: unknown[] = []): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<R>(statement, values)).rows;
  } finally {
    await client.end();
  }
}

export interface ScratchDatabase {
  name: string;
  url: string;
  database: Database;
  adminKey: string;
  /** A folder for the servers' DATA_DIR (demo keys, generated secrets). */
  dataDir: string;
  /**
   * The environment of a server process on this database: test mode, quiet logs, no seed or
   * GraphiQL, rate limits out of the test's way, and one token secret and card key ring for all
   * of the file's servers (a token or a sealed secret outlives a restart); `extra` adds or overrides.
   */
  serverEnv(extra?: Record<string, string>): Record<string, string>;
}

/** Registers the file's scratch database; its fields are set once the file's `beforeAll` ran. */
export function useScratchDatabase(label: string, options: { poolSize?: number } = {}): ScratchDatabase {
  const scratch = {} as ScratchDatabase;
  const tokenSecret = randomBytes(32).toString('base64url');
  const cardKeys = generateCardKeys();
  scratch.serverEnv = (extra = {}) => ({
    DATABASE_URL: scratch.url,
    DATABASE_POOL_SIZE: '4',
    DATA_DIR: scratch.dataDir,
    NODE_ENV: 'test',
    LOG_LEVEL: 'warn',
    SEED_ON_FIRST_START: 'false',
    GRAPHIQL: 'false',
    // The load here is the test's, not an abuser's.
    RATE_LIMIT_ANONYMOUS: '100000000',
    RATE_LIMIT_USER: '100000000',
    RATE_LIMIT_API_KEY: '100000000',
    SIGNUPS_PER_ADDRESS: '1000000',
    TOKEN_SECRET: tokenSecret,
    CARD_ENCRYPTION_KEYS: cardKeys.encryptionKeys,
    CARD_FINGERPRINT_KEY: cardKeys.fingerprintKey,
    ...extra,
  });
  beforeAll(async () => {
    const target = inject('database');
    if (target.kind !== 'postgres') throw new Error('a scratch database needs Postgres');
    scratch.name = `hashback_${label}_${Date.now()}_${randomBytes(3).toString('hex')}`;
    await adminQuery(target.url, `create database ${scratch.name}`);
    const url = new URL(target.url);
    url.pathname = `/${scratch.name}`;
    scratch.url = url.toString();
    scratch.database = await openDatabase({ url: scratch.url, poolSize: options.poolSize ?? 2 });
    await migrateToLatest(scratch.database.db);
    scratch.adminKey = (await mintApiKey(scratch.database.db, { name: unique(`${label} admin`), role: 'ADMIN' })).secret;
    scratch.dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `hashback-${label}-`));
  });
  afterAll(async () => {
    await stopAllServerProcesses();
    await scratch.database?.close();
    const target = inject('database');
    if (scratch.name && target.kind === 'postgres') await adminQuery(target.url, `drop database if exists ${scratch.name} with (force)`);
    if (scratch.dataDir) fs.rmSync(scratch.dataDir, { recursive: true, force: true });
  });
  return scratch;
}
