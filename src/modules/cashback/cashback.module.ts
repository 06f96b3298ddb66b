/**
 * Declares the cashback module: its lifecycle, and the jobs expiring auths that never cleared and turning due cashback into statement credits.
 */
import { defineModule } from '../module.js';
import { expireStaleAuths, issueDueStatementCredits } from './cashback.service.js';
import { CASHBACK_TOPIC } from './cashback.topics.js';
import './cashback.schema.js';
import './cashback.subscriptions.js';

export const cashbackModule = defineModule({
  name: 'cashback',
  topics: [CASHBACK_TOPIC],
  jobs: ({ db }) => [
    { name: 'expire-auths', run: (now) => expireStaleAuths(db, now) },
    { name: 'statement-credits', run: (now) => issueDueStatementCredits(db, now) },
  ],
});
