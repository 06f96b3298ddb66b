/**
 * For tests of one migration: a fresh embedded database of the file's own, migrated to just
 * before `migration`, where the test writes rows in the old shape and then migrates up and down.
 */
import { Migrator, type Kysely } from 'kysely';
import { afterAll, beforeAll } from 'vitest';
import { migrationProvider, migrations } from '../db/migrations/index.js';
import { openDatabase, type Database } from '../src/database.js';

export interface MigrationBench {
  /** The database, typed loosely: the tables are in the shape of the migration being tested. */
  readonly db: Kysely<any>;
  /** The migration just before the one under test. */
  readonly before: string;
  migrateTo(name: string): ReturnType<Migrator['migrateTo']>;
}

export function useDatabaseBefore(migration: string): MigrationBench {
  const before = Object.keys(migrations)
    .sort()
    .filter((name) => name < migration)
    .at(-1)!;
  let database: Database | undefined;
  const bench: MigrationBench = {
    get db() {
      return database!.db as unknown as Kysely<any>;
    },
    before,
    migrateTo: (name) => new Migrator({ db: bench.db, provider: migrationProvider }).migrateTo(name),
  };
  beforeAll(async () => {
    database = await openDatabase({ memory: true });
    const { error } = await bench.migrateTo(before);
    if (error) throw error;
  });
  afterAll(async () => {
    await database?.close();
  });
  return bench;
}
