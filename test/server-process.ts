/**
 * Real server processes for scale-out tests: `node --import tsx src/main.ts` with a given
 * environment on a port picked here, ready once `GET /ready` answers 200. Every process started
 * is tracked so a test file can stop them all (SIGTERM, then SIGKILL) and none outlives the run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const OUTPUT_LIMIT = 64 * 1024;

export interface ServerProcess {
  port: number;
  /** http://127.0.0.1:port */
  base: string;
  /** The GraphQL endpoint over HTTP. */
  url: string;
  /** The GraphQL endpoint over WebSocket. */
  wsUrl: string;
  pid: number;
  /** The last 64 KiB of stdout and stderr, for failure messages. */
  output(): string;
  /** Resolves with the exit code (or signal) once the process has exited. */
  exited: Promise<number | string | null>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with how it exited. */
  stop(graceMs?: number): Promise<number | string | null>;
}

const running = new Set<ServerProcess>();

/** A port nothing listens on right now (listen on 0, read it, close). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** How a server process starts: the sources through tsx, or `npm start`'s launcher (build dist/, then run it). */
export type ServerEntry = 'sources' | 'compiled';
const ENTRY_ARGS: Record<ServerEntry, string[]> = { sources: ['--import', 'tsx', 'src/main.ts'], compiled: ['scripts/start.mjs'] };

/** The server (`entry`) with `env` plus PATH/HOME/TMPDIR/LANG; keeps the last 64 KiB it writes. */
function spawnMain(env: Record<string, string>, entry: ServerEntry = 'sources'): { child: ChildProcess; output: () => string } {
  const inherited: Record<string, string> = {};
  for (const name of ['PATH', 'HOME', 'TMPDIR', 'LANG']) if (process.env[name]) inherited[name] = process.env[name]!;
  const child = spawn(process.execPath, ENTRY_ARGS[entry], {
    cwd: ROOT,
    env: { ...inherited, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-OUTPUT_LIMIT);
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  return { child, output: () => output };
}

/** Starts the server with `env` (plus PATH/HOME/TMPDIR) and waits for `/ready`. */
export async function startServerProcess(
  env: Record<string, string>,
  options: { port?: number; readyTimeoutMs?: number; entry?: ServerEntry } = {},
): Promise<ServerProcess> {
  const port = options.port ?? (await freePort());
  const host = '127.0.0.1';
  const { child, output } = spawnMain({ HOST: host, ...env, PORT: String(port) }, options.entry);
  // If the test worker itself goes away, take the server with it.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  let hasExited = false;
  const exited = new Promise<number | string | null>((resolve) => {
    child.once('exit', (code, signal) => {
      hasExited = true;
      process.off('exit', killOnExit);
      resolve(code ?? signal);
    });
  });

  const base = `http://${host}:${port}`;
  const server: ServerProcess = {
    port,
    base,
    url: `${base}/graphql`,
    wsUrl: `ws://${host}:${port}/graphql`,
    pid: child.pid!,
    output,
    exited,
    stop: async (graceMs = 5000) => {
      if (!hasExited) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      }
      running.delete(server);
      return exited;
    },
  };
  running.add(server);

  const deadline = Date.now() + (options.readyTimeoutMs ?? 20_000);
  for (;;) {
    if (hasExited) {
      running.delete(server);
      throw new Error(`server on port ${port} exited before it was ready (${String(await exited)}):\n${output()}`);
    }
    const status = await fetch(`${base}/ready`, { signal: AbortSignal.timeout(1000) }).then(
      (res) => res.status,
      () => 0,
    );
    if (status === 200) return server;
    if (Date.now() > deadline) {
      await server.stop(1000);
      throw new Error(`server on port ${port} was not ready in time (last status ${status}):\n${output()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Stops every server process this module started that is still running. */
export async function stopAllServerProcesses(graceMs = 5000): Promise<void> {
  await Promise.all([...running].map((server) => server.stop(graceMs)));
}

/**
 * Runs `src/main.ts` with `env` (plus PATH/HOME/TMPDIR) until it exits on its own, for start-ups
 * that must fail; resolves with the exit code and everything it wrote (stdout and stderr).
 */
export async function runServerProcessToExit(
  env: Record<string, string>,
  options: { timeoutMs?: number } = {},
): Promise<{ code: number | string | null; output: string }> {
  const { child, output } = spawnMain({ HOST: '127.0.0.1', ...env });
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
  const code = await new Promise<number | string | null>((resolve) => child.once('close', (c, signal) => resolve(c ?? signal)));
  clearTimeout(timer);
  process.off('exit', killOnExit);
  return { code, output: output() };
}
