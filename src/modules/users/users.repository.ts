/**
 * Users and the log-in attempts that rate limiting counts.
 */
import type { Kysely } from 'kysely';
import type { DB, UserRow } from '../../../db/types.js';

export async function insertUser(
  db: Kysely<DB>,
  user: { email: string; emailKey: string; passwordHash: string; displayName: string; country: string },
): Promise<UserRow | undefined> {
  return db
    .insertInto('users')
    .values({
      email: user.email,
      email_key: user.emailKey,
      password_hash: user.passwordHash,
      display_name: user.displayName,
      country: user.country,
    })
    .onConflict((oc) => oc.column('email_key').doNothing())
    .returningAll()
    .executeTakeFirst();
}

export async function findUserByEmailKey(db: Kysely<DB>, emailKey: string): Promise<UserRow | undefined> {
  return db.selectFrom('users').selectAll().where('email_key', '=', emailKey).executeTakeFirst();
}

export async function findUsersByIds(db: Kysely<DB>, ids: readonly string[]): Promise<UserRow[]> {
  if (ids.length === 0) return [];
  return db.selectFrom('users').selectAll().where('id', 'in', ids).execute();
}

export async function recordLoginAttempt(
  db: Kysely<DB>,
  attempt: { emailKey: string; clientKey: string; succeeded: boolean },
): Promise<void> {
  await db
    .insertInto('login_attempts')
    .values({ email_key: attempt.emailKey, client_key: attempt.clientKey, succeeded: attempt.succeeded })
    .execute();
}

