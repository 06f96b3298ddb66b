/** `npm run migrate`: applies pending migrations to the configured database. */
import { ConfigError, loadConfig } from '../src/config.js';
import { openDatabase } from '../src/database.js';
import { DataDirLockedError } from '../src/lib/data-dir-lock.js';
import { migrateToLatest } from '../src/migrate.js';

try {
  const config = loadConfig();
  const database = await openDatabase(config.databaseUrl ? { url: config.databaseUrl, poolSize: 1 } : { dataDir: config.dataDir });
  try {
    const applied = await migrateToLatest(database.db);
    console.log(applied.length > 0 ? `Applied ${applied.length} migration(s):\n  ${applied.join('\n  ')}` : 'The database is up to date.');
  } finally {
    await database.close();
  }
} catch (error) {
  console.error(error instanceof ConfigError || error instanceof DataDirLockedError ? error.message : error);
  process.exit(1);
}
