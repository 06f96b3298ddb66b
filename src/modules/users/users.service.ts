/**
 * Consumer accounts: sign-up, log-in with rate limiting, and the signed tokens (JWT, HS256) that
 * carry a user on HTTP and in graphql-ws `connection_init`. A failed log-in never says whether
 * the e-mail exists.
 */
import { createHash } from 'node:crypto';
import { hash, verify } from '@node-rs/argon2';
import { jwtVerify, SignJWT } from 'jose';
import { z } from 'zod';
import type { UserRow } from '../../../db/types.js';
import type { Context } from '../../context.js';
import { fail } from '../../lib/errors.js';
import { idempotentCommand } from '../../lib/idempotency.js';
import { countryCode, emailAddress, parseInput, text } from '../../lib/validation.js';
import type { Security } from '../../security.js';
import { hashedKey, reserveAll, withinLimit } from '../../rate-limits.js';
import { findUserByEmailKey, findUsersByIds, insertUser, recordLoginAttempt } from './users.repository.js';

const TOKEN_ISSUER = 'hashback';

const signUpInput = z.object({
  email: emailAddress(),
  password: z
    .string()
    .max(200, 'must be at most 200 characters')
    .refine((v) => v.length >= 10, { message: 'must be at least 10 characters', params: { code: 'WEAK_PASSWORD' } }),
  displayName: text(1, 80),
  country: countryCode(),
});

const emailKeyOf = (address: string) => address.trim().toLowerCase();

// Verifying against this when no user matches keeps a failed log-in equally slow either way.
const decoyHash = hash('decoy password that matches nothing');

export interface Session {
  token: string;
  user: UserRow;
}

export async function issueToken(security: Security, userId: string): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(userId)
    .setIssuer(TOKEN_ISSUER)
    .setIssuedAt()
    .setExpirationTime(`${security.tokenTtlSeconds}s`)
    .sign(security.tokenKey);
}

/** The user id a token speaks for, or null when it is not one of ours or has expired. */
/** The user a valid token names, and when the token expires; null for anything else. */
export async function verifyToken(security: Security, token: string): Promise<{ userId: string; expiresAt: Date } | null> {
  try {
    const { payload } = await jwtVerify(token, security.tokenKey, { issuer: TOKEN_ISSUER, algorithms: ['HS256'] });
    if (typeof payload.sub !== 'string' || typeof payload.exp !== 'number') return null;
    return { userId: payload.sub, expiresAt: new Date(payload.exp * 1000) };
  } catch {
    return null;
  }
}

/**
 * With `idempotencyKey`, the key is scoped to the e-mail (a caller without an account has no other
 * identity): a replay answers the same user with a fresh token, once the password matches the one
 * the account was made with (it is never stored in clear, so it is not part of the stored hash);
 * another password or name is IDEMPOTENCY_KEY_REUSED.
 */
export async function signUp(ctx: Context, input: z.input<typeof signUpInput> & { idempotencyKey?: string | null }): Promise<Session> {
  await withinLimit(ctx.logger, 'sign-up', () => ctx.rateLimits.signUpsByAddress.charge(ctx.clientAddress));
  const data = parseInput(signUpInput, input);
  const emailKey = emailKeyOf(data.email);
  const passwordHash = await hash(data.password);
  const reused = () => fail('IDEMPOTENCY_KEY_REUSED', 'This idempotency key was already used with a different input.', ['idempotencyKey']);
  const user = await idempotentCommand(
    ctx,
    {
      operation: 'signUp',
      key: input.idempotencyKey,
      principal: `sign-up:${createHash('sha256').update(emailKey).digest('hex')}`,
      request: { email: data.email, displayName: data.displayName, country: data.country },
    },
    async (trx) => {
      const created = await insertUser(trx, { email: data.email, emailKey, passwordHash, displayName: data.displayName, country: data.country });
      if (!created) fail('EMAIL_TAKEN', 'An account with this e-mail already exists; log in instead.', ['email']);
      return created;
    },
    {
      save: (row) => ({ userId: row.id }),
      load: async (trx, saved: { userId: string }) => {
        const [row] = await findUsersByIds(trx, [saved.userId]);
        if (!row || !(await verify(row.password_hash, data.password))) reused();
        return row!;
      },
    },
  );
  ctx.logger.info({ userId: user.id }, 'user signed up');
  return { user, token: await issueToken(ctx.security, user.id) };
}

export async function logIn(ctx: Context, input: { email: string; password: string }): Promise<Session> {
  const emailKey = emailKeyOf(input.email);
  const keys = { emailKey, clientKey: ctx.clientAddress };
  // A failure's point is taken before the password is checked and given back on success, so
  // concurrent attempts can never check more passwords than the limits allow.
  const { rateLimits } = ctx;
  const giveBack = await withinLimit(ctx.logger, 'log-in', () =>
    reserveAll([
      [rateLimits.loginFailuresByAddress, ctx.clientAddress],
      [rateLimits.loginFailuresByEmail, hashedKey(emailKey)],
    ]),
  );
  const user = await findUserByEmailKey(ctx.db, emailKey);
  let matches = false;
  if (user) matches = await verify(user.password_hash, input.password);
  else await verify(await decoyHash, input.password); // the same cost whether or not the e-mail exists
  await recordLoginAttempt(ctx.db, { ...keys, succeeded: matches });
  if (!user || !matches) fail('INVALID_CREDENTIALS', 'The e-mail or the password is not right.');
  await giveBack();
  return { user, token: await issueToken(ctx.security, user.id) };
}

/** Users the caller may see: only itself. */
export async function loadVisibleUsers(ctx: Context, ids: readonly string[]): Promise<UserRow[]> {
  const { principal } = ctx;
  if (principal.kind !== 'user') return [];
  return findUsersByIds(ctx.db, ids.filter((id) => id === principal.userId));
}

/** What other modules read or lock through this one (they never import its repository). */
export { findUsersByIds } from './users.repository.js';
