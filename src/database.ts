/**
 * The one `Database` factory: Kysely over pg (a Postgres server) or over PGlite (the embedded
 * Postgres in a local data folder). Everything above this file sees the same `Kysely<DB>`.
 * It also counts SQL statements, which tests and benchmarks read to hold the query budget.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Kysely, PostgresDialect, sql, type LogEvent } from 'kysely';
import pg from 'pg';
import { PGlite } from '@electric-sql/pglite';
import { PGliteDialect } from 'kysely-pglite-dialect';
import type { DB } from '../db/types.js';
import { parseTimestamptz, TIMESTAMPTZ_OID } from './lib/pg-timestamps.js';
import { acquireDataDirLock, type DataDirLock } from './lib/data-dir-lock.js';
import { choosePgliteTemplate, copyPgliteTemplate, type MigrationFingerprint } from './lib/pglite-template.js';

export type { DB };

export interface Database {
  db: Kysely<DB>;
  kind: 'postgres' | 'pglite';
  /** The server's URL (Postgres only), for components that keep connections of their own. */
  url?: string;
  /** True when this call created the embedded database (first start on that data folder). */
  created: boolean;
  /** How a created embedded database began: which template it was copied from, or PGlite's initdb. */
  createdFrom?: string;
  /** Number of SQL statements sent since the database was opened. */
  statementCount(): number;
  /** Connections of the pool (Postgres only; PGlite is one session): open, idle, and requests waiting for one. */
  poolStats?(): { total: number; idle: number; waiting: number };
  /**
   * Runs `select 1` and resolves once the database answered; rejects with the driver's error, or
   * with a `DatabaseTimeoutError` when no answer came within `timeoutMs` (readiness, start-up).
   */
  probe(timeoutMs: number): Promise<void>;
  /** The embedded database's files as a tarball (PGlite only), to start others from. */
  dump?(): Promise<Blob>;
  close(): Promise<void>;
}

export type DatabaseOptions =
  | { url: string; poolSize?: number; connectTimeoutMs?: number }
  /**
   * Embedded database kept in `dataDir` (locked against a second process). A new one starts from
   * the template having run the most of `migrations` (the code's migrations with their
   * fingerprints, asked for only then), else from the freshly initialised one. `templateCache`:
   * where templates are (tests; by default the one `npm install` prepares).
   */
  | { dataDir: string; migrations?: () => Promise<MigrationFingerprint[]>; templateCache?: string }
  /** Embedded database in memory, optionally starting from a dump (tests). */
  | { memory: true; loadDataDir?: Blob };

const INT8_OID = 20;

/** How long opening a connection to a Postgres server may take before the attempt fails. */
const CONNECT_TIMEOUT_MS = 5000;

export class DatabaseTimeoutError extends Error {
  constructor(timeoutMs: number) {
    super(`The database did not answer within ${timeoutMs} ms.`);
    this.name = 'DatabaseTimeoutError';
  }
}

function probeOf(db: Kysely<DB>): (timeoutMs: number) => Promise<void> {
  return async (timeoutMs) => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new DatabaseTimeoutError(timeoutMs)), timeoutMs);
    });
    const query = sql`select 1`.execute(db);
    // The query may still fail after the timeout won: nobody waits for it then.
    query.catch(() => undefined);
    try {
      await Promise.race([query, timeout]);
    } finally {
      clearTimeout(timer);
    }
  };
}

/** bigint columns hold money in minor units and counts: small enough for a JS number, checked. */
function parseInt8(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new RangeError('int8 value out of the safe integer range');
  return n;
}

/**
 * A pg pool that no database fault can end the process through, for every pool of the app (the
 * database's, and any component keeping connections of its own, e.g. a rate-limit store).
 *
 * pg emits 'error' on a client whose connection dies (restart, failover, pg_terminate_backend:
 * 57P01). The pool listens only while a client is idle; a client checked out by a request or a
 * transaction had no listener, and the unhandled 'error' event crashed the server. Here every
 * client gets a listener for its whole life: the query in flight is rejected on its own (the
 * request answers the masked error), the pool discards the broken client when it is released and
 * opens another on demand. A server that does not answer (partition, host down) fails a connection
 * attempt in seconds instead of the operating system's minutes, and keep-alive notices a peer
 * that vanished without closing the connection.
 */
export function createPgPool(url: string, options: Omit<pg.PoolConfig, 'connectionString'> & { connectTimeoutMs?: number } = {}): pg.Pool {
  const { connectTimeoutMs, ...config } = options;
  const pool = new pg.Pool({
    ...config,
    connectionString: url,
    connectionTimeoutMillis: connectTimeoutMs ?? CONNECT_TIMEOUT_MS,
    keepAlive: true,
  });
  pool.on('connect', (client) => {
    client.on('error', () => undefined);
  });
  pool.on('error', () => undefined);
  return pool;
}

/**
 * Fills a new data folder's `pgdata` with the best template's cluster (see
 * src/lib/pglite-template.ts); says where it came from. Without a template, or when copying fails,
 * `pgdata` is left to PGlite, which runs initdb (a slower start, the same database).
 */
async function startFromTemplate(
  pgdata: string,
  migrations: (() => Promise<MigrationFingerprint[]>) | undefined,
  templateCache: string | undefined,
): Promise<string> {
  // Files without a cluster (not ours to clear): PGlite decides, as it always did.
  if (fs.existsSync(pgdata) && fs.readdirSync(pgdata).length > 0) return 'initdb';
  const template = choosePgliteTemplate(migrations ? await migrations() : [], templateCache);
  if (!template) return 'initdb (no template: `npm run postinstall` prepares them)';
  const started = performance.now();
  try {
    await copyPgliteTemplate(template, pgdata);
  } catch (error) {
    return `initdb (copying the template ${template.dir} failed: ${(error as Error).message})`;
  }
  return `the template ${path.basename(template.dir)} (${template.migrations.length} migrations, copied in ${Math.round(performance.now() - started)} ms)`;
}

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  let statements = 0;
  const log = (event: LogEvent) => {
    if (event.level === 'query' || event.level === 'error') statements++;
  };

  if ('url' in options) {
    const pool = createPgPool(options.url, {
      max: options.poolSize ?? 10,
      connectTimeoutMs: options.connectTimeoutMs,
      types: {
        getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
          oid === INT8_OID ? parseInt8 : oid === TIMESTAMPTZ_OID ? parseTimestamptz : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
      },
    });
    const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }), log });
    return {
      db,
      kind: 'postgres',
      url: options.url,
      created: false,
      statementCount: () => statements,
      poolStats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
      probe: probeOf(db),
      close: () => db.destroy(),
    };
  }

  let lock: DataDirLock | undefined;
  let created = false;
  let createdFrom: string | undefined;
  let client: PGlite;
  if ('dataDir' in options) {
    fs.mkdirSync(options.dataDir, { recursive: true });
    lock = acquireDataDirLock(options.dataDir);
    const pgdata = path.join(options.dataDir, 'pgdata');
    created = !fs.existsSync(path.join(pgdata, 'PG_VERSION'));
    try {
      if (created) createdFrom = await startFromTemplate(pgdata, options.migrations, options.templateCache);
      client = await PGlite.create(pgdata, { parsers: { [INT8_OID]: parseInt8 } });
    } catch (error) {
      lock.release();
      throw error;
    }
  } else {
    created = true;
    client = await PGlite.create({
      parsers: { [INT8_OID]: parseInt8 },
      ...(options.loadDataDir ? { loadDataDir: options.loadDataDir } : {}),
    });
  }
  const db = new Kysely<DB>({ dialect: new PGliteDialect(client), log });
  return {
    db,
    kind: 'pglite',
    created,
    ...(createdFrom ? { createdFrom } : {}),
    statementCount: () => statements,
    probe: probeOf(db),
    dump: () => client.dumpDataDir('none'),
    close: async () => {
      // Kysely waits for queries in flight before the dialect closes PGlite.
      await db.destroy();
      lock?.release();
    },
  };
}
