/**
 * Applies pending migrations, and answers /ready: the database reachable and its schema current.
 */
import { createHash } from 'node:crypto';
import {
  DEFAULT_MIGRATION_TABLE,
  Kysely,
  Migrator,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  sql,
  type CompiledQuery,
  type DatabaseConnection,
  type Driver,
  type Migration,
} from 'kysely';
import { migrationProvider } from '../db/migrations/index.js';
import type { DB } from '../db/types.js';
import type { Database } from './database.js';
import type { MigrationFingerprint } from './lib/pglite-template.js';

function migrator(db: Kysely<DB>): Migrator {
  return new Migrator({ db, provider: migrationProvider });
}

/**
 * True when the database has run exactly the migrations this code has, read with one query.
 * Kysely's migrator asks more before it knows there is nothing to do (its tables' existence
 * through the catalogue, then a lock: 0.2–0.3 s of an embedded start); a database that is
 * current needs none of it. Anything else (no migration table yet, a migration pending, one this
 * code does not know, a failed read) is the migrator's to handle and report.
 */
async function isCurrent(db: Kysely<DB>): Promise<boolean> {
  let executed: string[];
  try {
    const { rows } = await sql<{ name: string }>`select name from ${sql.table(DEFAULT_MIGRATION_TABLE)}`.execute(db);
    executed = rows.map((row) => row.name);
  } catch {
    return false;
  }
  const known = Object.keys(await migrationProvider.getMigrations());
  const done = new Set(executed);
  return executed.length === known.length && done.size === known.length && known.every((name) => done.has(name));
}

/** Runs every pending migration; returns the names applied. Throws with the failing name. */
export async function migrateToLatest(db: Kysely<DB>): Promise<string[]> {
  if (await isCurrent(db)) return [];
  const { error, results = [] } = await migrator(db).migrateToLatest();
  const failed = results.find((r) => r.status === 'Error');
  if (error || failed) {
    const cause = error instanceof Error ? error.message : String(error);
    throw new Error(`Migration ${failed?.migrationName ?? ''} failed: ${cause}`, { cause: error });
  }
  return results.filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/** Names of migrations the database has not run yet. */
export async function pendingMigrations(db: Kysely<DB>): Promise<string[]> {
  if (await isCurrent(db)) return [];
  const all = await migrator(db).getMigrations();
  return all.filter((m) => m.executedAt === undefined).map((m) => m.name);
}

/** Databases whose migrations were seen complete: they stay so, and /ready need not ask again. */
const migrated = new WeakSet<Database>();

/** What keeps the database from being ready: not answering in time, or migrations pending. */
export type DatabaseNotReady = 'database not answering' | 'migrations pending';

/**
 * For /ready: null when the database answers `select 1` within `timeoutMs` and has no migration
 * pending, else what is wrong. Never throws (a driver's message could name hosts): not ready
 * while the database is unreachable or slow, ready again by itself once it answers, since the
 * pool opens connections on demand.
 */
export async function databaseNotReady(database: Database, timeoutMs = 2000): Promise<DatabaseNotReady | null> {
  try {
    await database.probe(timeoutMs);
  } catch {
    return 'database not answering';
  }
  try {
    if (!migrated.has(database)) {
      const pending = await Promise.race([
        pendingMigrations(database.db),
        new Promise<null>((resolve) => setTimeout(resolve, timeoutMs, null).unref()),
      ]);
      if (pending === null) return 'database not answering';
      if (pending.length > 0) return 'migrations pending';
      migrated.add(database);
    }
    return null;
  } catch {
    return 'database not answering';
  }
}

/**
 * Every migration with its fingerprint: a digest of the statements (SQL and parameters) its `up`
 * sends, recorded against a database that answers every query with no rows. An embedded
 * database template records the fingerprints of the migrations it ran (src/lib/pglite-template.ts):
 * a migration edited since, or compiled otherwise (tsx, dist/, the bundle), is recognised by what
 * it does, not by its name or its code's text. A migration that cannot run against no rows gets a
 * fingerprint of its own each time, so no template is ever taken for having run it.
 */
export async function migrationFingerprints(): Promise<MigrationFingerprint[]> {
  return fingerprintMigrations(await migrationProvider.getMigrations());
}

/** `migrationFingerprints` of any set of migrations. */
export async function fingerprintMigrations(migrations: Record<string, Migration>): Promise<MigrationFingerprint[]> {
  let statements: unknown[] = [];
  const connection: DatabaseConnection = {
    executeQuery: async (query: CompiledQuery) => {
      statements.push([query.sql, query.parameters]);
      return { rows: [] };
    },
    streamQuery: async function* () {
      // no rows
    },
  };
  const driver: Driver = {
    init: async () => undefined,
    acquireConnection: async () => connection,
    beginTransaction: async () => undefined,
    commitTransaction: async () => undefined,
    rollbackTransaction: async () => undefined,
    releaseConnection: async () => undefined,
    destroy: async () => undefined,
  };
  const recorder = new Kysely<unknown>({
    dialect: {
      createAdapter: () => new PostgresAdapter(),
      createDriver: () => driver,
      createIntrospector: (db) => new PostgresIntrospector(db),
      createQueryCompiler: () => new PostgresQueryCompiler(),
    },
  });
  const fingerprints: MigrationFingerprint[] = [];
  // In the order Kysely's migrator runs them.
  for (const name of Object.keys(migrations).sort((a, b) => a.localeCompare(b))) {
    statements = [];
    let fingerprint: string;
    try {
      await migrations[name]!.up(recorder);
      fingerprint = createHash('sha256').update(JSON.stringify(statements)).digest('hex');
    } catch {
      fingerprint = `unrecorded:${process.pid}:${performance.now()}`;
    }
    fingerprints.push({ name, fingerprint });
  }
  return fingerprints;
}
