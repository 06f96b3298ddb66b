/**
 * `npm start`: validates configuration, opens the database (embedded by default), migrates,
 * seeds demo data on the first start of an embedded data folder, serves, and shuts down cleanly.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createApp } from './app.js';
import { loadConfigOrExit } from './config.js';
import { openDatabase } from './database.js';
import { DataDirLockedError } from './lib/data-dir-lock.js';
import { createLogger } from './logger.js';
import { migrateToLatest } from './migrate.js';
import { loadSecurity } from './security.js';
import { describeSeed, seedDemoData } from './seed.js';

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const logger = createLogger(config);
  const started = performance.now();
  let security;
  try {
    security = loadSecurity(config, (message) => logger.warn(message));
  } catch (error) {
    logger.fatal((error as Error).message);
    process.exit(2);
  }

  let database;
  try {
    database = await openDatabase(
      config.databaseUrl ? { url: config.databaseUrl, poolSize: config.databasePoolSize } : { dataDir: config.dataDir },
    );
  } catch (error) {
    if (error instanceof DataDirLockedError) {
      logger.fatal(error.message);
      process.exit(1);
    }
    throw error;
  }
  logger.info(
    { database: database.kind, ...(database.kind === 'pglite' ? { dataDir: config.dataDir } : {}) },
    database.created ? 'created the embedded database' : 'opened the database',
  );

  const applied = await migrateToLatest(database.db);
  if (applied.length > 0) logger.info({ migrations: applied }, 'migrations applied');

  if (database.created && config.seedOnFirstStart) {
    const result = await seedDemoData(database.db, logger);
    // On a developer's embedded data folder the demo keys are kept beside the data, so they can be
    // found again; a Postgres deployment never writes keys to disk.
    const keysFile = path.join(config.dataDir, 'demo-keys.json');
    fs.writeFileSync(keysFile, `${JSON.stringify(result.keys, null, 2)}\n`, { mode: 0o600 });
    console.log(`\n${describeSeed(result)}\n(also saved in ${keysFile})\n`);
  }

  const app = createApp({ config, database, logger, security });
  const url = await app.listen();
  logger.info({ url, ms: Math.round(performance.now() - started) }, `hashback is serving GraphQL at ${url}`);

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

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
