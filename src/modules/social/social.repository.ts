/**
 * Social: all SQL of the domain. Only this file writes `social_accounts`,
 * `handle_verifications` and `social_posts`.
 */
import type { Kysely, Transaction } from 'kysely';
import type { DB, PostOutcome, SocialAccountRow, SocialPlatform, SocialPostRow } from '../../../db/types.js';

export async function insertVerification(
  trx: Transaction<DB>,
  v: { userId: string; platform: SocialPlatform; handle: string; code: string; expiresAt: Date },
): Promise<{ code: string; expires_at: Date } | undefined> {
  return trx
    .insertInto('handle_verifications')
    .values({ user_id: v.userId, platform: v.platform, handle: v.handle, code: v.code, expires_at: v.expiresAt })
    .onConflict((oc) => oc.column('code').doNothing())
    .returning(['code', 'expires_at'])
    .executeTakeFirst();
}

/** Unused, unexpired proofs among `codes` for this handle, locked for the rest of the transaction. */
export async function findOpenVerifications(trx: Transaction<DB>, platform: SocialPlatform, handle: string, codes: readonly string[], now: Date) {
  if (codes.length === 0) return [];
  return trx
    .selectFrom('handle_verifications')
    .selectAll()
    .where('platform', '=', platform)
    .where('handle', '=', handle)
    .where('code', 'in', [...codes])
    .where('verified_at', 'is', null)
    .where('expires_at', '>', now)
    .orderBy('created_at', 'desc')
    .forUpdate()
    .execute();
}

export async function markVerificationUsed(trx: Transaction<DB>, id: string, now: Date): Promise<void> {
  await trx.updateTable('handle_verifications').set({ verified_at: now }).where('id', '=', id).execute();
}

/** The verified owner of a handle, locked for the rest of the transaction. */
export async function findVerifiedAccountForUpdate(trx: Transaction<DB>, platform: SocialPlatform, handle: string): Promise<SocialAccountRow | undefined> {
  return trx
    .selectFrom('social_accounts')
    .selectAll()
    .where('platform', '=', platform)
    .where('handle', '=', handle)
    .where('status', '=', 'VERIFIED')
    .forUpdate()
    .executeTakeFirst();
}

export async function insertVerifiedAccount(trx: Transaction<DB>, a: { userId: string; platform: SocialPlatform; handle: string; now: Date }): Promise<SocialAccountRow> {
  return trx
    .insertInto('social_accounts')
    .values({ user_id: a.userId, platform: a.platform, handle: a.handle, status: 'VERIFIED', verified_at: a.now })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Ends a verified account (moved to another owner, or unlinked by its user); false when it was not verified. */
export async function endAccount(trx: Transaction<DB>, id: string, status: 'MOVED' | 'UNLINKED', now: Date): Promise<boolean> {
  const result = await trx
    .updateTable('social_accounts')
    .set({ status, ended_at: now })
    .where('id', '=', id)
    .where('status', '=', 'VERIFIED')
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function findAccountsOfUser(db: Kysely<DB>, userId: string, options: { verifiedOnly: boolean }): Promise<SocialAccountRow[]> {
  let query = db.selectFrom('social_accounts').selectAll().where('user_id', '=', userId);
  if (options.verifiedOnly) query = query.where('status', '=', 'VERIFIED');
  return query.orderBy('created_at').orderBy('id').execute();
}

export async function findUserAccountsByIds(db: Kysely<DB>, userId: string, ids: readonly string[]): Promise<SocialAccountRow[]> {
  if (ids.length === 0) return [];
  return db.selectFrom('social_accounts').selectAll().where('user_id', '=', userId).where('id', 'in', ids).execute();
}

export type NewPost = Pick<SocialPostRow, 'partner_id' | 'platform' | 'post_id' | 'author_handle' | 'text' | 'posted_at' | 'in_reply_to_post_id' | 'url'>;

/**
 * Claims a delivered post for this transaction: stores it (as IGNORED until its outcome is known)
 * unless it was delivered before, by this partner or another (a post is the platform's). A
 * concurrent delivery of the same post waits here until the first commits, then finds it: a post
 * acts at most once.
 */
export async function claimPost(trx: Transaction<DB>, post: NewPost): Promise<SocialPostRow | undefined> {
  return trx
    .insertInto('social_posts')
    .values({ ...post, outcome: 'IGNORED' })
    .onConflict((oc) => oc.columns(['platform', 'post_id']).doNothing())
    .returningAll()
    .executeTakeFirst();
}

/**
 * Stores posts that cannot act (no code, no hashtag of a published offer) with their outcome, in
 * one statement; returns the rows stored now (a post delivered before is not).
 */
export async function insertInertPosts(trx: Transaction<DB>, posts: readonly (NewPost & { outcome: PostOutcome; reason: string | null })[]): Promise<SocialPostRow[]> {
  if (posts.length === 0) return [];
  return trx
    .insertInto('social_posts')
    .values([...posts])
    .onConflict((oc) => oc.columns(['platform', 'post_id']).doNothing())
    .returningAll()
    .execute();
}

/** Stored posts among `posts`, whoever delivered them; may hold others of the same ids on another platform (the caller matches). */
export async function findPosts(db: Kysely<DB>, posts: readonly { platform: SocialPlatform; postId: string }[]): Promise<SocialPostRow[]> {
  if (posts.length === 0) return [];
  return db
    .selectFrom('social_posts')
    .selectAll()
    .where('platform', 'in', [...new Set(posts.map((p) => p.platform))])
    .where('post_id', 'in', [...new Set(posts.map((p) => p.postId))])
    .execute();
}

export async function findPostsByIds(db: Kysely<DB>, ids: readonly string[]): Promise<SocialPostRow[]> {
  if (ids.length === 0) return [];
  return db.selectFrom('social_posts').selectAll().where('id', 'in', ids).execute();
}

export async function setPostOutcome(
  db: Kysely<DB>,
  id: string,
  outcome: { outcome: PostOutcome; reason: string | null; offer_id?: string | null; intent_id?: string | null },
): Promise<void> {
  await db.updateTable('social_posts').set(outcome).where('id', '=', id).execute();
}
