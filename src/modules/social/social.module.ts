/**
 * Declares the social module: verified social handles and the posts social partners deliver
 * (`ingestPosts`), which prove handles, start and confirm purchases, and activate offers.
 */
import { defineModule } from '../module.js';
import './social.schema.js';

const ERROR_CODES = {
  INVALID_HANDLE: 'Not a valid handle for the platform.',
} as const;

declare module '../../lib/errors.js' {
  interface ErrorCodeRegistry extends Record<keyof typeof ERROR_CODES, true> {}
}

export const socialModule = defineModule({
  name: 'social',
  errorCodes: ERROR_CODES,
});
