/**
 * The card store: the only table that holds card numbers, and only as ciphertext. Lookups go by
 * keyed fingerprint; the partial unique index allows one live link per card number.
 */
import type { Kysely, Transaction } from 'kysely';
import type { CardNetwork, CardRow, DB } from '../../../db/types.js';

export const LINKED_FINGERPRINT_INDEX = 'cards_linked_fingerprint_idx';

export async function insertCard(
  db: Kysely<DB>,
  card: {
    userId: string;
    network: CardNetwork;
    first6: string;
    last4: string;
    expMonth: number;
    expYear: number;
    fingerprint: string;
    keyId: string;
    ciphertext: string;
  },
): Promise<CardRow> {
  return db
    .insertInto('cards')
    .values({
      user_id: card.userId,
      network: card.network,
      first6: card.first6,
      last4: card.last4,
      exp_month: card.expMonth,
      exp_year: card.expYear,
      fingerprint: card.fingerprint,
      key_id: card.keyId,
      ciphertext: card.ciphertext,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function findLinkedCardByFingerprint(db: Kysely<DB>, fingerprint: string): Promise<CardRow | undefined> {
  return db.selectFrom('cards').selectAll().where('fingerprint', '=', fingerprint).where('unlinked_at', 'is', null).executeTakeFirst();
}

/** Wipes the ciphertext of the user's linked card; returns the row, or undefined if none. */
export async function unlinkUserCard(db: Kysely<DB>, userId: string, cardId: string): Promise<CardRow | undefined> {
  return db
    .updateTable('cards')
    .set({ unlinked_at: new Date(), ciphertext: null, key_id: null })
    .where('id', '=', cardId)
    .where('user_id', '=', userId)
    .where('unlinked_at', 'is', null)
    .returningAll()
    .executeTakeFirst();
}

export async function findUserCardsByIds(db: Kysely<DB>, userId: string, ids: readonly string[]): Promise<CardRow[]> {
  if (ids.length === 0) return [];
  return db.selectFrom('cards').selectAll().where('user_id', '=', userId).where('id', 'in', ids).execute();
}

export async function findLinkedCardsOfUser(db: Kysely<DB>, userId: string): Promise<CardRow[]> {
  return db
    .selectFrom('cards')
    .selectAll()
    .where('user_id', '=', userId)
    .where('unlinked_at', 'is', null)
    .orderBy('linked_at')
    .orderBy('id')
    .execute();
}

export async function userHasLinkedCard(db: Kysely<DB>, userId: string): Promise<boolean> {
  const row = await db
    .selectFrom('cards')
    .select('id')
    .where('user_id', '=', userId)
    .where('unlinked_at', 'is', null)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

/** A batch of linked cards sealed under one of `retiredKeyIds`, locked, for rotation. */
export async function lockCardsToRotate(trx: Transaction<DB>, retiredKeyIds: readonly string[], limit: number) {
  if (retiredKeyIds.length === 0) return [];
  return trx
    .selectFrom('cards')
    .select(['id', 'key_id', 'ciphertext'])
    .where('unlinked_at', 'is', null)
    .where('key_id', 'in', retiredKeyIds)
    .orderBy('id')
    .limit(limit)
    .forUpdate()
    .skipLocked()
    .execute();
}

export async function setCardCiphertext(trx: Transaction<DB>, id: string, keyId: string, ciphertext: string): Promise<void> {
  await trx.updateTable('cards').set({ key_id: keyId, ciphertext }).where('id', '=', id).execute();
}

/** Linked cards sealed under a key the ring does not hold (they cannot be read or rotated). */
export async function countCardsUnderOtherKeys(db: Kysely<DB>, keyIds: readonly string[]): Promise<number> {
  const { count } = await db
    .selectFrom('cards')
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .where('unlinked_at', 'is', null)
    .where('key_id', 'not in', keyIds)
    .executeTakeFirstOrThrow();
  return Number(count);
}
