/**
 * Declares the transactions module: card transactions posted by partners (ingest and matching).
 */
import { defineModule } from '../module.js';
import { TRANSACTION_TOPIC } from './transactions.topics.js';
import './transactions.schema.js';

const PARTNER_SCOPES = { TRANSACTIONS_WRITE: { value: 'transactions:write', description: 'Post card transactions.' } } as const;

declare module '../../context.js' {
  interface PartnerScopeRegistry {
    'transactions:write': true;
  }
}

export const transactionsModule = defineModule({
  name: 'transactions',
  topics: [TRANSACTION_TOPIC],
  partnerScopes: PARTNER_SCOPES,
});
