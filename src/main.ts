/**
 * `npm start`: validates configuration, opens the database (embedded by default), migrates,
 * seeds demo data on the first start of an embedded data folder, serves, and shuts down cleanly.
 *
 * A start that cannot succeed (database refused, unreachable or refusing our credentials, port in
 * use, data folder locked, production secret missing) ends with one readable line and a non-zero
 * exit code; the stack trace is logged only with LOG_LEVEL=debug.
 */
import net from 'node:net';
import { createApp } from './app.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { openDatabase, DatabaseTimeoutError, type Database } from './database.js';
import { DataDirLockedError } from './lib/data-dir-lock.js';
import { createLogger, type Logger } from './logger.js';
import { migrateToLatest, migrationFingerprints } from './migrate.js';
import { DEMO_PATH } from './server/demo.js';
import { loadSecurity } from './security.js';
import { describeSeed, findDemoKeys, hasDemoCatalogue, saveDemoKeys, seedDemoData } from './seed.js';

/** How long the first connection to a Postgres server may take at start. */
const START_PROBE_MS = 10_000;

/** A start-up failure already put into words for the operator. */
class StartupError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'StartupError';
  }
}

/** Where DATABASE_URL points, without its credentials. */
function databaseTarget(databaseUrl: string): string {
  try {
    const url = new URL(databaseUrl);
    return `${url.hostname}:${url.port || '5432'}${url.pathname}`;
  } catch {
    return 'DATABASE_URL';
  }
}

/** The driver's error for a failed first contact with Postgres, in the operator's words. */
function describeDatabaseError(error: unknown, databaseUrl: string): string | null {
  const target = `the database at ${databaseTarget(databaseUrl)}`;
  // pg wraps some failures (a connect timeout wraps "Connection terminated"): look down the chain.
  const chain: { code?: unknown; message?: unknown; cause?: unknown }[] = [];
  for (let e = error as { cause?: unknown } | undefined; e && typeof e === 'object' && chain.length < 5; e = e.cause as typeof e) chain.push(e);
  const code = chain.map((e) => e.code).find((c): c is string => typeof c === 'string');
  const messages = chain.map((e) => (typeof e.message === 'string' ? e.message : ''));
  const message = messages[0] ?? '';
  switch (code) {
    case 'ECONNREFUSED':
      return `Cannot connect to ${target}: connection refused. Is Postgres running there? Check DATABASE_URL.`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `Cannot connect to ${target}: the host name does not resolve. Check DATABASE_URL.`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'ETIMEDOUT':
      return `Cannot connect to ${target}: the host is unreachable. Check DATABASE_URL and the network.`;
    case '28P01':
    case '28000':
      return `${target[0]!.toUpperCase()}${target.slice(1)} refused the credentials in DATABASE_URL (${message}).`;
    case '3D000':
      return `${target[0]!.toUpperCase()}${target.slice(1)} does not exist (${message}). Create it or fix DATABASE_URL.`;
    case '57P03':
      return `${target[0]!.toUpperCase()}${target.slice(1)} is starting up or shutting down; try again shortly.`;
  }
  if (error instanceof DatabaseTimeoutError || messages.some((m) => /timeout|timed out/i.test(m))) {
    return `Cannot connect to ${target}: no answer (timed out). Check DATABASE_URL and the network.`;
  }
  return null;
}

/** Fails now, before any work, when the port is taken (the server's own error comes too late to read well). */
async function ensurePortFree(config: Config): Promise<void> {
  if (config.port === 0) return;
  await new Promise<void>((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', (error: NodeJS.ErrnoException) => reject(portError(error, config)));
    probe.listen(config.port, config.host, () => probe.close(() => resolve()));
  });
}

function portError(error: NodeJS.ErrnoException, config: Config): Error {
  if (error.code === 'EADDRINUSE') {
    return new StartupError(`Port ${config.port} on ${config.host} is already in use. Stop what uses it, or set PORT to another port.`, 1, { cause: error });
  }
  if (error.code === 'EACCES') {
    return new StartupError(`Not allowed to listen on port ${config.port} on ${config.host}. Use a port above 1023, or set PORT.`, 1, { cause: error });
  }
  if (error.code === 'EADDRNOTAVAIL') {
    return new StartupError(`HOST ${config.host} is not an address of this machine. Set HOST to one of its addresses.`, 1, { cause: error });
  }
  return error;
}

async function openAndCheckDatabase(config: Config): Promise<Database> {
  let database: Database;
  try {
    database = await openDatabase(
      config.databaseUrl
        ? { url: config.databaseUrl, poolSize: config.databasePoolSize }
        : // A new folder starts from the template having run the most of these (then migrated below).
          { dataDir: config.dataDir, migrations: migrationFingerprints },
    );
  } catch (error) {
    if (error instanceof DataDirLockedError) throw new StartupError(error.message, 1, { cause: error });
    throw error;
  }
  if (config.databaseUrl) {
    // The pool connects lazily: make first contact here, so a database that is not there is
    // reported as such, not as a failed migration.
    try {
      await database.probe(START_PROBE_MS);
    } catch (error) {
      await database.close().catch(() => undefined);
      const described = describeDatabaseError(error, config.databaseUrl);
      throw described ? new StartupError(described, 1, { cause: error }) : error;
    }
  }
  return database;
}

/** Which database demo keys belong to: the embedded one, or a Postgres server named without credentials. */
function databaseName(config: Config): string {
  return config.databaseUrl ? databaseTarget(config.databaseUrl) : 'embedded';
}

/** Milliseconds since the process started (performance's time origin), rounded. */
const sinceLaunch = () => Math.round(performance.now());

/** When this module began to run: what loading the server's modules took since launch. */
const modulesLoaded = sinceLaunch();

async function main(config: Config, logger: Logger): Promise<void> {
  const started = performance.now();
  // Where a start spends its time (ms since launch at the end of each phase), logged with the
  // serving line: what a slow start is read from.
  const phases: Record<string, number> = { modules: modulesLoaded };
  let security;
  try {
    security = loadSecurity(config, (message) => logger.warn(message));
  } catch (error) {
    throw new StartupError((error as Error).message, 2, { cause: error });
  }
  if (config.nodeEnv === 'production' && !config.metricsToken) {
    throw new StartupError('METRICS_TOKEN is required in production (it protects /metrics; 16+ random characters, e.g. `openssl rand -base64 24`).', 2);
  }

  await ensurePortFree(config);
  const database = await openAndCheckDatabase(config);
  phases.open = sinceLaunch();
  logger.info(
    {
      database: database.kind,
      ...(database.kind === 'pglite' ? { dataDir: config.dataDir } : {}),
      ...(database.createdFrom ? { from: database.createdFrom } : {}),
    },
    database.created ? 'created the embedded database' : 'opened the database',
  );

  const applied = await migrateToLatest(database.db);
  if (applied.length > 0) logger.info({ migrations: applied }, 'migrations applied');
  phases.migrate = sinceLaunch();

  if (database.created && config.seedOnFirstStart) {
    const result = await seedDemoData(database.db, logger, undefined, { security });
    // On a developer's embedded data folder the demo keys are kept beside the data, so they can be
    // found again (`npm run simulate` reads them there); the server never writes keys for Postgres.
    const keysFile = saveDemoKeys(config.dataDir, result.keys, databaseName(config));
    console.log(`\n${describeSeed(result)}\n(also saved in ${keysFile})\n`);
  } else {
    const keysFile = findDemoKeys(config.dataDir, databaseName(config));
    if (keysFile) logger.info({ keysFile }, `demo API keys are in ${keysFile}`);
    else if (config.databaseUrl && !(await hasDemoCatalogue(database.db))) {
      logger.info('no demo data in this database: `npm run seed` adds the demo catalogue and saves demo keys for `npm run simulate`');
    }
  }

  phases.seed = sinceLaunch();

  const app = createApp({ config, database, logger, security });
  phases.app = sinceLaunch();
  let url: string;
  try {
    url = await app.listen();
  } catch (error) {
    // Lost a race for the port after the early check.
    await app.close().catch(() => undefined);
    throw portError(error as NodeJS.ErrnoException, config);
  }
  phases.listen = sinceLaunch();
  // What a person can open in a browser, on the line they wait for.
  const pages = [config.graphiql && `GraphiQL at ${url}`, config.demoPage && `the demo timeline at ${new URL(DEMO_PATH, url)}`].filter(Boolean);
  logger.info({ url, ms: Math.round(performance.now() - started), phases }, `hashback is serving GraphQL at ${url}${pages.length > 0 ? `; in a browser: ${pages.join(', ')}` : ''}`);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'signal received');
    app.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

/** The configuration, or one fatal line naming every problem (exit code 2), in the same form as every other start-up failure. */
function configOrExit(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const nodeEnv = process.env.NODE_ENV === 'production' || process.env.NODE_ENV === 'test' ? process.env.NODE_ENV : 'development';
    createLogger({ logLevel: 'info', nodeEnv }).fatal({ problems: error.problems }, `Invalid configuration: ${error.problems.join('; ')}`);
    process.exit(2);
  }
}

const config = configOrExit();
const logger = createLogger(config);
main(config, logger).catch((error: unknown) => {
  const debug = config.logLevel === 'debug' || config.logLevel === 'trace';
  if (error instanceof StartupError) {
    if (debug) logger.debug({ err: error.cause }, 'start-up failure in detail');
    logger.fatal(error.message);
    process.exit(error.exitCode);
  }
  // Not foreseen: still one line, with the detail at debug level.
  const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
  if (debug) logger.debug({ err: error }, 'start-up failure in detail');
  logger.fatal(`hashback could not start: ${message}${debug ? '' : ' (LOG_LEVEL=debug shows the detail)'}`);
  process.exit(1);
});
