/**
 * Declares the merchants module: merchants and their review (PENDING, APPROVED, SUSPENDED), with an
 * event for each approval and suspension.
 */
import { defineModule } from '../module.js';
import { MERCHANT_TOPIC } from './merchants.topics.js';
import './merchants.schema.js';

const ERROR_CODES = {
  MERCHANT_NOT_APPROVED: 'The merchant is not approved.',
} as const;

declare module '../../lib/errors.js' {
  interface ErrorCodeRegistry extends Record<keyof typeof ERROR_CODES, true> {}
}

export const merchantsModule = defineModule({
  name: 'merchants',
  errorCodes: ERROR_CODES,
  topics: [MERCHANT_TOPIC],
});
