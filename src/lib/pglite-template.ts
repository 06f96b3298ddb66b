/**
 * Embedded database templates: clusters prepared once by `npm install` (postinstall) in
 * node_modules/.cache/hashback/, from which a new data folder starts by copying files instead of
 * running initdb (2–5 s of WebAssembly) and every migration (about 1 s).
 *
 * A template is a folder: `pgdata/` (a cluster, shut down cleanly) and `migrations.json` (the
 * migrations it has run, each with its fingerprint: a digest of the SQL it sends, see
 * src/migrate.ts). Two are kept per PGlite version: the freshly initialised cluster
 * (`pglite-<version>-initdb`, no migrations) and the migrated one
 * (`pglite-<version>-migrated-<digest>`). A new folder starts from the template whose migrations are
 * the longest prefix of the code's own, name and fingerprint alike, and the start runs the rest on
 * top: a migration added since `npm install` runs as it would on an existing folder, and a
 * migration changed since then (same name, other SQL) never lets a stale template through.
 * Templates are written under a temporary name and renamed, so a reader never sees half of one.
 *
 * The cache is the one of the node_modules holding PGlite, so the sources (under tsx) and the
 * compiled server in dist/ find the same templates.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);

/** A migration as a template records it: its name and the digest of the SQL it runs. */
export interface MigrationFingerprint {
  name: string;
  fingerprint: string;
}

const MIGRATIONS_FILE = 'migrations.json';

/** PGlite's package folder (node_modules/@electric-sql/pglite) and version. */
function pglitePackage(): { dir: string; version: string } {
  const entry = require.resolve('@electric-sql/pglite');
  let dir = path.dirname(entry);
  while (!fs.existsSync(path.join(dir, 'package.json'))) dir = path.dirname(dir);
  const { version } = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version: string };
  return { dir, version };
}

/** The folder holding the templates. */
export function pgliteTemplateCache(): string {
  const { dir } = pglitePackage();
  return path.join(path.resolve(dir, '..', '..'), '.cache', 'hashback');
}

/** Template folder names start with this: templates of another PGlite version are never used. */
export function pgliteTemplatePrefix(): string {
  return `pglite-${pglitePackage().version}-`;
}

/** The freshly initialised cluster's template folder. */
export function pgliteTemplatePath(): string {
  return path.join(pgliteTemplateCache(), `${pgliteTemplatePrefix()}initdb`);
}

export interface PgliteTemplate {
  /** The template folder; its cluster is in `pgdata/`. */
  dir: string;
  migrations: MigrationFingerprint[];
}

/** The templates prepared for this PGlite version (in `cache`: tests use their own). */
export function listPgliteTemplates(cache?: string): PgliteTemplate[] {
  let names: string[];
  try {
    cache ??= pgliteTemplateCache();
    names = fs.readdirSync(cache);
  } catch {
    return [];
  }
  const prefix = pgliteTemplatePrefix();
  const templates: PgliteTemplate[] = [];
  for (const name of names) {
    if (!name.startsWith(prefix) || name.endsWith('.tmp')) continue;
    const dir = path.join(cache, name);
    try {
      const migrations = JSON.parse(fs.readFileSync(path.join(dir, MIGRATIONS_FILE), 'utf8')) as MigrationFingerprint[];
      if (Array.isArray(migrations) && fs.existsSync(path.join(dir, 'pgdata', 'PG_VERSION'))) templates.push({ dir, migrations });
    } catch {
      // Not a template (an older format, or one being removed).
    }
  }
  return templates;
}

/** True when `template`'s migrations are the first ones of `current`, in order, fingerprints alike. */
export function isPrefixOf(template: readonly MigrationFingerprint[], current: readonly MigrationFingerprint[]): boolean {
  return (
    template.length <= current.length &&
    template.every((m, i) => m.name === current[i]!.name && m.fingerprint === current[i]!.fingerprint)
  );
}

/** The template to start a new folder from: the one having run the most of `current`'s migrations. */
export function choosePgliteTemplate(current: readonly MigrationFingerprint[], cache?: string): PgliteTemplate | undefined {
  let best: PgliteTemplate | undefined;
  for (const template of listPgliteTemplates(cache)) {
    if (isPrefixOf(template.migrations, current) && (!best || template.migrations.length > best.migrations.length)) best = template;
  }
  return best;
}

/** Copies a folder, files side by side (one synchronous copy after another was 4x slower here). */
async function copyDir(from: string, to: string): Promise<void> {
  await fs.promises.mkdir(to, { recursive: true });
  const entries = await fs.promises.readdir(from, { withFileTypes: true });
  await Promise.all(
    entries.map((entry) =>
      entry.isDirectory()
        ? copyDir(path.join(from, entry.name), path.join(to, entry.name))
        : fs.promises.copyFile(path.join(from, entry.name), path.join(to, entry.name)),
    ),
  );
}

/**
 * Makes `pgdata` (which does not exist, or is an empty folder) a copy of `template`'s cluster. The
 * copy is made beside it and renamed, so a start that dies half-way leaves no half cluster that
 * the next start would take for an existing one. Throws when the copy fails (`pgdata` is left as it was).
 */
export async function copyPgliteTemplate(template: PgliteTemplate, pgdata: string): Promise<void> {
  const temporary = `${pgdata}.${process.pid}.tmp`;
  try {
    await copyDir(path.join(template.dir, 'pgdata'), temporary);
    fs.rmSync(pgdata, { recursive: true, force: true }); // empty, or absent
    fs.renameSync(temporary, pgdata);
  } catch (error) {
    fs.rmSync(temporary, { recursive: true, force: true });
    throw error;
  }
}

/**
 * Makes the folder `staging` (holding a cluster in `pgdata/`, shut down) the template named
 * `<prefix><name>`, recording `migrations`. An existing template of that name is kept: it holds the same.
 */
export function publishPgliteTemplate(
  staging: string,
  name: string,
  migrations: readonly MigrationFingerprint[],
  cache = pgliteTemplateCache(),
): PgliteTemplate {
  fs.writeFileSync(path.join(staging, MIGRATIONS_FILE), `${JSON.stringify(migrations, null, 1)}\n`);
  for (const file of fs.readdirSync(staging)) {
    // What the server keeps beside its cluster (the lock, demo keys) is no part of a template.
    if (file !== 'pgdata' && file !== MIGRATIONS_FILE) fs.rmSync(path.join(staging, file), { recursive: true, force: true });
  }
  const dir = path.join(cache, `${pgliteTemplatePrefix()}${name}`);
  try {
    fs.renameSync(staging, dir);
  } catch (error) {
    // Another install published the same template first.
    if (!fs.existsSync(path.join(dir, MIGRATIONS_FILE))) throw error;
    fs.rmSync(staging, { recursive: true, force: true });
  }
  return { dir, migrations: [...migrations] };
}
