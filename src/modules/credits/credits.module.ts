/**
 * Declares the credits module: statement credits, settled by the card partner that sent the purchase.
 */
import { defineModule } from '../module.js';
import { STATEMENT_CREDIT_TOPIC } from './credits.topics.js';
import './credits.schema.js';

const PARTNER_SCOPES = { CREDITS_WRITE: { value: 'credits:write', description: 'List and settle statement credits.' } } as const;

declare module '../../context.js' {
  interface PartnerScopeRegistry {
    'credits:write': true;
  }
}

export const creditsModule = defineModule({
  name: 'credits',
  topics: [STATEMENT_CREDIT_TOPIC],
  partnerScopes: PARTNER_SCOPES,
});
