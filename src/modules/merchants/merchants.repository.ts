/**
 * Merchants: all SQL of the domain. `visible` applies who may read what (DESIGN §2): approved
 * merchants are public, a merchant key also reads its own, an admin reads all.
 */
import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { DB, MerchantRow, MerchantStatus } from '../../../db/types.js';
import type { Visibility } from '../../lib/authorization.js';
import { merchantVisible } from '../../lib/authorization.js';

export async function insertMerchant(
  db: Kysely<DB>,
  merchant: { name: string; country: string; category: string; socialHandle: string | null; contactEmail: string | null },
): Promise<MerchantRow> {
  return db
    .insertInto('merchants')
    .values({
      name: merchant.name,
      country: merchant.country,
      category: merchant.category,
      social_handle: merchant.socialHandle,
      contact_email: merchant.contactEmail,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function findMerchantById(db: Kysely<DB>, id: string): Promise<MerchantRow | undefined> {
  return db.selectFrom('merchants').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function findVisibleMerchantsByIds(
  db: Kysely<DB>,
  ids: readonly string[],
  visibility: Visibility,
): Promise<MerchantRow[]> {
  if (ids.length === 0) return [];
  return db.selectFrom('merchants').selectAll().where(merchantVisible(visibility)).where('id', 'in', ids).execute();
}

/** A page of visible merchants by name, `limit` rows after the (name, id) keyset position. */
export async function listVisibleMerchants(
  db: Kysely<DB>,
  visibility: Visibility,
  page: { limit: number; after: readonly [string, string] | null },
): Promise<MerchantRow[]> {
  let query = db.selectFrom('merchants').selectAll().where(merchantVisible(visibility));
  if (page.after) {
    const [name, id] = page.after;
    query = query.where((eb) => eb(eb.refTuple('name', 'id'), '>', eb.tuple(name, id)));
  }
  return query.orderBy('name').orderBy('id').limit(page.limit).execute();
}

/** Moves the merchant to `status` if it is in one of `from`; returns the row either way. */
export async function transitionMerchant(
  db: Kysely<DB>,
  id: string,
  from: MerchantStatus[],
  status: MerchantStatus,
): Promise<{ merchant: MerchantRow | undefined; changed: boolean }> {
  const updated = await db
    .updateTable('merchants')
    .set({ status, updated_at: new Date() })
    .where('id', '=', id)
    .where('status', 'in', from)
    .returningAll()
    .executeTakeFirst();
  if (updated) return { merchant: updated, changed: true };
  return { merchant: await findMerchantById(db, id), changed: false };
}
