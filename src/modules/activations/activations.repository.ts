/**
 * Activations ("Get Offer"): one row per (offer, user).
 */
import type { Kysely } from 'kysely';
import type { ActivationRow, DB } from '../../../db/types.js';

/** Inserts the activation, or returns the existing one: activating twice is harmless. */
export async function upsertActivation(db: Kysely<DB>, offerId: string, userId: string): Promise<ActivationRow> {
  const inserted = await db
    .insertInto('activations')
    .values({ offer_id: offerId, user_id: userId })
    .onConflict((oc) => oc.columns(['offer_id', 'user_id']).doNothing())
    .returningAll()
    .executeTakeFirst();
  return (
    inserted ??
    db.selectFrom('activations').selectAll().where('offer_id', '=', offerId).where('user_id', '=', userId).executeTakeFirstOrThrow()
  );
}

export async function deleteActivation(db: Kysely<DB>, offerId: string, userId: string): Promise<boolean> {
  const result = await db.deleteFrom('activations').where('offer_id', '=', offerId).where('user_id', '=', userId).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

export async function findUserActivationsByIds(db: Kysely<DB>, userId: string, ids: readonly string[]): Promise<ActivationRow[]> {
  if (ids.length === 0) return [];
  return db.selectFrom('activations').selectAll().where('user_id', '=', userId).where('id', 'in', ids).execute();
}

export async function findActivationsOfUser(db: Kysely<DB>, userId: string): Promise<ActivationRow[]> {
  return db.selectFrom('activations').selectAll().where('user_id', '=', userId).orderBy('activated_at', 'desc').orderBy('id').execute();
}

/** Which of `offerIds` the user has activated. */
export async function findActivatedOfferIds(db: Kysely<DB>, userId: string, offerIds: readonly string[]): Promise<Set<string>> {
  if (offerIds.length === 0) return new Set();
  const rows = await db
    .selectFrom('activations')
    .select('offer_id')
    .where('user_id', '=', userId)
    .where('offer_id', 'in', offerIds)
    .execute();
  return new Set(rows.map((r) => r.offer_id));
}

export async function countActivationsByOffer(db: Kysely<DB>, offerIds: readonly string[]): Promise<Map<string, number>> {
  if (offerIds.length === 0) return new Map();
  const rows = await db
    .selectFrom('activations')
    .select((eb) => ['offer_id', eb.fn.countAll<number>().as('count')])
    .where('offer_id', 'in', offerIds)
    .groupBy('offer_id')
    .execute();
  return new Map(rows.map((r) => [r.offer_id, Number(r.count)]));
}
