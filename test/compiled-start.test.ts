/**
 * `npm start` runs the server compiled to dist/ (scripts/start.mjs, scripts/build.mjs): the
 * compiled server serves exactly the schema the sources build, and the build recompiles what
 * changed, and only that. The start is spawned for real, with whatever dist/ holds (none on a clean
 * checkout: the start builds it). Runs on the PGlite project only: the server uses its own embedded
 * database in a temporary folder, so a second run on Postgres would prove nothing more.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  buildClientSchema,
  getIntrospectionQuery,
  introspectionFromSchema,
  lexicographicSortSchema,
  printSchema,
  type IntrospectionQuery,
} from 'graphql';
import { afterAll, describe, expect, it } from 'vitest';
import { build, BUNDLE, DIST, ROOT } from '../scripts/build.mjs';
import { schema } from '../src/schema/index.js';
import { databaseKind } from './harness.js';
import { startServerProcess, stopAllServerProcesses } from './server-process.js';

const INTROSPECTION_OPTIONS = { descriptions: true, specifiedByUrl: true, directiveIsRepeatable: true, schemaDescription: true, inputValueDeprecation: true };

/** A schema as a client sees it through introspection, printed sorted: the same round trip for both sides. */
const printIntrospected = (introspection: IntrospectionQuery) => printSchema(lexicographicSortSchema(buildClientSchema(introspection)));

const dirs: string[] = [];
const tempDir = (prefix: string) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  dirs.push(dir);
  return dir;
};
afterAll(async () => {
  await stopAllServerProcesses();
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

describe.runIf(databaseKind() === 'pglite')('the compiled start (npm start)', () => {
  it('serves the same schema as the sources', async () => {
    // `npm start` without npm: the launcher builds what is stale, then runs dist/src/main.js. A
    // generous bound for a busy machine (a clean checkout compiles dist/ first, then creates the
    // database); a server that exits fails the test at once.
    const server = await startServerProcess(
      {
        // Development: introspection is refused in production.
        NODE_ENV: 'development',
        LOG_LEVEL: 'warn',
        DATA_DIR: tempDir('hashback-compiled-'),
        SEED_ON_FIRST_START: 'false',
      },
      { entry: 'compiled', readyTimeoutMs: 150_000 },
    );
    const output = server.output();
    const base = server.base;
    // It ran the compiled server bundled into one file, not the fallback through tsx or dist/src/.
    expect(output).not.toMatch(/with tsx instead/);
    expect(output).not.toMatch(/could not bundle/);
    expect(fs.existsSync(path.join(DIST, 'src', 'main.js'))).toBe(true);
    expect(fs.existsSync(BUNDLE)).toBe(true);

    const res = await fetch(`${base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: getIntrospectionQuery(INTROSPECTION_OPTIONS) }),
    });
    const body = (await res.json()) as { data?: IntrospectionQuery; errors?: unknown };
    expect(body.errors, JSON.stringify(body.errors)).toBeUndefined();
    const served = printIntrospected(body.data!);
    const fromSources = printIntrospected(introspectionFromSchema(schema, INTROSPECTION_OPTIONS));
    expect(served.length).toBeGreaterThan(10_000);
    expect(served).toBe(fromSources);
  }, 180_000);

  it('recompiles a changed source and only that, and drops the output of a deleted one', async () => {
    // A project of its own: the build reads <root>/tsconfig.json, <root>/src and <root>/db.
    const root = tempDir('hashback-build-');
    fs.copyFileSync(path.join(ROOT, 'tsconfig.json'), path.join(root, 'tsconfig.json'));
    fs.mkdirSync(path.join(root, 'src'));
    const a = path.join(root, 'src', 'a.ts');
    const b = path.join(root, 'src', 'b.ts');
    fs.writeFileSync(a, "export const answer: number = 41;\n");
    fs.writeFileSync(b, "import { answer } from './a.js';\nexport const next = (): number => answer + 1;\n");
    fs.writeFileSync(path.join(root, 'src', 'b.test.ts'), 'not compiled: tests stay on tsx\n');
    const dist = path.join(root, 'dist');

    expect(await build({ root, dist })).toMatchObject({ built: 2, total: 2, reason: 'missing' });
    expect(fs.existsSync(path.join(dist, 'src', 'b.test.js'))).toBe(false);
    expect(await build({ root, dist })).toMatchObject({ built: 0, reason: 'fresh' });

    const bOutput = path.join(dist, 'src', 'b.js');
    const bCompiledAt = fs.statSync(bOutput).mtimeMs;
    fs.writeFileSync(a, "export const answer: number = 42;\n");
    // The stamp is the file's mtime and size: make sure the mtime moves even on a coarse clock.
    const later = new Date(fs.statSync(a).mtimeMs + 2000);
    fs.utimesSync(a, later, later);
    expect(await build({ root, dist })).toMatchObject({ built: 1, reason: 'changed' });
    expect(fs.readFileSync(path.join(dist, 'src', 'a.js'), 'utf8')).toMatch(/^export const answer = 42;$/m);
    expect(fs.statSync(bOutput).mtimeMs, 'b.ts did not change: b.js is not rewritten').toBe(bCompiledAt);

    fs.rmSync(b);
    expect(await build({ root, dist })).toMatchObject({ built: 0, total: 1 });
    expect(fs.existsSync(path.join(dist, 'src', 'b.js'))).toBe(false);
  });
});
