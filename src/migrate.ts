/**
 * Applies pending migrations, and answers /ready: the database reachable and its schema current.
 */
import { Migrator, type Kysely } from 'kysely';
import { migrationProvider } from '../db/migrations/index.js';
import type { DB } from '../db/types.js';
import type { Database } from './database.js';

function migrator(db: Kysely<DB>): Migrator {
  return new Migrator({ db, provider: migrationProvider });
}

/** Runs every pending migration; returns the names applied. Throws with the failing name. */
export async function migrateToLatest(db: Kysely<DB>): Promise<string[]> {
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
