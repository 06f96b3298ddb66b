/**
 * `npm run rotate-card-keys`: re-encrypts every linked card under the active key (the first of
 * CARD_ENCRYPTION_KEYS). Keep the old keys in the ring until this has run; then they can go.
 */
import { rotateCardKeys } from '../src/modules/cards/cards.service.js';
import { loadSecurity } from '../src/security.js';
import { openConfiguredDatabase } from './configured-database.js';

const { config, database, logger } = await openConfiguredDatabase();
try {
  const security = loadSecurity(config, (message) => logger.warn(message));
  console.log(`Re-encrypting linked cards under key "${security.cards.ring.activeKeyId}"…`);
  const moved = await rotateCardKeys(database.db, security, (done) => console.log(`  ${done} card(s) re-encrypted`));
  console.log(moved === 0 ? 'Every linked card already uses the active key.' : `Done: ${moved} card(s) now use the active key.`);
} finally {
  await database.close();
}
