/**
 * The one `Database` factory: Kysely over pg (a Postgres server) or over PGlite (the embedded
 * Postgres in a local data folder). Everything above this file sees the same `Kysely<DB>`.
 * It also counts SQL statements, which tests and benchmarks read to hold the query budget.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Kysely, PostgresDialect, type LogEvent } from 'kysely';
import pg from 'pg';
import { PGlite } from '@electric-sql/pglite';
import { PGliteDialect } from 'kysely-pglite-dialect';
import type { DB } from '../db/types.js';
import { acquireDataDirLock, type DataDirLock } from './lib/data-dir-lock.js';
import { readPgliteTemplate } from './lib/pglite-template.js';

export type { DB };

export interface Database {
  db: Kysely<DB>;
  kind: 'postgres' | 'pglite';
  /** True when this call created the embedded database (first start on that data folder). */
  created: boolean;
  /** Number of SQL statements sent since the database was opened. */
  statementCount(): number;
  /** The embedded database's files as a tarball (PGlite only), to start others from. */
  dump?(): Promise<Blob>;
  close(): Promise<void>;
}

export type DatabaseOptions =
  | { url: string; poolSize?: number }
  /** Embedded database kept in `dataDir` (locked against a second process). */
  | { dataDir: string }
  /** Embedded database in memory, optionally starting from a dump (tests). */
  | { memory: true; loadDataDir?: Blob };

const INT8_OID = 20;

/** bigint columns hold money in minor units and counts: small enough for a JS number, checked. */
function parseInt8(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new RangeError('int8 value out of the safe integer range');
  return n;
}

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  let statements = 0;
  const log = (event: LogEvent) => {
    if (event.level === 'query' || event.level === 'error') statements++;
  };

  if ('url' in options) {
    const pool = new pg.Pool({
      connectionString: options.url,
      max: options.poolSize ?? 10,
      types: {
        getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
          oid === INT8_OID ? parseInt8 : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
      },
    });
    // An idle connection closed by the server (restart, failover, pg_terminate_backend) must not
    // crash the process: the pool drops it and opens another on demand.
    pool.on('error', () => undefined);
    const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }), log });
    return {
      db,
      kind: 'postgres',
      created: false,
      statementCount: () => statements,
      close: () => db.destroy(),
    };
  }

  let lock: DataDirLock | undefined;
  let created = false;
  let client: PGlite;
  if ('dataDir' in options) {
    fs.mkdirSync(options.dataDir, { recursive: true });
    lock = acquireDataDirLock(options.dataDir);
    const pgdata = path.join(options.dataDir, 'pgdata');
    created = !fs.existsSync(path.join(pgdata, 'PG_VERSION'));
    try {
      const template = created ? readPgliteTemplate() : undefined;
      client = await PGlite.create(pgdata, {
        parsers: { [INT8_OID]: parseInt8 },
        ...(template ? { loadDataDir: template } : {}),
      });
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
    statementCount: () => statements,
    dump: () => client.dumpDataDir('none'),
    close: async () => {
      // Kysely waits for queries in flight before the dialect closes PGlite.
      await db.destroy();
      lock?.release();
    },
  };
}
