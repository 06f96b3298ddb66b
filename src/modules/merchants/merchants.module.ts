/**
 * Declares the merchants module: merchants and their review (PENDING, APPROVED, SUSPENDED).
 */
import { defineModule } from '../module.js';
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
});
