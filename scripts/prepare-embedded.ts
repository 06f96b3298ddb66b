/**
 * postinstall: gets a fresh checkout ready for a fast first `npm start`, in two steps that run side
 * by side, each reported on one line with its time:
 * - compile the server to dist/ (scripts/build.mjs, in its own process), so `npm start` runs
 *   JavaScript instead of compiling TypeScript at every start;
 * - prepare the embedded database template (see src/lib/pglite-template.ts), so a new data folder
 *   starts without running initdb. This is most of the time: PGlite's initdb (Postgres's bootstrap
 *   in WebAssembly and PGlite's in-memory file system) takes 4–5 s of a core, once per PGlite
 *   version.
 * Never fails the install: without dist/, `npm start` builds it; without the template, the first
 * start runs initdb.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { pgliteTemplatePath } from '../src/lib/pglite-template.js';

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

async function prepareTemplate(): Promise<string> {
  const from = performance.now();
  try {
    const target = pgliteTemplatePath();
    if (fs.existsSync(target)) return `hashback: the embedded database template is already prepared (${path.relative(process.cwd(), target)}).`;
    const pglite = await PGlite.create();
    const dump = await pglite.dumpDataDir('gzip');
    await pglite.close();
    fs.mkdirSync(path.dirname(target), { recursive: true });
    const temporary = `${target}.${process.pid}.tmp`;
    fs.writeFileSync(temporary, Buffer.from(await dump.arrayBuffer()));
    fs.renameSync(temporary, target); // atomic: a concurrent reader never sees half a file
    return `hashback: prepared the embedded database template in ${seconds(from)} (PGlite initdb, once per PGlite version).`;
  } catch (error) {
    return `hashback: could not prepare the embedded database template (${(error as Error).message}); the first start will initialise it instead.`;
  }
}

console.log('hashback: compiling the server to dist/ and preparing the embedded database template (initdb), side by side…');
const compiled = compile().then((line) => console.log(line));
const prepared = prepareTemplate().then((line) => console.log(line));
await Promise.all([compiled, prepared]);
console.log(`hashback: ready for \`npm start\` (postinstall took ${seconds(started)}).`);
