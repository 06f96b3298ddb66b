/**
 * `npm run bench:startup`: how long `npm start` takes to its first answer, the compiled way
 * (`node scripts/start.mjs`: dist/ up to date, then dist/src/main.js) against the old way
 * (`node --import tsx src/main.ts`, TypeScript compiled by tsx at every start), and the compiled way
 * through `npm start` itself (npm's own start-up included), side by side, runs interleaved so
 * that the machine's load drifts alike for all.
 *
 * Two cases, both on the embedded database: an existing data folder (prepared once, reopened by
 * every run) and a new one (an empty folder every run: copied from the postinstall's migrated
 * template, any migration added since run on top, demo data seeded, as on a user's first start). A run's figure is the time from spawning
 * the process to the first 200 answer of POST /graphql `{ __typename }` (polled every 10 ms), and
 * the CPU time the process and its children had used by then (Linux, from /proc), which other work
 * on the machine inflates less than the wall time.
 *
 * Knobs: RUNS (3) runs per way and case; NPM=0 leaves out the `npm start` row.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, describeBuild } from '../build.mjs';
import { choosePgliteTemplate } from '../../src/lib/pglite-template.js';
import { migrationFingerprints } from '../../src/migrate.js';
// Not bench-kit: that loads the app's modules, which this benchmark only ever starts as children.
import { ratioOf, reportSummary, type SummaryRow } from './summary.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const RUNS = positiveInt('RUNS', 3);
const WITH_NPM = process.env.NPM !== '0';
const POLL_MS = 10;
const READY_TIMEOUT_MS = 120_000;

function positiveInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 1) {
    console.error(`${name} must be an integer >= 1, got "${raw}"`);
    process.exit(2);
  }
  return n;
}

interface Way {
  name: string;
  command: string;
  args: string[];
}

const OLD: Way = { name: 'tsx (old npm start)', command: process.execPath, args: ['--import', 'tsx', 'src/main.ts'] };
const COMPILED: Way = { name: 'compiled (node scripts/start.mjs)', command: process.execPath, args: ['scripts/start.mjs'] };
const NPM_START: Way = { name: 'compiled via `npm start`', command: process.platform === 'win32' ? 'npm.cmd' : 'npm', args: ['start', '--silent'] };
const WAYS = WITH_NPM ? [OLD, COMPILED, NPM_START] : [OLD, COMPILED];

interface Sample {
  ms: number;
  /** CPU seconds of the process tree at the first answer; undefined off Linux. */
  cpu: number | undefined;
}

const started = performance.now();
function log(line: string): void {
  console.log(`[${((performance.now() - started) / 1000).toFixed(1).padStart(5)}s] ${line}`);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** utime + stime of a process and all its descendants, in seconds (Linux). */
function treeCpuSeconds(pid: number): number | undefined {
  const ticks = 100; // USER_HZ: 100 on every Linux architecture Node runs on
  let total = 0;
  const visit = (p: number): boolean => {
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${p}/stat`, 'utf8');
    } catch {
      return false;
    }
    // Fields after the command name (which may hold spaces) start at ") ".
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    total += (Number(fields[11]) + Number(fields[12])) / ticks;
    for (const task of fs.readdirSync(`/proc/${p}/task`)) {
      let children = '';
      try {
        children = fs.readFileSync(`/proc/${p}/task/${task}/children`, 'utf8');
      } catch {
        // The thread has gone.
      }
      for (const child of children.split(' ').filter(Boolean)) visit(Number(child));
    }
    return true;
  };
  return process.platform === 'linux' && visit(pid) ? total : undefined;
}

/** Starts `way` on `dataDir`, waits for its first GraphQL answer, stops it; the time and CPU to that answer. */
async function measureStart(way: Way, dataDir: string): Promise<Sample> {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: 'development', HOST: '127.0.0.1', PORT: String(port), DATA_DIR: dataDir };
  delete env.DATABASE_URL; // the embedded database, whatever the shell says
  const t0 = performance.now();
  // A process group of its own, so that stopping it stops what `npm start` started too.
  const child = spawn(way.command, way.args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let output = '';
  const keep = (chunk: Buffer) => (output = (output + chunk.toString('utf8')).slice(-8192));
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let gone = false;
  void exited.then(() => (gone = true));
  const stop = async () => {
    if (!gone) {
      process.kill(-child.pid!, 'SIGTERM');
      const timer = setTimeout(() => !gone && process.kill(-child.pid!, 'SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
  };
  try {
    for (;;) {
      if (gone) throw new Error(`${way.name} exited before answering:\n${output}`);
      const ok = await fetch(`http://127.0.0.1:${port}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"query":"{ __typename }"}',
        signal: AbortSignal.timeout(2000),
      }).then(
        (res) => res.ok,
        () => false,
      );
      if (ok) {
        const ms = performance.now() - t0;
        return { ms, cpu: treeCpuSeconds(child.pid!) };
      }
      if (performance.now() - t0 > READY_TIMEOUT_MS) throw new Error(`${way.name} did not answer in ${READY_TIMEOUT_MS} ms:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  } finally {
    await stop();
  }
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

function table(title: string, results: Map<Way, Sample[]>): string {
  const old = median(results.get(OLD)!.map((s) => s.ms));
  const rows = [['way', 'p50 first answer', 'min', 'max', 'p50 CPU', 'speed-up vs tsx']];
  for (const [way, samples] of results) {
    const ms = samples.map((s) => s.ms);
    const cpu = samples.every((s) => s.cpu !== undefined) ? `${median(samples.map((s) => s.cpu!)).toFixed(2)} s` : 'n/a';
    const ratio = `${(old / median(ms)).toFixed(2)}×`;
    rows.push([way.name, secs(median(ms)), secs(Math.min(...ms)), secs(Math.max(...ms)), cpu, ratio]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => `| ${r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  return [title, line(rows[0]!), `|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`, ...rows.slice(1).map(line)].join('\n');
}

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'hashback-bench-startup-'));
process.once('SIGINT', () => {
  fs.rmSync(scratch, { recursive: true, force: true });
  process.exit(130);
});
const loadBefore = os.loadavg()[0]!;
try {
  log(`machine: ${os.cpus().length} cores, ${os.cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}; 1-minute load ${loadBefore.toFixed(2)}`);
  if (loadBefore > os.cpus().length / 2) log(`  the machine is busy (load ${loadBefore.toFixed(2)}): every figure is inflated, compare the ratios`);
  log(`dist/: ${describeBuild(await build())}`);
  const migrations = await migrationFingerprints();
  const template = choosePgliteTemplate(migrations);
  log(
    `embedded template: ${
      !template
        ? 'MISSING (run `npm run postinstall`): new folders run initdb and every migration'
        : `prepared, ${template.migrations.length} of ${migrations.length} migrations run in it${template.migrations.length < migrations.length ? ' (`npm run postinstall` prepares the rest)' : ''}`
    }`,
  );
  log(`${RUNS} run(s) per way and case, ways interleaved: ${WAYS.map((w) => w.name).join(', ')}`);

  // The existing folder: created (and seeded) once by a first start, reopened by every run.
  const existing = path.join(scratch, 'existing');
  await measureStart(COMPILED, existing);
  log('existing data folder prepared');

  const cases: { title: string; folder: (way: Way, run: number) => string }[] = [
    { title: 'existing data folder', folder: () => existing },
    { title: 'new data folder (template, migrations, demo seed)', folder: (way, run) => path.join(scratch, `new-${WAYS.indexOf(way)}-${run}`) },
  ];
  const tables: string[] = [];
  const figures: SummaryRow[] = [];
  for (const c of cases) {
    const results = new Map<Way, Sample[]>(WAYS.map((w) => [w, []]));
    for (let run = 0; run < RUNS; run++) {
      for (const way of WAYS) {
        const sample = await measureStart(way, c.folder(way, run));
        results.get(way)!.push(sample);
        log(`${c.title}, run ${run + 1}/${RUNS}, ${way.name}: ${secs(sample.ms)}${sample.cpu === undefined ? '' : ` (CPU ${sample.cpu.toFixed(2)} s)`}`);
      }
    }
    tables.push(table(`Start-up to the first answer, ${c.title}:`, results));
    const old = median(results.get(OLD)!.map((s) => s.ms)) / 1000;
    for (const way of WAYS.filter((w) => w !== OLD)) {
      const seconds = median(results.get(way)!.map((s) => s.ms)) / 1000;
      figures.push({
        bench: 'startup',
        metric: `first answer, ${c.title.replace(/ \(.*\)$/, '')}, ${way === COMPILED ? 'compiled' : 'npm start'}`,
        value: seconds,
        unit: 's',
        baseline: old,
        ratio: ratioOf(old, seconds),
        note: `ratio: speed-up vs tsx; median of ${RUNS} run${RUNS === 1 ? '' : 's'}; target <= ${c === cases[0] ? 2 : 3} s`,
      });
    }
  }
  reportSummary(figures);
  console.log(`\n${tables.join('\n\n')}\n\n1-minute load before ${loadBefore.toFixed(2)}, after ${os.loadavg()[0]!.toFixed(2)} (${os.cpus().length} cores).\n`);
} catch (error) {
  console.error(error);
  process.exitCode = 1;
} finally {
  fs.rmSync(scratch, { recursive: true, force: true });
}
