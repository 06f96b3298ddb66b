/**
 * Declares the locations module: merchants' locations and their network merchant ids.
 */
import { defineModule } from '../module.js';
import './locations.schema.js';

const ERROR_CODES = {
  MID_TAKEN: 'The merchant id is already registered on that card network.',
} as const;

declare module '../../lib/errors.js' {
  interface ErrorCodeRegistry extends Record<keyof typeof ERROR_CODES, true> {}
}

export const locationsModule = defineModule({
  name: 'locations',
  errorCodes: ERROR_CODES,
});
