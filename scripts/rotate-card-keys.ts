/**
 * `npm run rotate-card-keys`: re-encrypts every linked card, and every webhook signing secret,
 * under the active key (the first of CARD_ENCRYPTION_KEYS). Keep the old keys in the ring until this has run; then they can go.
 */
import { rotateCardKeys } from '../src/modules/cards/cards.service.js';
import { resealWebhookSecrets } from '../src/modules/webhooks/webhooks.service.js';
import { loadSecurity } from '../src/security.js';
import { openConfiguredDatabase } from './configured-database.js';

const { config, database, logger } = await openConfiguredDatabase();
try {
  const security = loadSecurity(config, (message) => logger.warn(message));
  console.log(`Re-encrypting linked cards under key "${security.cards.ring.activeKeyId}"…`);
  const { rotated, underUnknownKeys } = await rotateCardKeys(database.db, security, (done) => console.log(`  ${done} card(s) re-encrypted`));
  console.log(rotated === 0 ? 'No card needed re-encrypting.' : `Done: ${rotated} card(s) moved to the active key.`);
  const endpoints = await resealWebhookSecrets(database.db, security.cards.ring);
  console.log(endpoints === 0 ? 'No webhook secret needed re-encrypting.' : `Done: ${endpoints} webhook endpoint secret(s) moved to the active key.`);
  if (underUnknownKeys > 0) {
    console.error(`${underUnknownKeys} linked card(s) use a key that is not in CARD_ENCRYPTION_KEYS: add it back, then run this again.`);
    process.exitCode = 1;
  }
} finally {
  await database.close();
}
