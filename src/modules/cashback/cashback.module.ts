/**
 * Declares the cashback module: its lifecycle, and the jobs expiring auths that never cleared and turning due cashback into statement credits.
 */
import { defineModule } from '../module.js';
import { expireStaleAuths, issueDueStatementCredits } from './cashback.service.js';
import './cashback.schema.js';

export const cashbackModule = defineModule({
  name: 'cashback',
  jobs: ({ db }) => [
    { name: 'expire-auths', run: (now) => expireStaleAuths(db, now) },
    { name: 'statement-credits', run: (now) => issueDueStatementCredits(db, now) },
  ],
});
