/**
 * Declares the partners module: card networks, processors and social platforms that hold scopes
 * and a status and are issued API keys (by the api-keys module). What a partner sends and settles
 * belongs to the partner, never to one of its keys, so keys rotate without losing anything.
 */
import { defineModule } from '../module.js';
import './partners.schema.js';

const ERROR_CODES = {
  PARTNER_SUSPENDED: 'The partner is suspended: it cannot be issued keys, and its keys do not work.',
  SCOPE_NOT_HELD: "A partner key may only narrow its partner's scopes, not add others.",
} as const;

declare module '../../lib/errors.js' {
  interface ErrorCodeRegistry extends Record<keyof typeof ERROR_CODES, true> {}
}

export const partnersModule = defineModule({
  name: 'partners',
  errorCodes: ERROR_CODES,
});
