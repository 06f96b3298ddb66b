/**
 * `npm run seed`: demo merchants, offers, API keys and the demo buyer (whose card is sealed with
 * the server's card keys, loaded as the server loads them) in the configured database. The keys are
 * saved in <DATA_DIR>/demo-keys.json (with the database they belong to), where `npm run simulate`
 * and later server starts find them, for the embedded database and for Postgres alike.
 */
import { describeSeed, saveDemoKeys, seedDemoData } from '../src/seed.js';
import { loadSecurity } from '../src/security.js';
import { openConfiguredDatabase } from './configured-database.js';

const { config, database, logger } = await openConfiguredDatabase();
try {
  console.log(`Seeding demo data into the ${database.kind === 'pglite' ? 'embedded database' : 'Postgres database'}…`);
  const security = loadSecurity(config, (message) => logger.warn(message));
  const result = await seedDemoData(database.db, logger, (line) => console.log(line), { security });
  let target = 'embedded';
  if (config.databaseUrl) {
    const url = new URL(config.databaseUrl);
    target = `${url.hostname}:${url.port || '5432'}${url.pathname}`;
  }
  const keysFile = saveDemoKeys(config.dataDir, result.keys, target);
  console.log(`\n${describeSeed(result)}\nSaved in ${keysFile}: \`npm run simulate\` and later server starts find them there.`);
} finally {
  await database.close();
}
