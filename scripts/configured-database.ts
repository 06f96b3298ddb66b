/**
 * Opens the database the configuration names (DATABASE_URL, or the embedded one in DATA_DIR),
 * migrated, for the command-line scripts. A running server's lock on DATA_DIR is reported plainly.
 */
import { loadConfigOrExit, type Config } from '../src/config.js';
import { openDatabase, type Database } from '../src/database.js';
import { DataDirLockedError } from '../src/lib/data-dir-lock.js';
import { createLogger, type Logger } from '../src/logger.js';
import { migrateToLatest } from '../src/migrate.js';

export async function openConfiguredDatabase(): Promise<{ config: Config; database: Database; logger: Logger; applied: string[] }> {
  const config = loadConfigOrExit();
  const logger = createLogger({ logLevel: process.env.LOG_LEVEL ? config.logLevel : 'warn' });
  try {
    const database = await openDatabase(
      config.databaseUrl ? { url: config.databaseUrl, poolSize: 2 } : { dataDir: config.dataDir },
    );
    const applied = await migrateToLatest(database.db);
    return { config, database, logger, applied };
  } catch (error) {
    if (error instanceof DataDirLockedError) {
      console.error(`${error.message}\nA running server holds the embedded database; stop it first, or use the admin API.`);
      process.exit(1);
    }
    throw error;
  }
}
