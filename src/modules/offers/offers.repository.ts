/**
 * Offers: all SQL of the domain. "Public" means published by an approved merchant; the
 * listing also leaves out what has ended or has nothing left to give (see offers.rules.ts).
 */
import { sql, type Kysely, type SelectQueryBuilder, type Transaction } from 'kysely';
import type { Channel, DB, MerchantRow, NewOffer, OfferKind, OfferRow, OfferUpdate } from '../../../db/types.js';
import { merchantVisible, PUBLIC_VISIBILITY, type Visibility } from '../../lib/authorization.js';
import { statementsByShape } from '../../lib/statements.js';
import { OFFER_TOPIC } from './offers.topics.js';

export type OfferOrder = 'NEWEST' | 'ENDING_SOON' | 'BEST_REWARD';

export interface OfferFilter {
  merchantId?: string | null;
  kind?: OfferKind | null;
  channel?: Channel | null;
  country?: string | null;
  liveAt?: Date | null;
  search?: string | null;
}

/** Keyset of each order: the sort columns, their direction, and how a row yields its cursor values. */
export const OFFER_ORDERS = {
  NEWEST: { column: 'created_at', type: 'timestamptz', direction: 'desc', key: (o: OfferRow) => o.created_at.toISOString() },
  ENDING_SOON: { column: 'ends_at', type: 'timestamptz', direction: 'asc', key: (o: OfferRow) => o.ends_at.toISOString() },
  BEST_REWARD: { column: 'reward_rank', type: 'integer', direction: 'desc', key: (o: OfferRow) => o.reward_rank },
} as const satisfies Record<
  OfferOrder,
  { column: keyof OfferRow; type: 'timestamptz' | 'integer'; direction: 'asc' | 'desc'; key: (o: OfferRow) => string | number }
>;

type OfferQuery = SelectQueryBuilder<DB, 'offers' | 'merchants', OfferRow>;

function fromOffersWithMerchants(db: Kysely<DB>): OfferQuery {
  return db.selectFrom('offers').innerJoin('merchants', 'merchants.id', 'offers.merchant_id').selectAll('offers');
}

/** Visible to the caller: public offers, plus its own merchant's (drafts too), or all for admins. */
function offerVisible(visibility: Visibility) {
  if (visibility.all) return sql<boolean>`true`;
  const publicOffer = sql<boolean>`(offers.state <> 'DRAFT' and ${merchantVisible(PUBLIC_VISIBILITY)})`;
  return visibility.merchantId
    ? sql<boolean>`(${publicOffer} or offers.merchant_id = ${visibility.merchantId})`
    : publicOffer;
}

function orderAndPage(
  query: OfferQuery,
  order: OfferOrder,
  page: { limit: number; after: readonly [string | number, string] | null },
): OfferQuery {
  const { column, type, direction } = OFFER_ORDERS[order];
  const col = sql.ref(`offers.${column}`);
  if (page.after) {
    const [value, id] = page.after;
    const op = sql.raw(direction === 'desc' ? '<' : '>');
    query = query.where(sql<boolean>`(${col}, offers.id) ${op} (${value}::${sql.raw(type)}, ${id}::uuid)`);
  }
  return query.orderBy(col, direction).orderBy('offers.id', direction).limit(page.limit);
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** Which columns a page reads, of the offer and of its merchant (none when the list is empty). */
export interface FeedColumns {
  offer: readonly (keyof OfferRow)[] | 'all';
  merchant: readonly (keyof MerchantRow)[] | 'all';
  /** Whether the page's cursors are read, which takes each row's sort column. */
  cursors: boolean;
}

/** What the SQL of a feed page depends on, beside which filters are given. */
interface FeedShape {
  order: OfferOrder;
  /** The offer's columns, or null for every one. */
  offer: readonly (keyof OfferRow)[] | null;
  merchant: readonly (keyof MerchantRow)[];
}

interface FeedValues extends Record<string, unknown> {
  now: Date;
  limit: number;
  merchantId: string | null;
  kind: OfferKind | null;
  channel: Channel | null;
  country: string | null;
  liveAt: Date | null;
  /** A LIKE pattern. */
  search: string | null;
  afterValue: string | number | null;
  afterId: string | null;
}

/** Feed statements, compiled once per shape (a shape is a set of columns, an order and the filters given). */
const publicFeedPage = statementsByShape<FeedValues, FeedShape, Record<string, unknown>>({
  maxShapes: 500,
  build: (db, shape, v) => {
    let query = db
      .selectFrom('offers')
      .innerJoin('merchants', 'merchants.id', 'offers.merchant_id')
      .where(sql<boolean>`merchants.status = 'APPROVED' and offers.state = 'PUBLISHED'`)
      .where('offers.ends_at', '>', v.now)
      .where(sql<boolean>`coalesce(offers.budget_remaining, offers.quantity_remaining) > 0`);
    if (v.merchantId) query = query.where('offers.merchant_id', '=', v.merchantId);
    if (v.kind) query = query.where('offers.kind', '=', v.kind);
    if (v.channel) query = query.where(sql<boolean>`${v.channel} = any(offers.channels)`);
    if (v.country) query = query.where(sql<boolean>`${v.country} = any(offers.countries)`);
    if (v.liveAt) query = query.where('offers.starts_at', '<=', v.liveAt).where('offers.ends_at', '>', v.liveAt);
    if (v.search) {
      const pattern = v.search;
      query = query.where((eb) => eb.or([eb('offers.title', 'ilike', pattern), eb('offers.description', 'ilike', pattern), eb('merchants.name', 'ilike', pattern)]));
    }
    const selected = (shape.offer ? query.select(shape.offer.map((c) => sql.ref(`offers.${c}`).as(c))) : query.selectAll('offers')) as unknown as OfferQuery;
    return orderAndPage(selected, shape.order, { limit: v.limit!, after: v.afterValue === null ? null : [v.afterValue, v.afterId!] }).$if(shape.merchant.length > 0, (q) =>
      q.select(shape.merchant.map((column) => sql.ref(`merchants.${column}`).as(`${MERCHANT_PREFIX}${column}`))),
    );
  },
});

/**
 * A page of the public feed, each offer with its merchant's columns from the same join (read them
 * with `merchantReadWith`): one statement per page. Only the given columns are read, so a row holds
 * what the page's fields need and nothing else: Postgres sends, and the driver parses, a handful of
 * columns instead of every one.
 */
export async function listPublicOffers(
  db: Kysely<DB>,
  options: {
    filter: OfferFilter;
    order: OfferOrder;
    now: Date;
    limit: number;
    after: readonly [string | number, string] | null;
    columns: FeedColumns;
  },
): Promise<OfferRow[]> {
  const { filter, order, columns } = options;
  // The id and the sort column make a cursor.
  const offer =
    columns.offer === 'all' ? null : [...new Set<keyof OfferRow>([...columns.offer, 'id', ...(columns.cursors ? [OFFER_ORDERS[order].column] : [])])];
  const merchant = columns.merchant === 'all' ? MERCHANT_COLUMNS : columns.merchant;
  const rows = await publicFeedPage(db, { order, offer, merchant }, `${order}|${offer?.join(',') ?? '*'}|${merchant.join(',')}`, {
    now: options.now,
    limit: options.limit,
    merchantId: filter.merchantId ?? null,
    kind: filter.kind ?? null,
    channel: filter.channel ?? null,
    country: filter.country ?? null,
    liveAt: filter.liveAt ?? null,
    search: filter.search ? `%${escapeLike(filter.search)}%` : null,
    afterValue: options.after?.[0] ?? null,
    afterId: options.after?.[1] ?? null,
  });
  return rows as unknown as OfferRow[];
}

/**
 * The merchant a feed row was read with (`merchantReadWith`), holding the columns its page asked
 * for; undefined for any other row. Built when the field is resolved: setting a property on the
 * driver's rows, or copying them into new objects, cost more than the whole parse of the page.
 */
export function merchantReadWith(offer: OfferRow): MerchantRow | undefined {
  const row = offer as FeedRow;
  if (row.merchant__id === undefined) return undefined;
  // One literal with every column, those the page did not read left undefined: filling an empty
  // object column by column cost fifteen times as much (109 ms against 7 in the feed's profile).
  return ({
    id: row.merchant__id,
    name: row.merchant__name,
    country: row.merchant__country,
    category: row.merchant__category,
    social_handle: row.merchant__social_handle,
    contact_email: row.merchant__contact_email,
    status: row.merchant__status,
    created_at: row.merchant__created_at,
    updated_at: row.merchant__updated_at,
  } satisfies Record<keyof MerchantRow, unknown>) as MerchantRow;
}

/**
 * Every column of a merchant, for a page that asks for all of them; a page's merchant columns are
 * selected beside the offer's under a prefix. Plain columns rather than `to_jsonb(merchants)`:
 * Postgres built the JSON for every matching offer before the sort and limit. Listing every column
 * of MerchantRow is checked at compile time, so a new column cannot be left out.
 */
const MERCHANT_COLUMNS = ['id', 'name', 'country', 'category', 'social_handle', 'contact_email', 'status', 'created_at', 'updated_at'] as const satisfies readonly (keyof MerchantRow)[];
const everyMerchantColumn: Exclude<keyof MerchantRow, (typeof MERCHANT_COLUMNS)[number]> extends never ? true : never = true;
void everyMerchantColumn;
const MERCHANT_PREFIX = 'merchant__';
/** A feed row: an offer's columns, and its merchant's under the prefix. */
type FeedRow = OfferRow & { [C in keyof MerchantRow as `${typeof MERCHANT_PREFIX}${C}`]?: MerchantRow[C] };

/** A merchant's offers the caller may see, newest first. */
export async function listMerchantOffers(
  db: Kysely<DB>,
  merchantId: string,
  visibility: Visibility,
  page: { limit: number; after: readonly [string, string] | null },
): Promise<OfferRow[]> {
  const query = fromOffersWithMerchants(db).where('offers.merchant_id', '=', merchantId).where(offerVisible(visibility));
  return orderAndPage(query, 'NEWEST', page).execute();
}

export async function findVisibleOffersByIds(db: Kysely<DB>, ids: readonly string[], visibility: Visibility): Promise<OfferRow[]> {
  if (ids.length === 0) return [];
  return fromOffersWithMerchants(db).where(offerVisible(visibility)).where('offers.id', 'in', ids).execute();
}

export async function insertOffer(trx: Transaction<DB>, offer: NewOffer, locationIds: readonly string[]): Promise<OfferRow> {
  const row = await trx.insertInto('offers').values(offer).returningAll().executeTakeFirstOrThrow();
  await replaceOfferLocations(trx, row.id, locationIds);
  return row;
}

export async function findOfferForUpdate(trx: Transaction<DB>, id: string): Promise<OfferRow | undefined> {
  return trx.selectFrom('offers').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
}

/**
 * Applies a patch. Growing the budget or the stock adds the same amount to what remains in the
 * same statement, so reservations made meanwhile are kept.
 */
export async function updateOfferRow(
  trx: Transaction<DB>,
  id: string,
  patch: OfferUpdate,
  grow: { budget?: number; quantity?: number } = {},
): Promise<OfferRow> {
  let query = trx.updateTable('offers').set({ ...patch, updated_at: new Date() });
  if (grow.budget) {
    query = query.set((eb) => ({
      budget: eb('budget', '+', grow.budget!),
      budget_remaining: eb('budget_remaining', '+', grow.budget!),
    }));
  }
  if (grow.quantity) {
    query = query.set((eb) => ({
      quantity: eb('quantity', '+', grow.quantity!),
      quantity_remaining: eb('quantity_remaining', '+', grow.quantity!),
    }));
  }
  return query.where('id', '=', id).returningAll().executeTakeFirstOrThrow();
}

export async function replaceOfferLocations(trx: Transaction<DB>, offerId: string, locationIds: readonly string[]): Promise<void> {
  await trx.deleteFrom('offer_locations').where('offer_id', '=', offerId).execute();
  if (locationIds.length > 0) {
    await trx
      .insertInto('offer_locations')
      .values(locationIds.map((location_id) => ({ offer_id: offerId, location_id })))
      .execute();
  }
}

export async function countOfferLocations(trx: Transaction<DB>, offerId: string): Promise<number> {
  const { count } = await trx
    .selectFrom('offer_locations')
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .where('offer_id', '=', offerId)
    .executeTakeFirstOrThrow();
  return Number(count);
}

/** Another published offer, not yet ended, that answers to the same hashtag (buy, confirm or activation). */
export async function findLiveOfferWithHashtag(
  trx: Transaction<DB>,
  hashtag: string,
  exceptOfferId: string,
  now: Date,
): Promise<{ id: string } | undefined> {
  const tag = hashtag.toLowerCase();
  return trx
    .selectFrom('offers')
    .select('id')
    .where((eb) =>
      eb.or([
        eb(sql`lower(hashtag)`, '=', tag),
        eb(sql`lower(confirm_hashtag)`, '=', tag),
        eb(sql`lower(activation_hashtag)`, '=', tag),
      ]),
    )
    .where('state', '!=', 'DRAFT')
    .where('ends_at', '>', now)
    .where('id', '!=', exceptOfferId)
    .executeTakeFirst();
}

/**
 * Published offers, newest first, that answer to any of `tags` (lower case, with "#") as their
 * buy, confirm or activation hashtag, whatever their status now (the caller tells a sold-out or
 * ended offer from no offer at all).
 */
export async function findPublishedOffersByHashtags(db: Kysely<DB>, tags: readonly string[]): Promise<OfferRow[]> {
  if (tags.length === 0) return [];
  const list = [...tags];
  return db
    .selectFrom('offers')
    .innerJoin('merchants', 'merchants.id', 'offers.merchant_id')
    .selectAll('offers')
    .where('merchants.status', '=', 'APPROVED')
    .where('offers.state', '!=', 'DRAFT')
    .where((eb) =>
      eb.or([
        eb(sql`lower(offers.hashtag)`, 'in', list),
        eb(sql`lower(offers.confirm_hashtag)`, 'in', list),
        eb(sql`lower(offers.activation_hashtag)`, 'in', list),
      ]),
    )
    .orderBy('offers.published_at', 'desc')
    .orderBy('offers.id', 'desc')
    .execute();
}

/**
 * Stock of a PURCHASE offer moves between available (`quantity_remaining`), held by open
 * intents (`quantity_held`) and sold (the rest). Each move is one conditional UPDATE, so
 * concurrent buyers can never take more units than exist.
 */
export async function moveOfferStock(trx: Transaction<DB>, offerId: string, move: 'HOLD' | 'RELEASE' | 'SELL' | 'RESTOCK'): Promise<boolean> {
  let query = trx.updateTable('offers').where('id', '=', offerId).where('kind', '=', 'PURCHASE');
  if (move === 'HOLD') {
    query = query.set((eb) => ({ quantity_remaining: eb('quantity_remaining', '-', 1), quantity_held: eb('quantity_held', '+', 1) })).where('quantity_remaining', '>', 0);
  } else if (move === 'RELEASE') {
    query = query.set((eb) => ({ quantity_remaining: eb('quantity_remaining', '+', 1), quantity_held: eb('quantity_held', '-', 1) })).where('quantity_held', '>', 0);
  } else if (move === 'SELL') {
    query = query.set((eb) => ({ quantity_held: eb('quantity_held', '-', 1) })).where('quantity_held', '>', 0);
  } else {
    query = query.set((eb) => ({ quantity_remaining: eb('quantity_remaining', '+', 1) }));
  }
  const result = await query.executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Serialises publishers of one hashtag for the rest of the transaction (no two live offers share it). */
export async function lockHashtag(trx: Transaction<DB>, hashtag: string): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtext(lower(${hashtag})))`.execute(trx);
}

/**
 * Time-based transitions as events, each once: published offers whose window has begun (LIVE)
 * or ended (EXPIRED). The flag and the event are one statement, and the row lock makes a second
 * instance running the same job skip what the first announced.
 */
export async function markOfferTransitionsAnnounced(db: Kysely<DB>, now: Date): Promise<number> {
  const live = await sql`
    with flipped as (
      update offers set announced_live = true
      where state = 'PUBLISHED' and not announced_live and starts_at <= ${now} and ends_at > ${now}
      returning id, merchant_id
    )
    insert into events (topic, type, subject_type, subject_id, merchant_id)
    select ${OFFER_TOPIC.name}, 'LIVE', ${OFFER_TOPIC.subjectType}, id, merchant_id from flipped`.execute(db);
  const ended = await sql`
    with flipped as (
      update offers set announced_ended = true
      where state <> 'DRAFT' and not announced_ended and ends_at <= ${now}
      returning id, merchant_id
    )
    insert into events (topic, type, subject_type, subject_id, merchant_id)
    select ${OFFER_TOPIC.name}, 'EXPIRED', ${OFFER_TOPIC.subjectType}, id, merchant_id from flipped`.execute(db);
  return Number(live.numAffectedRows ?? 0) + Number(ended.numAffectedRows ?? 0);
}

/** Locks offers in id order (every writer takes offer locks first, in this order: no deadlocks). */
export async function lockOffers(trx: Transaction<DB>, ids: readonly string[], options: { skipLocked?: boolean } = {}): Promise<OfferRow[]> {
  if (ids.length === 0) return [];
  const query = trx.selectFrom('offers').selectAll().where('id', 'in', ids).orderBy('id').forUpdate();
  return (options.skipLocked ? query.skipLocked() : query).execute();
}

/**
 * The UPDATE moving offers' remaining budgets by the given deltas, as one step of the caller's
 * combined write (RETURNING the ids of the offers it wrote); null when no offer is named. Every
 * offer named is written, a zero delta too: an offer's row then changes in every transaction that
 * changed cashback on it, which a reader that read the offer's cashback before taking the offer's
 * lock relies on to know whether it must read again (see ingest's readAndLockBatch). The caller
 * holds the offers' locks, or gives the row `versions` (xmin) it read them at: an offer changed
 * since is then not written (and the caller's write, expecting every offer, fails).
 */
export function applyBudgetDeltas(deltas: ReadonlyMap<string, number>, versions?: ReadonlyMap<string, string>) {
  if (deltas.size === 0) return null;
  const ids = [...deltas.keys()];
  return sql`
    update offers o set budget_remaining = o.budget_remaining + v.delta, updated_at = now()
    from unnest(${ids}::uuid[], ${ids.map((id) => deltas.get(id)!)}::bigint[], ${ids.map((id) => versions?.get(id) ?? null)}::text[])
      as v(id, delta, version)
    where o.id = v.id and (v.version is null or o.xmin::text = v.version)
    returning o.id`;
}

/**
 * The next instant after `now` at which a published or paused offer starts or ends, or null when
 * none will: until then the public catalogue changes only through events (a response cache holds
 * its answers no longer than this).
 */
export async function nextOfferTransition(db: Kysely<DB>, now: Date): Promise<Date | null> {
  const row = await db
    .selectFrom('offers')
    .select([
      sql<Date | string | null>`min(starts_at) filter (where starts_at > ${now})`.as('next_start'),
      sql<Date | string | null>`min(ends_at) filter (where ends_at > ${now})`.as('next_end'),
    ])
    .where('state', '<>', 'DRAFT')
    .executeTakeFirst();
  const times = [row?.next_start, row?.next_end].filter((t) => t !== null && t !== undefined).map((t) => new Date(t).getTime());
  return times.length > 0 ? new Date(Math.min(...times)) : null;
}
