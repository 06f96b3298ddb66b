/**
 * Declares the activations module: "Get Offer", a user saving an offer.
 */
import { defineModule } from '../module.js';
import './activations.schema.js';

const ERROR_CODES = {
  COUNTRY_NOT_ELIGIBLE: "The offer is not available in the user's country.",
} as const;

declare module '../../lib/errors.js' {
  interface ErrorCodeRegistry extends Record<keyof typeof ERROR_CODES, true> {}
}

export const activationsModule = defineModule({
  name: 'activations',
  errorCodes: ERROR_CODES,
});
