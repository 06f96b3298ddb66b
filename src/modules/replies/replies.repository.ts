/**
 * Replies: all SQL of the domain. Only this file writes `social_replies`.
 */
import { sql, type Kysely, type Transaction } from 'kysely';
import type { DB, SocialPlatform, SocialReplyRow } from '../../../db/types.js';

export interface NewReply {
  partnerId: string;
  platform: SocialPlatform;
  inReplyToPostId: string;
  kind: string;
  text: string;
  subjectType: string;
  subjectId: string;
}

/** Stores a reply unless one of its kind already answers that post; returns it only when new. */
export async function insertReply(trx: Transaction<DB>, reply: NewReply): Promise<SocialReplyRow | undefined> {
  return trx
    .insertInto('social_replies')
    .values({
      partner_id: reply.partnerId,
      platform: reply.platform,
      in_reply_to_post_id: reply.inReplyToPostId,
      kind: reply.kind,
      text: reply.text,
      subject_type: reply.subjectType,
      subject_id: reply.subjectId,
    })
    .onConflict((oc) => oc.columns(['partner_id', 'platform', 'in_reply_to_post_id', 'kind']).doNothing())
    .returningAll()
    .executeTakeFirst();
}

/** The partner's replies on a platform after `afterPosition`, in order. */
export async function listReplies(
  db: Kysely<DB>,
  partnerId: string,
  options: { platform: SocialPlatform; afterPosition: number; limit: number; unacknowledgedOnly: boolean },
): Promise<SocialReplyRow[]> {
  let query = db
    .selectFrom('social_replies')
    .selectAll()
    .where('partner_id', '=', partnerId)
    .where('platform', '=', options.platform)
    .where('position', '>', options.afterPosition);
  if (options.unacknowledgedOnly) query = query.where('acknowledged_at', 'is', null);
  return query.orderBy('position').limit(options.limit).execute();
}

export async function findRepliesOfPartner(db: Kysely<DB>, partnerId: string, ids: readonly string[]): Promise<SocialReplyRow[]> {
  if (ids.length === 0) return [];
  return db.selectFrom('social_replies').selectAll().where('partner_id', '=', partnerId).where('id', 'in', ids).execute();
}

/**
 * Records the platform's post id of each reply of the partner that was not acknowledged yet;
 * returns the rows acknowledged now. A reply acknowledged before keeps its first post id.
 */
export async function acknowledgeReplies(
  trx: Transaction<DB>,
  partnerId: string,
  acks: readonly { id: string; platformPostId: string }[],
  now: Date,
): Promise<SocialReplyRow[]> {
  if (acks.length === 0) return [];
  return trx
    .updateTable('social_replies as r')
    .from(
      sql<{ id: string; platform_post_id: string }>`(select * from unnest(${acks.map((a) => a.id)}::uuid[], ${acks.map((a) => a.platformPostId)}::text[]) as v(id, platform_post_id))`.as(
        'v',
      ),
    )
    .set({ platform_post_id: sql.ref('v.platform_post_id'), acknowledged_at: now })
    .whereRef('r.id', '=', 'v.id')
    .where('r.partner_id', '=', partnerId)
    .where('r.acknowledged_at', 'is', null)
    .returningAll('r')
    .execute();
}

/** The reply that a platform posted as `platformPostId` (a post answering it names it as its parent). */
export async function findReplyByPlatformPost(db: Kysely<DB>, partnerId: string, platform: SocialPlatform, platformPostId: string): Promise<SocialReplyRow | undefined> {
  return db
    .selectFrom('social_replies')
    .selectAll()
    .where('partner_id', '=', partnerId)
    .where('platform', '=', platform)
    .where('platform_post_id', '=', platformPostId)
    .executeTakeFirst();
}
