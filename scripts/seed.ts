/** `npm run seed`: demo merchants, offers and API keys in the configured database. */
import { describeSeed, seedDemoData } from '../src/seed.js';
import { openConfiguredDatabase } from './configured-database.js';

const { database, logger } = await openConfiguredDatabase();
try {
  console.log(`Seeding demo data into the ${database.kind === 'pglite' ? 'embedded database' : 'Postgres database'}…`);
  const result = await seedDemoData(database.db, logger, (line) => console.log(line));
  console.log(`\n${describeSeed(result)}`);
} finally {
  await database.close();
}
