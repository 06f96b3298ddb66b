/**
 * Start-up errors: a server that cannot start says why in one readable log line and exits with a
 * non-zero code; the stack trace appears only with LOG_LEVEL=debug. Each case spawns
 * `src/main.ts` for real. The cases that need no database server run on the PGlite project (once
 * per run); the credential cases need a real Postgres server and run on the Postgres project.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { generateCardKeys } from '../src/modules/cards/card-crypto.js';
import { databaseKind } from './harness.js';
import { freePort, runServerProcessToExit } from './server-process.js';

const keys = generateCardKeys();
/** Secrets given, so the development warnings about generated secrets do not add lines. */
const SECRETS = {
  TOKEN_SECRET: randomBytes(32).toString('base64url'),
  CARD_ENCRYPTION_KEYS: keys.encryptionKeys,
  CARD_FINGERPRINT_KEY: keys.fingerprintKey,
};

const dirs: string[] = [];
const tempDir = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hashback-start-'));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

const baseEnv = (extra: Record<string, string>) => ({
  NODE_ENV: 'test',
  LOG_LEVEL: 'info',
  SEED_ON_FIRST_START: 'false',
  DATA_DIR: tempDir(),
  ...SECRETS,
  ...extra,
});

/** Runs the server to its exit and checks the shape every start-up error must have; returns the line's message. */
async function failedStart(env: Record<string, string>, timeoutMs = 30_000): Promise<{ code: unknown; message: string; output: string }> {
  const { code, output } = await runServerProcessToExit(env, { timeoutMs });
  const lines = output.split('\n').filter((line) => line.trim() !== '');
  expect(typeof code === 'number' && code !== 0, `exit code ${String(code)}; output:\n${output}`).toBe(true);
  expect(lines, `exactly one line; output:\n${output}`).toHaveLength(1);
  expect(output, 'no stack trace').not.toMatch(/^\s+at /m);
  const line = JSON.parse(lines[0]!) as { level: number; msg: string };
  expect(line.level, 'logged as fatal').toBe(60);
  return { code, message: line.msg, output };
}

describe.runIf(databaseKind() === 'pglite')('start-up errors without a database server (PGlite project only: the same on both)', () => {
  const listeners: net.Server[] = [];
  const sockets: net.Socket[] = [];
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await Promise.all(listeners.map((server) => new Promise((resolve) => server.close(resolve))));
  });
  const listen = async (onConnection: (socket: net.Socket) => void = () => undefined) => {
    const server = net.createServer((socket) => {
      sockets.push(socket);
      onConnection(socket);
    });
    listeners.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return (server.address() as net.AddressInfo).port;
  };

  it('a refused database connection is one line naming the host, without the password', async () => {
    const port = await freePort();
    const { message, output } = await failedStart(baseEnv({ DATABASE_URL: `postgres://app:s3cret-pw@127.0.0.1:${port}/shop` }));
    expect(message).toBe(`Cannot connect to the database at 127.0.0.1:${port}/shop: connection refused. Is Postgres running there? Check DATABASE_URL.`);
    expect(output).not.toContain('s3cret-pw');
    expect(output).not.toContain('opened the database');
  });

  it('a database that accepts the connection but never answers is one line, within seconds', async () => {
    const port = await listen(); // holds the socket and says nothing, as a black-holed host would
    const started = Date.now();
    const { message } = await failedStart(baseEnv({ DATABASE_URL: `postgres://app@127.0.0.1:${port}/shop` }));
    expect(message).toBe(`Cannot connect to the database at 127.0.0.1:${port}/shop: no answer (timed out). Check DATABASE_URL and the network.`);
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it('a database host name that does not resolve is one line', async () => {
    const { message } = await failedStart(baseEnv({ DATABASE_URL: 'postgres://app@no-such-host.invalid:5432/shop' }));
    expect(message).toMatch(/^Cannot connect to the database at no-such-host\.invalid:5432\/shop: (the host name does not resolve|the host is unreachable|no answer)/);
  });

  it('a port in use is one line, before any database work', async () => {
    const port = await listen();
    const { message, output } = await failedStart({ ...baseEnv({}), PORT: String(port) });
    expect(message).toBe(`Port ${port} on 127.0.0.1 is already in use. Stop what uses it, or set PORT to another port.`);
    expect(output).not.toContain('embedded database');
  });

  it('a data folder locked by another running process is one line', async () => {
    const dataDir = tempDir();
    fs.writeFileSync(path.join(dataDir, 'hashback.lock'), String(process.pid)); // this test runner: alive
    const { message } = await failedStart({ ...baseEnv({}), DATA_DIR: dataDir, PORT: String(await freePort()) });
    expect(message).toBe(
      `The data folder ${dataDir} is in use by another hashback process (pid ${process.pid}). ` +
        'Stop that process, or set DATA_DIR to another folder, or DATABASE_URL to use a Postgres server.',
    );
    expect(fs.readFileSync(path.join(dataDir, 'hashback.lock'), 'utf8'), "the other process's lock is left alone").toBe(String(process.pid));
  });

  it('a missing production secret is one line', async () => {
    const { TOKEN_SECRET: _omitted, ...withoutToken } = baseEnv({ NODE_ENV: 'production', PORT: String(await freePort()) });
    const { code, message } = await failedStart(withoutToken);
    expect(code).toBe(2);
    expect(message).toBe('TOKEN_SECRET is required in production (32+ random characters, e.g. `openssl rand -base64 32`).');
  });

  it('LOG_LEVEL=debug adds the stack trace', async () => {
    const port = await freePort();
    const { code, output } = await runServerProcessToExit(baseEnv({ LOG_LEVEL: 'debug', DATABASE_URL: `postgres://app@127.0.0.1:${port}/shop` }));
    expect(code).toBe(1);
    expect(output).toContain('ECONNREFUSED');
    expect(output).toMatch(/\\n\s+at /); // pino writes the stack inside the JSON line
    expect(output).toContain('connection refused. Is Postgres running there?');
  });
});

describe.runIf(databaseKind() === 'postgres')('start-up errors from a real Postgres server (Postgres project only)', () => {
  let server: URL;
  beforeAll(() => {
    const target = inject('database');
    if (target.kind !== 'postgres') throw new Error('needs Postgres');
    server = new URL(target.url);
  });

  it('credentials the server refuses are one line', async () => {
    const url = new URL(server);
    url.username = `no_such_role_${randomBytes(3).toString('hex')}`;
    url.password = 'wrong-password';
    const { message, output } = await failedStart(baseEnv({ DATABASE_URL: url.toString(), PORT: String(await freePort()) }));
    expect(message).toMatch(new RegExp(`^The database at ${url.hostname}:${url.port || 5432}/\\S+ refused the credentials in DATABASE_URL \\(.*\\)\\.$`));
    expect(output).not.toContain('wrong-password');
  });

  it('a database that does not exist is one line', async () => {
    const url = new URL(server);
    url.pathname = `/no_such_db_${randomBytes(3).toString('hex')}`;
    const { message } = await failedStart(baseEnv({ DATABASE_URL: url.toString(), PORT: String(await freePort()) }));
    expect(message).toMatch(/^The database at .* does not exist \(database "no_such_db_\w+" does not exist\)\. Create it or fix DATABASE_URL\.$/);
  });
});
