/**
 * Who is calling: `Authorization: Bearer <secret>` holds an API key (`hbk_…`) or a user token.
 * No credentials is anonymous; a credential that is neither a live key nor a valid token is
 * refused outright (HTTP 401) rather than silently demoted to anonymous. A live key is one not
 * revoked whose partner, for a PARTNER key, is not suspended; a partner key's principal carries
 * its partner, which owns what the key sends.
 */
import { GraphQLError } from 'graphql';
import type { Kysely } from 'kysely';
import type { DB } from '../../db/types.js';
import { ANONYMOUS, type Principal } from '../context.js';
import { findApiKeyBySecret, principalOf } from '../modules/api-keys/api-keys.service.js';
import { verifyToken } from '../modules/users/users.service.js';
import type { Security } from '../security.js';

export async function authenticate(db: Kysely<DB>, security: Security, authorization: string | null | undefined): Promise<Principal> {
  if (!authorization) return ANONYMOUS;
  const secret = /^Bearer\s+(\S+)$/i.exec(authorization.trim())?.[1];
  if (secret) {
    const key = await findApiKeyBySecret(db, secret);
    if (key) return principalOf(key);
    const session = key === undefined && !secret.startsWith('hbk_') ? await verifyToken(security, secret) : null;
    if (session) return { kind: 'user', userId: session.userId, expiresAt: session.expiresAt };
  }
  throw new GraphQLError('The credentials are not valid: send "Authorization: Bearer <API key or user token>".', {
    extensions: { code: 'UNAUTHENTICATED', http: { status: 401, headers: { 'WWW-Authenticate': 'Bearer' } } },
  });
}
