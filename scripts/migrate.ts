/** `npm run migrate`: applies pending migrations to the configured database. */
import { openConfiguredDatabase } from './configured-database.js';

const { database, applied } = await openConfiguredDatabase();
await database.close();
console.log(applied.length > 0 ? `Applied ${applied.length} migration(s):\n  ${applied.join('\n  ')}` : 'The database is up to date.');
