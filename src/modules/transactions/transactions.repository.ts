/**
 * Transactions: all SQL of ingest. Each read takes the whole batch at once (cards, locations,
 * offers, earlier transactions, activations, reward counts), so a batch of 500 costs the same
 * handful of statements as a batch of one.
 */
import { sql, type Kysely, type RawBuilder, type Transaction } from 'kysely';
import type { CardNetwork, CardRow, DB, LocationRow, NewTransaction, TransactionRow } from '../../../db/types.js';

/** Linked cards by fingerprint or id. */
export async function findLinkedCards(
  trx: Transaction<DB>,
  fingerprints: readonly string[],
  ids: readonly string[],
): Promise<CardRow[]> {
  if (fingerprints.length === 0 && ids.length === 0) return [];
  return trx
    .selectFrom('cards')
    .selectAll()
    .where('unlinked_at', 'is', null)
    .where((eb) =>
      eb.or([
        ...(fingerprints.length > 0 ? [eb('fingerprint', 'in', fingerprints)] : []),
        ...(ids.length > 0 ? [eb('id', 'in', ids)] : []),
      ]),
    )
    .execute();
}

export type LocationByMid = LocationRow & { network: CardNetwork; mid: string };

export async function findLocationsByMids(
  trx: Transaction<DB>,
  mids: readonly { network: CardNetwork; mid: string }[],
): Promise<LocationByMid[]> {
  if (mids.length === 0) return [];
  const pairs = sql.join(mids.map((m) => sql`(${m.network}, ${m.mid})`));
  return trx
    .selectFrom('location_mids')
    .innerJoin('locations', 'locations.id', 'location_mids.location_id')
    .selectAll('locations')
    .select(['location_mids.network', 'location_mids.mid'])
    .where(sql<boolean>`(location_mids.network, location_mids.mid) in (${pairs})`)
    .execute();
}

/** The merchant of each location (locations an earlier transaction matched, not in this batch's MIDs). */
export async function findMerchantsOfLocations(trx: Transaction<DB>, locationIds: readonly string[]): Promise<Map<string, string>> {
  if (locationIds.length === 0) return new Map();
  const rows = await trx.selectFrom('locations').select(['id', 'merchant_id']).where('id', 'in', [...locationIds]).execute();
  return new Map(rows.map((r) => [r.id, r.merchant_id]));
}

/** Published cashback offers of approved merchants at the locations, as (location, offer) pairs. */
export async function findOffersAtLocations(
  trx: Transaction<DB>,
  locationIds: readonly string[],
): Promise<{ location_id: string; offer_id: string }[]> {
  if (locationIds.length === 0) return [];
  return trx
    .selectFrom('offer_locations')
    .innerJoin('offers', 'offers.id', 'offer_locations.offer_id')
    .innerJoin('merchants', 'merchants.id', 'offers.merchant_id')
    .select(['offer_locations.location_id', 'offer_locations.offer_id'])
    .where('offer_locations.location_id', 'in', locationIds)
    .where('offers.kind', '=', 'CASHBACK')
    .where('offers.state', '=', 'PUBLISHED')
    .where('merchants.status', '=', 'APPROVED')
    .execute();
}

/** The partner's transactions with these external ids, with the offer of their cashback. */
export async function findPartnerTransactions(
  trx: Transaction<DB>,
  partnerId: string,
  externalIds: readonly string[],
): Promise<(TransactionRow & { cashback_offer_id: string | null })[]> {
  if (externalIds.length === 0) return [];
  return trx
    .selectFrom('transactions')
    .leftJoin('cashbacks', 'cashbacks.id', 'transactions.cashback_id')
    .selectAll('transactions')
    .select('cashbacks.offer_id as cashback_offer_id')
    .where('transactions.partner_id', '=', partnerId)
    .where('transactions.external_id', 'in', externalIds)
    .execute();
}

/** When each (user, offer) pair was activated. */
export async function findActivationTimes(
  trx: Transaction<DB>,
  userIds: readonly string[],
  offerIds: readonly string[],
): Promise<Map<string, Date>> {
  if (userIds.length === 0 || offerIds.length === 0) return new Map();
  const rows = await trx
    .selectFrom('activations')
    .select(['user_id', 'offer_id', 'activated_at'])
    .where('user_id', 'in', userIds)
    .where('offer_id', 'in', offerIds)
    .execute();
  return new Map(rows.map((r) => [`${r.user_id}:${r.offer_id}`, r.activated_at]));
}

/** Rewards (cashback not reversed) each user holds on each offer. Read under the offer locks. */
export async function countRewardsHeld(
  trx: Transaction<DB>,
  userIds: readonly string[],
  offerIds: readonly string[],
): Promise<Map<string, number>> {
  if (userIds.length === 0 || offerIds.length === 0) return new Map();
  const rows = await trx
    .selectFrom('cashbacks')
    .select(['user_id', 'offer_id', sql<number>`count(*)::int`.as('held')])
    .where('user_id', 'in', userIds)
    .where('offer_id', 'in', offerIds)
    .where('status', '!=', 'REVERSED')
    .groupBy(['user_id', 'offer_id'])
    .execute();
  return new Map(rows.map((r) => [`${r.user_id}:${r.offer_id}`, Number(r.held)]));
}

/**
 * The INSERT of the batch's new transactions, as one step of the batch's write (RETURNING one row
 * per transaction actually inserted: fewer means another batch stored one of them first). Rows
 * go in in external-id order so two batches sharing ids wait for each other instead of deadlocking.
 */
export function transactionsInsert(rows: readonly NewTransaction[]): RawBuilder<unknown> {
  const sorted = [...rows].sort((a, b) => (a.external_id < b.external_id ? -1 : a.external_id > b.external_id ? 1 : 0));
  const column = <T>(pick: (r: NewTransaction) => T) => sorted.map(pick);
  const iso = (d: Date | string | undefined) => (d instanceof Date ? d.toISOString() : (d ?? null));
  return sql`insert into transactions (id, partner_id, external_id, type, network, mid, location_id, card_id, user_id, amount, currency,
      occurred_at, auth_external_id, original_external_id, outcome, reason, cashback_id)
    select * from unnest(${column((r) => r.id)}::uuid[], ${column((r) => r.partner_id)}::uuid[], ${column((r) => r.external_id)}::text[],
      ${column((r) => r.type)}::text[], ${column((r) => r.network)}::text[], ${column((r) => r.mid)}::text[],
      ${column((r) => r.location_id ?? null)}::uuid[], ${column((r) => r.card_id ?? null)}::uuid[], ${column((r) => r.user_id ?? null)}::uuid[],
      ${column((r) => r.amount)}::bigint[], ${column((r) => r.currency)}::text[], ${column((r) => iso(r.occurred_at))}::timestamptz[],
      ${column((r) => r.auth_external_id ?? null)}::text[], ${column((r) => r.original_external_id ?? null)}::text[],
      ${column((r) => r.outcome)}::text[], ${column((r) => r.reason ?? null)}::text[], ${column((r) => r.cashback_id ?? null)}::uuid[])
    on conflict (partner_id, external_id) do nothing
    returning 1`;
}

export async function findTransactionsByIds(
  db: Kysely<DB>,
  ids: readonly string[],
  scope: { partnerId?: string; userId?: string },
): Promise<TransactionRow[]> {
  if (ids.length === 0) return [];
  let query = db.selectFrom('transactions').selectAll().where('id', 'in', ids);
  if (scope.partnerId) query = query.where('partner_id', '=', scope.partnerId);
  if (scope.userId) query = query.where('user_id', '=', scope.userId);
  return query.execute();
}
