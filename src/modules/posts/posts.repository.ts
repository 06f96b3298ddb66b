/**
 * Social posts that offers are attached to, keyed by the platform's post id.
 */
import type { Kysely, Transaction } from 'kysely';
import type { DB, PostRow } from '../../../db/types.js';

export interface PostFields {
  externalId: string;
  url: string;
  authorHandle: string;
  text: string;
}

/** The post with that external id, created if new, locked for the rest of the transaction. */
export async function upsertPostForUpdate(trx: Transaction<DB>, post: PostFields): Promise<PostRow> {
  await trx
    .insertInto('posts')
    .values({ external_id: post.externalId, url: post.url, author_handle: post.authorHandle, text: post.text })
    .onConflict((oc) => oc.column('external_id').doNothing())
    .execute();
  return trx.selectFrom('posts').selectAll().where('external_id', '=', post.externalId).forUpdate().executeTakeFirstOrThrow();
}

export async function setPostOffer(trx: Transaction<DB>, postId: string, offerId: string): Promise<PostRow> {
  return trx.updateTable('posts').set({ offer_id: offerId }).where('id', '=', postId).returningAll().executeTakeFirstOrThrow();
}

export async function findPostsByIds(db: Kysely<DB>, ids: readonly string[]): Promise<PostRow[]> {
  if (ids.length === 0) return [];
  return db.selectFrom('posts').selectAll().where('id', 'in', ids).execute();
}

export async function findPostsByExternalIds(db: Kysely<DB>, externalIds: readonly string[]): Promise<PostRow[]> {
  if (externalIds.length === 0) return [];
  return db.selectFrom('posts').selectAll().where('external_id', 'in', externalIds).execute();
}

export async function findPostsByOfferIds(db: Kysely<DB>, offerIds: readonly string[]): Promise<PostRow[]> {
  if (offerIds.length === 0) return [];
  return db.selectFrom('posts').selectAll().where('offer_id', 'in', offerIds).orderBy('created_at').orderBy('id').execute();
}
