/**
 * Declares the posts module: social posts that carry offers.
 */
import { defineModule } from '../module.js';
import './posts.schema.js';

const ERROR_CODES = {
  POST_HAS_OTHER_OFFER: 'The post already carries another offer.',
} as const;

declare module '../../lib/errors.js' {
  interface ErrorCodeRegistry extends Record<keyof typeof ERROR_CODES, true> {}
}

const PARTNER_SCOPES = { POSTS_WRITE: { value: 'posts:write', description: 'Post social posts.' } } as const;

declare module '../../context.js' {
  interface PartnerScopeRegistry {
    'posts:write': true;
  }
}

export const postsModule = defineModule({
  name: 'posts',
  errorCodes: ERROR_CODES,
  partnerScopes: PARTNER_SCOPES,
});
