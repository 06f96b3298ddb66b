/**
 * Partners: all SQL of the domain. Only this file writes the `partners` table.
 */
import type { Kysely } from 'kysely';
import type { DB, PartnerRow, PartnerStatus } from '../../../db/types.js';

export async function insertPartner(db: Kysely<DB>, partner: { name: string; scopes: string[]; contactEmail: string | null }): Promise<PartnerRow> {
  return db
    .insertInto('partners')
    .values({ name: partner.name, scopes: partner.scopes, contact_email: partner.contactEmail })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function findPartnerById(db: Kysely<DB>, id: string): Promise<PartnerRow | undefined> {
  return db.selectFrom('partners').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function findPartnersByIds(db: Kysely<DB>, ids: readonly string[]): Promise<PartnerRow[]> {
  if (ids.length === 0) return [];
  return db.selectFrom('partners').selectAll().where('id', 'in', ids).execute();
}

/** A page of partners by name, `limit` rows after the (name, id) keyset position. */
export async function listPartnersByName(
  db: Kysely<DB>,
  page: { limit: number; after: readonly [string, string] | null },
): Promise<PartnerRow[]> {
  let query = db.selectFrom('partners').selectAll();
  if (page.after) {
    const [name, id] = page.after;
    query = query.where((eb) => eb(eb.refTuple('name', 'id'), '>', eb.tuple(name, id)));
  }
  return query.orderBy('name').orderBy('id').limit(page.limit).execute();
}

/** Moves the partner to `status` if it is not there yet; returns the row either way. */
export async function setPartnerStatus(
  db: Kysely<DB>,
  id: string,
  status: PartnerStatus,
): Promise<{ partner: PartnerRow | undefined; changed: boolean }> {
  const updated = await db
    .updateTable('partners')
    .set({ status, updated_at: new Date() })
    .where('id', '=', id)
    .where('status', '!=', status)
    .returningAll()
    .executeTakeFirst();
  if (updated) return { partner: updated, changed: true };
  return { partner: await findPartnerById(db, id), changed: false };
}
