/**
 * A new embedded data folder starts from a template that already ran migrations
 * (src/lib/pglite-template.ts): only when the template's migrations are the code's first ones,
 * SQL alike, and the start runs the rest on top (the data folder tests run on the PGlite project
 * only: the templates are the embedded database's). A current database costs one query.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Migrator, sql, type Kysely, type Migration } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { migrationProvider } from '../db/migrations/index.js';
import { openDatabase } from '../src/database.js';
import { choosePgliteTemplate, pgliteTemplatePrefix, publishPgliteTemplate, type MigrationFingerprint } from '../src/lib/pglite-template.js';
import { fingerprintMigrations, migrateToLatest, migrationFingerprints } from '../src/migrate.js';
import { databaseKind, openTestDatabase } from './harness.js';

const dirs: string[] = [];
const tempDir = (prefix: string) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

const migration = (statement: string): Migration => ({ up: async (db: Kysely<unknown>) => void (await sql.raw(statement).execute(db)) });

/** A template folder `name` with a (fake) cluster that records `migrations`, in `cache`. */
function fakeTemplate(cache: string, name: string, migrations: MigrationFingerprint[]): void {
  fs.mkdirSync(path.join(cache, name, 'pgdata'), { recursive: true });
  fs.writeFileSync(path.join(cache, name, 'pgdata', 'PG_VERSION'), '17\n');
  fs.writeFileSync(path.join(cache, name, 'migrations.json'), JSON.stringify(migrations));
}

describe('migration fingerprints', () => {
  it('are the same for the same SQL and differ when a migration sends other SQL', async () => {
    const a = await fingerprintMigrations({ '1_a': migration('create table a (id int)'), '2_b': migration('create table b (id int)') });
    const again = await fingerprintMigrations({ '1_a': migration('create table a (id int)'), '2_b': migration('create table b (id int)') });
    const edited = await fingerprintMigrations({ '1_a': migration('create table a (id bigint)'), '2_b': migration('create table b (id int)') });
    expect(again).toEqual(a);
    expect(a.map((m) => m.name)).toEqual(['1_a', '2_b']);
    expect(edited[0]!.fingerprint).not.toBe(a[0]!.fingerprint);
    expect(edited[1]!.fingerprint).toBe(a[1]!.fingerprint);
  });

  it('are stable for the project migrations', async () => {
    expect(await migrationFingerprints()).toEqual(await migrationFingerprints());
  });
});

describe('migrateToLatest on a current database', () => {
  it('reads the migration table once and runs nothing more', async () => {
    const database = await openTestDatabase(1);
    try {
      const before = database.statementCount();
      expect(await migrateToLatest(database.db)).toEqual([]);
      expect(database.statementCount() - before).toBe(1);
    } finally {
      await database.close();
    }
  });
});

describe('choosing a template', () => {
  const current: MigrationFingerprint[] = [
    { name: '1_a', fingerprint: 'fa' },
    { name: '2_b', fingerprint: 'fb' },
    { name: '3_c', fingerprint: 'fc' },
  ];

  it('takes the template having run the most of the current migrations, in order', () => {
    const cache = tempDir('hashback-templates-');
    fakeTemplate(cache, `${pgliteTemplatePrefix()}initdb`, []);
    fakeTemplate(cache, `${pgliteTemplatePrefix()}migrated-ab`, current.slice(0, 2));
    expect(choosePgliteTemplate(current, cache)?.migrations).toEqual(current.slice(0, 2));
    expect(choosePgliteTemplate(current.slice(0, 1), cache)?.migrations).toEqual([]);
  });

  it('never takes a template that ran a migration since edited, or one the code does not have', () => {
    const cache = tempDir('hashback-templates-');
    fakeTemplate(cache, `${pgliteTemplatePrefix()}initdb`, []);
    fakeTemplate(cache, `${pgliteTemplatePrefix()}migrated-old`, [current[0]!, { name: '2_b', fingerprint: 'edited since' }]);
    fakeTemplate(cache, `${pgliteTemplatePrefix()}migrated-other`, [current[0]!, { name: '2_x', fingerprint: 'fx' }]);
    expect(choosePgliteTemplate(current, cache)?.migrations).toEqual([]);
  });

  it('ignores templates of another PGlite version', () => {
    const cache = tempDir('hashback-templates-');
    fakeTemplate(cache, 'pglite-0.0.1-migrated-ab', current);
    expect(choosePgliteTemplate(current, cache)).toBeUndefined();
  });
});

describe.runIf(databaseKind() === 'pglite')('a new embedded data folder', () => {
  it('starts from a template made before the last migration was added and runs that one on top', async () => {
    const current = await migrationFingerprints();
    const all = Object.keys(await migrationProvider.getMigrations()).sort((a, b) => a.localeCompare(b));
    const last = all.at(-1)!;
    expect(current.map((m) => m.name)).toEqual(all);

    // A template as `npm install` would have made it before `last` was added.
    const cache = tempDir('hashback-templates-');
    const staging = path.join(cache, `${pgliteTemplatePrefix()}migrated-older.tmp`);
    const building = await openDatabase({ dataDir: staging });
    const { error } = await new Migrator({ db: building.db, provider: migrationProvider }).migrateTo(all.at(-2)!);
    expect(error).toBeUndefined();
    await building.close();
    publishPgliteTemplate(staging, 'migrated-older', current.slice(0, -1), cache);

    const dataDir = tempDir('hashback-new-folder-');
    const database = await openDatabase({ dataDir, migrations: async () => current, templateCache: cache });
    try {
      expect(database.created).toBe(true);
      expect(database.createdFrom).toMatch(new RegExp(`migrated-older \\(${all.length - 1} migrations`));
      expect(await migrateToLatest(database.db)).toEqual([last]);
      const { rows } = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(database.db);
      expect(rows.map((r) => r.name)).toEqual(all);
      // The lock and anything else beside the template's cluster stayed out of the data folder.
      expect(fs.readdirSync(dataDir).sort()).toEqual(['hashback.lock', 'pgdata']);
    } finally {
      await database.close();
    }
    // Reopened, it is an existing folder with nothing left to run.
    const reopened = await openDatabase({ dataDir, migrations: async () => current, templateCache: cache });
    try {
      expect(reopened.created).toBe(false);
      expect(await migrateToLatest(reopened.db)).toEqual([]);
    } finally {
      await reopened.close();
    }
  }, 120_000);
});
