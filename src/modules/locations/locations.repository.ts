/**
 * Locations and their network merchant ids (MIDs). A MID is unique per card network: the
 * primary key (network, mid) guarantees it under concurrency.
 */
import type { Kysely, Transaction } from 'kysely';
import type { CardNetwork, Channel, DB, LocationMidRow, LocationRow } from '../../../db/types.js';
import type { Visibility } from '../../lib/authorization.js';
import { merchantVisible } from '../../lib/authorization.js';

export interface LocationFields {
  name: string;
  channel: Channel;
  country: string;
  timezone: string;
  address: string | null;
}

export interface Mid {
  network: CardNetwork;
  mid: string;
}

export async function insertLocation(trx: Transaction<DB>, merchantId: string, fields: LocationFields): Promise<LocationRow> {
  return trx
    .insertInto('locations')
    .values({ merchant_id: merchantId, ...fields })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function updateLocationFields(
  trx: Transaction<DB>,
  id: string,
  fields: Partial<LocationFields>,
): Promise<LocationRow> {
  return trx
    .updateTable('locations')
    .set({ ...fields, updated_at: new Date() })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Replaces the location's MIDs with `mids`. */
export async function replaceLocationMids(trx: Transaction<DB>, locationId: string, mids: Mid[]): Promise<void> {
  await trx.deleteFrom('location_mids').where('location_id', '=', locationId).execute();
  if (mids.length > 0) {
    await trx
      .insertInto('location_mids')
      .values(mids.map((m) => ({ location_id: locationId, network: m.network, mid: m.mid })))
      .execute();
  }
}

/** Which of `mids` are registered to a location other than `exceptLocationId`. */
export async function findTakenMids(db: Kysely<DB>, mids: Mid[], exceptLocationId: string | null): Promise<LocationMidRow[]> {
  if (mids.length === 0) return [];
  let query = db
    .selectFrom('location_mids')
    .selectAll()
    .where((eb) => eb.or(mids.map((m) => eb.and([eb('network', '=', m.network), eb('mid', '=', m.mid)]))));
  if (exceptLocationId) query = query.where('location_id', '!=', exceptLocationId);
  return query.execute();
}

export async function findLocationForUpdate(trx: Transaction<DB>, id: string): Promise<LocationRow | undefined> {
  return trx.selectFrom('locations').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
}

/** Locations whose merchant the caller may see. */
export async function findVisibleLocationsByIds(
  db: Kysely<DB>,
  ids: readonly string[],
  visibility: Visibility,
): Promise<LocationRow[]> {
  if (ids.length === 0) return [];
  return db
    .selectFrom('locations')
    .innerJoin('merchants', 'merchants.id', 'locations.merchant_id')
    .selectAll('locations')
    .where(merchantVisible(visibility))
    .where('locations.id', 'in', ids)
    .execute();
}

export async function findLocationsByMerchantIds(db: Kysely<DB>, merchantIds: readonly string[]): Promise<LocationRow[]> {
  if (merchantIds.length === 0) return [];
  return db
    .selectFrom('locations')
    .selectAll()
    .where('merchant_id', 'in', merchantIds)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
}

export async function findLocationsByOfferIds(
  db: Kysely<DB>,
  offerIds: readonly string[],
): Promise<(LocationRow & { offer_id: string })[]> {
  if (offerIds.length === 0) return [];
  return db
    .selectFrom('offer_locations')
    .innerJoin('locations', 'locations.id', 'offer_locations.location_id')
    .selectAll('locations')
    .select('offer_locations.offer_id')
    .where('offer_locations.offer_id', 'in', offerIds)
    .orderBy('locations.created_at')
    .orderBy('locations.id')
    .execute();
}

export async function findMidsByLocationIds(db: Kysely<DB>, locationIds: readonly string[]): Promise<LocationMidRow[]> {
  if (locationIds.length === 0) return [];
  return db
    .selectFrom('location_mids')
    .selectAll()
    .where('location_id', 'in', locationIds)
    .orderBy('network')
    .orderBy('mid')
    .execute();
}

/** The subset of `ids` that are locations of `merchantId`. */
export async function findMerchantLocationIds(db: Kysely<DB>, merchantId: string, ids: readonly string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const rows = await db
    .selectFrom('locations')
    .select('id')
    .where('merchant_id', '=', merchantId)
    .where('id', 'in', ids)
    .execute();
  return rows.map((r) => r.id);
}
