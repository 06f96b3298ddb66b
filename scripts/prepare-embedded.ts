/**
 * postinstall: gets a fresh checkout ready for a fast first `npm start`, in two steps that run side
 * by side, each reported on one line with its time:
 * - compile the server to dist/ and bundle it into one file (scripts/build.mjs, in its own
 *   process), so `npm start` runs JavaScript instead of compiling TypeScript at every start;
 * - prepare the embedded database templates (see src/lib/pglite-template.ts), so a new data folder
 *   starts by copying files: the freshly initialised cluster (PGlite's initdb, Postgres's bootstrap
 *   in WebAssembly: 3–5 s of a core, once per PGlite version), then that cluster with every
 *   migration run (again whenever a migration was added or changed since). Demo data is not in a
 *   template: the seed makes keys and secrets, which belong to one data folder.
 * Templates that no longer serve (another PGlite version, older migrations) are removed.
 * Never fails the install: without dist/, `npm start` builds it; without a template, a new folder
 * runs initdb and every migration.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openDatabase } from '../src/database.js';
import {
  choosePgliteTemplate,
  listPgliteTemplates,
  pgliteTemplateCache,
  pgliteTemplatePrefix,
  publishPgliteTemplate,
  type MigrationFingerprint,
} from '../src/lib/pglite-template.js';
import { migrateToLatest, migrationFingerprints } from '../src/migrate.js';

const started = performance.now();
const seconds = (from: number) => `${((performance.now() - from) / 1000).toFixed(1)} s`;

/** scripts/build.mjs in a child process (a core of its own while initdb runs here); resolves with its line. */
function compile(): Promise<string> {
  const script = fileURLToPath(new URL('./build.mjs', import.meta.url));
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.once('error', (error) => resolve(`hashback: could not compile dist/ (${error.message}); \`npm start\` will compile it.`));
    child.once('close', (code) =>
      resolve(code === 0 ? output.trim() : `${output.trim()}\nhashback: dist/ was not compiled; \`npm start\` will say why again.`),
    );
  });
}

/** A folder in the template cache to build a template in; its `.tmp` name keeps readers away. */
function staging(name: string): string {
  const dir = path.join(pgliteTemplateCache(), `${pgliteTemplatePrefix()}${name}.${process.pid}.tmp`);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

/**
 * Writes the files of a tarball (ustar, as PGlite's dumpDataDir makes it: paths relative to the
 * cluster's folder) under `dir`.
 */
function untar(tar: Uint8Array, dir: string): void {
  const text = (from: number, length: number) => {
    const bytes = tar.subarray(from, from + length);
    const end = bytes.indexOf(0);
    return Buffer.from(end === -1 ? bytes : bytes.subarray(0, end)).toString('utf8');
  };
  for (let offset = 0; offset + 512 <= tar.length; ) {
    const name = text(offset, 100);
    if (name === '') break; // the two empty blocks that end an archive
    const prefix = text(offset + 345, 155);
    const size = Number.parseInt(text(offset + 124, 12).trim() || '0', 8);
    const type = String.fromCharCode(tar[offset + 156]!);
    const relative = path.normalize(`${prefix ? `${prefix}/` : ''}${name}`).replace(/^([/\\]|\.\.[/\\])+/, '');
    const target = path.join(dir, relative);
    if (!target.startsWith(dir)) throw new Error(`unexpected path in the initdb dump: ${relative}`);
    if (type === '5') fs.mkdirSync(target, { recursive: true });
    else if (type === '0' || type === '\0') {
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.writeFileSync(target, tar.subarray(offset + 512, offset + 512 + size));
    }
    offset += 512 + Math.ceil(size / 512) * 512;
  }
}

/** Publishes the cluster of an in-memory database (`dump`: its files as a tarball) as the template `name`. */
function publishDump(dump: Uint8Array, name: string, migrations: MigrationFingerprint[]): void {
  const dir = staging(name);
  try {
    untar(dump, path.join(dir, 'pgdata'));
    if (!fs.existsSync(path.join(dir, 'pgdata', 'PG_VERSION'))) throw new Error('the dump holds no PG_VERSION');
    publishPgliteTemplate(dir, name, migrations);
  } catch (error) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

/**
 * Both templates from scratch: PGlite's initdb and the migrations run in memory, and each cluster's
 * files are written out once (initdb straight onto disk, through PGlite's file system layer, took
 * 60% longer here: 8.0 against 5.0 s).
 */
async function buildTemplatesInMemory(name: string, migrations: MigrationFingerprint[]): Promise<void> {
  const database = await openDatabase({ memory: true });
  try {
    publishDump(new Uint8Array(await (await database.dump!()).arrayBuffer()), 'initdb', []);
    await migrateToLatest(database.db);
    publishDump(new Uint8Array(await (await database.dump!()).arrayBuffer()), name, migrations);
  } finally {
    await database.close();
  }
}

/** Builds a template in `dir` (an embedded database migrated through `migrations`, shut down) and publishes it as `name`. */
async function buildTemplate(dir: string, name: string, migrations: MigrationFingerprint[]): Promise<void> {
  try {
    // Starts from the best template there is (none: initdb), as a server's new folder does.
    const database = await openDatabase({ dataDir: dir, migrations: async () => migrations });
    try {
      if (migrations.length > 0) await migrateToLatest(database.db);
    } finally {
      await database.close();
    }
    publishPgliteTemplate(dir, name, migrations);
  } catch (error) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

async function prepareTemplates(): Promise<string> {
  const from = performance.now();
  try {
    const current = await migrationFingerprints();
    const last = current.at(-1)?.name ?? 'none';
    if (choosePgliteTemplate(current)?.migrations.length === current.length) {
      return `hashback: the embedded database templates are already prepared (migrated through ${last}; ${path.relative(process.cwd(), pgliteTemplateCache())}).`;
    }
    const digest = createHash('sha256').update(JSON.stringify(current)).digest('hex').slice(0, 16);
    let how: string;
    if (listPgliteTemplates().some((template) => template.migrations.length === 0)) {
      // The migrations on top of the best template there is (a migration added or changed since).
      await buildTemplate(staging(`migrated-${digest}`), `migrated-${digest}`, current);
      how = 'the migrations run on the best template there was';
    } else {
      await buildTemplatesInMemory(`migrated-${digest}`, current);
      how = `PGlite initdb and ${current.length} migrations`;
    }
    // What no start will choose any more: other PGlite versions, older migrations, the former
    // single-file template. A start copying one of them now falls back to initdb.
    const keep = new Set([`${pgliteTemplatePrefix()}initdb`, `${pgliteTemplatePrefix()}migrated-${digest}`]);
    for (const entry of fs.readdirSync(pgliteTemplateCache())) {
      if (!keep.has(entry) && !entry.endsWith('.tmp')) fs.rmSync(path.join(pgliteTemplateCache(), entry), { recursive: true, force: true });
    }
    return `hashback: prepared the embedded database templates in ${seconds(from)} (${how}; migrated through ${last}).`;
  } catch (error) {
    return `hashback: could not prepare the embedded database templates (${(error as Error).message}); a new data folder will run initdb and the migrations instead.`;
  }
}

console.log('hashback: compiling the server to dist/ and preparing the embedded database templates (initdb, migrations), side by side…');
const compiled = compile().then((line) => console.log(line));
const prepared = prepareTemplates().then((line) => console.log(line));
await Promise.all([compiled, prepared]);
console.log(`hashback: ready for \`npm start\` (postinstall took ${seconds(started)}).`);
