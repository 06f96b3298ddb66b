/**
 * `npm run bench`: every benchmark in scripts/bench/, one after another, each as its own process
 * with short knobs (the whole run in two to five minutes on a 2-core machine), then one table
 * of the headline figures beside their baselines.
 *
 * Each benchmark runs as `node --import tsx scripts/bench/<file>` (with this process's young-generation
 * size, the one `npm start` gives the server) and this process's environment,
 * so DATABASE_URL picks Postgres for those that take it (bench:startup always starts the embedded
 * database). A short knob is set only when the environment does not already name it: `REQUESTS=5000
 * npm run bench` runs the feed longer and leaves the rest short. The benchmarks print their own
 * reports as usual (streamed here under a heading) and, because BENCH_SUMMARY=1 is set, their
 * headline figures as `BENCH_SUMMARY <json>` lines (scripts/bench/summary.ts), which this runner
 * collects instead of echoing. A benchmark that fails is reported as failed and the others still
 * run; the exit code is 1 if any failed.
 *
 * Knobs of the runner: ONLY (comma-separated names: offers, ingest, webhooks, fanout, posts,
 * startup) runs a subset, in this order.
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseSummaryLine, type SummaryRow } from './summary.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

interface Bench {
  name: string;
  file: string;
  /** Short defaults for this run; each benchmark's own defaults (and README) are for longer runs. */
  knobs: Record<string, string>;
}

const BENCHES: Bench[] = [
  { name: 'offers', file: 'offer-feed.ts', knobs: { REQUESTS: '1000', WARMUP: '100' } },
  { name: 'ingest', file: 'ingest.ts', knobs: { TOTAL: '5000', SINGLE: '500', USERS: '20', WARMUP_BATCHES: '1', WARMUP_SINGLE: '1500' } },
  { name: 'webhooks', file: 'webhooks.ts', knobs: { DELIVERIES: '1000', PACED_EVENTS: '50' } },
  { name: 'fanout', file: 'fanout.ts', knobs: { SUBSCRIBERS: '2000', ROUNDS: '2', USERS: '20', SECONDS: '5' } },
  { name: 'posts', file: 'posts.ts', knobs: { BATCHES: '4', CONFIRMS: '80', WARMUP_BATCHES: '1' } },
  { name: 'startup', file: 'startup.ts', knobs: { RUNS: '1' } },
];

const only = (process.env.ONLY ?? '')
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean);
const unknown = only.filter((name) => !BENCHES.some((b) => b.name === name));
if (unknown.length > 0) {
  console.error(`ONLY: no benchmark named ${unknown.join(', ')}; the names are ${BENCHES.map((b) => b.name).join(', ')}`);
  process.exit(2);
}
const selected = only.length > 0 ? BENCHES.filter((b) => only.includes(b.name)) : BENCHES;

// ---------------------------------------------------------------------------------------------
// The machine and the database, for the report
// ---------------------------------------------------------------------------------------------

function uptime(): string {
  try {
    return execFileSync('uptime', { encoding: 'utf8' }).trim();
  } catch {
    return `load average: ${os.loadavg().map((l) => l.toFixed(2)).join(', ')}`;
  }
}

/** DATABASE_URL without its credentials. */
function databaseLabel(): string {
  const raw = process.env.DATABASE_URL;
  if (!raw) return 'embedded PGlite, in memory (bench:startup: embedded, on disk)';
  try {
    const url = new URL(raw);
    return `Postgres at ${url.hostname}:${url.port || '5432'}, a scratch database per benchmark (bench:startup: embedded, on disk)`;
  } catch {
    return 'Postgres (DATABASE_URL) (bench:startup: embedded, on disk)';
  }
}

// ---------------------------------------------------------------------------------------------
// Running one benchmark
// ---------------------------------------------------------------------------------------------

interface Outcome {
  bench: Bench;
  /** The knobs as the benchmark saw them: short defaults and the user's own. */
  knobs: string[];
  rows: SummaryRow[];
  status: 'ok' | 'failed' | 'missing' | 'interrupted';
  detail: string;
  seconds: number;
}

let interrupted = false;
let running: ReturnType<typeof spawn> | undefined;
// The children run in process groups of their own, so a Ctrl-C reaches them once, from here:
// each cleans up (drops its scratch database) and the run stops after it.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interrupted) return;
    interrupted = true;
    console.log(`\n${signal}: stopping after the current benchmark cleans up`);
    // SIGINT either way: it is the signal the benchmarks clean up on.
    if (running?.pid && running.exitCode === null) process.kill(-running.pid, 'SIGINT');
  });
}

async function run(bench: Bench): Promise<Outcome> {
  const file = path.join('scripts/bench', bench.file);
  const knobs: string[] = [];
  const env: NodeJS.ProcessEnv = { ...process.env, BENCH_SUMMARY: '1' };
  for (const [name, value] of Object.entries(bench.knobs)) {
    if (process.env[name] === undefined || process.env[name] === '') {
      env[name] = value;
      knobs.push(`${name}=${value}`);
    } else {
      knobs.push(`${name}=${process.env[name]} (yours)`);
    }
  }
  const outcome: Outcome = { bench, knobs, rows: [], status: 'ok', detail: '', seconds: 0 };
  console.log(`\n======== ${bench.name}: ${file}${knobs.length ? `  ${knobs.join(' ')}` : ''}  (${new Date().toISOString().slice(11, 19)} UTC)\n`);
  if (!fs.existsSync(path.join(ROOT, file))) {
    outcome.status = 'missing';
    outcome.detail = `${file} not found`;
    console.log(outcome.detail);
    return outcome;
  }
  const started = performance.now();
  // The young generation's size given to this runner (package.json: as `npm start` runs) holds for each benchmark too.
  const heapFlags = process.execArgv.filter((flag) => flag.startsWith('--max-semi-space-size'));
  const child = spawn(process.execPath, [...heapFlags, '--import', 'tsx', file], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'inherit'], detached: true });
  running = child;
  const lines = readline.createInterface({ input: child.stdout });
  lines.on('line', (line) => {
    const row = parseSummaryLine(line);
    if (row) outcome.rows.push(row);
    else console.log(line);
  });
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => {
    child.once('error', (error) => {
      console.error(error);
      resolve([null, null]);
    });
    child.once('close', (c, s) => resolve([c, s]));
  });
  running = undefined;
  outcome.seconds = (performance.now() - started) / 1000;
  if (code !== 0) {
    outcome.status = interrupted ? 'interrupted' : 'failed';
    outcome.detail = signal ? `killed by ${signal}` : code === null ? 'did not start' : `exit code ${code}`;
  }
  console.log(`\n-------- ${bench.name}: ${outcome.status}${outcome.detail ? ` (${outcome.detail})` : ''} in ${outcome.seconds.toFixed(0)} s`);
  return outcome;
}

// ---------------------------------------------------------------------------------------------
// The summary table
// ---------------------------------------------------------------------------------------------

/** 1234.5 → "1,235"; 45.67 → "45.7"; 3.456 → "3.46"; NaN → "n/a". */
function figure(n: number | undefined, unit = ''): string {
  if (n === undefined) return '';
  if (!Number.isFinite(n)) return 'n/a';
  const abs = Math.abs(n);
  const text = abs >= 100 ? Math.round(n).toLocaleString('en-US') : abs >= 10 ? n.toFixed(1) : abs >= 0.1 || n === 0 ? n.toFixed(2) : n.toFixed(3);
  return unit ? `${text} ${unit}` : text;
}

const ratio = (r: number | undefined) => (r === undefined ? '' : Number.isFinite(r) ? `${r.toFixed(r < 0.1 ? 3 : 2)}×` : 'n/a');

function table(outcomes: Outcome[]): string {
  const rows: string[][] = [];
  for (const o of outcomes) {
    for (const r of o.rows) rows.push([o.bench.name, r.metric, figure(r.value, r.unit), figure(r.baseline, r.unit), ratio(r.ratio), r.note ?? '']);
    if (o.status !== 'ok') rows.push([o.bench.name, 'run', o.status.toUpperCase(), '', '', `${o.detail}; see its output above`]);
    else if (o.rows.length === 0) rows.push([o.bench.name, 'see output', '', '', '', 'printed no summary lines']);
  }
  const head = ['benchmark', 'figure', 'value', 'baseline', 'ratio', 'note'];
  const right = new Set([2, 3, 4]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => `| ${r.map((c, i) => (right.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (right.has(i) ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`;
  return [line(head), rule, ...rows.map(line)].join('\n');
}

// ---------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------

const started = performance.now();
const uptimeBefore = uptime();
const cpus = os.cpus();
console.log(`npm run bench: ${selected.map((b) => b.name).join(', ')}`);
console.log(`machine   ${cpus.length} CPUs (${cpus[0]?.model.trim() ?? 'unknown'}), ${(os.totalmem() / 1024 ** 3).toFixed(0)} GB; node ${process.version}`);
console.log(`database  ${databaseLabel()}`);
console.log(`uptime    ${uptimeBefore}`);

const outcomes: Outcome[] = [];
for (const bench of selected) {
  if (interrupted) break;
  outcomes.push(await run(bench));
}

const totalSeconds = (performance.now() - started) / 1000;
const minutes = `${Math.floor(totalSeconds / 60)} min ${Math.round(totalSeconds % 60)} s`;
console.log(
  [
    '',
    '================================================================================',
    `summary of npm run bench${only.length ? ` (ONLY=${only.join(',')})` : ''}: ratio is value ÷ baseline unless the note says otherwise`,
    `node ${process.version}, ${cpus.length} CPUs; database ${databaseLabel()}`,
    `uptime at start  ${uptimeBefore}`,
    `uptime at end    ${uptime()}`,
    `total ${minutes}: ${outcomes.map((o) => `${o.bench.name} ${o.seconds.toFixed(0)} s${o.status === 'ok' ? '' : ` ${o.status.toUpperCase()}`}`).join(', ')}`,
    '',
    table(outcomes),
    '',
    'knobs (short defaults of this run unless marked yours; each benchmark alone runs longer by default):',
    ...outcomes.map((o) => `  ${o.bench.name.padEnd(8)} ${o.knobs.join(' ')}`),
    ...(interrupted ? ['', `interrupted: ${selected.length - outcomes.length} benchmark(s) not run`] : []),
    '',
  ].join('\n'),
);
if (interrupted) process.exitCode = 130;
else if (outcomes.some((o) => o.status !== 'ok')) process.exitCode = 1;
