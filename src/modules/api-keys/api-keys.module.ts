/**
 * Declares the api-keys module: the keys of admins, merchants and partners (minted, listed, revoked).
 */
import { defineModule } from '../module.js';
import './api-keys.schema.js';

export const apiKeysModule = defineModule({
  name: 'api-keys',
});
