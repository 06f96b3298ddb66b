/**
 * Declares the users module: consumer accounts, log-in and tokens.
 */
import { defineModule } from '../module.js';
import './users.schema.js';

const ERROR_CODES = {
  WEAK_PASSWORD: 'The password is too short.',
  EMAIL_TAKEN: 'An account with this e-mail already exists.',
  INVALID_CREDENTIALS: 'The e-mail or the password is not right.',
} as const;

declare module '../../lib/errors.js' {
  interface ErrorCodeRegistry extends Record<keyof typeof ERROR_CODES, true> {}
}

export const usersModule = defineModule({
  name: 'users',
  errorCodes: ERROR_CODES,
});
