/**
 * Opens the database the configuration names (DATABASE_URL, or the embedded one in DATA_DIR),
 * migrated, for the command-line scripts. A running server's lock on DATA_DIR is reported plainly.
 */
import { ConfigError, loadConfig, type Config } from '../src/config.js';
import { openDatabase, type Database } from '../src/database.js';
import { DataDirLockedError } from '../src/lib/data-dir-lock.js';
import { createLogger, type Logger } from '../src/logger.js';
import { migrateToLatest } from '../src/migrate.js';

export async function openConfiguredDatabase(): Promise<{ config: Config; database: Database; logger: Logger }> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(2);
    }
    throw error;
  }
  const logger = createLogger({ logLevel: process.env.LOG_LEVEL ? config.logLevel : 'warn' });
  try {
    const database = await openDatabase(
      config.databaseUrl ? { url: config.databaseUrl, poolSize: 2 } : { dataDir: config.dataDir },
    );
    await migrateToLatest(database.db);
    return { config, database, logger };
  } catch (error) {
    if (error instanceof DataDirLockedError) {
      console.error(`${error.message}\nA running server holds the embedded database; stop it first, or use the admin API.`);
      process.exit(1);
    }
    throw error;
  }
}
