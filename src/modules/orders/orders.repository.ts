/**
 * All SQL on the orders module's tables: `hashtag_settings` (how a user confirms and how much a
 * day), `purchase_intents` (a buy post's intent, holding one unit until it ends; at most one open
 * per user and offer, by a partial unique index) and `orders` (one per charged intent, unique by
 * intent). Reads that join other modules' tables (names, titles, last 4 digits) only read them.
 */
import { sql, type Insertable, type Kysely, type Transaction } from 'kysely';
import type {
  DB,
  HashtagBuying,
  HashtagSettingsRow,
  OrderRow,
  OrdersTable,
  OrderStatus,
  PurchaseIntentRow,
  PurchaseIntentsTable,
  PurchaseIntentStatus,
  SocialPlatform,
} from '../../../db/types.js';

/** Statuses that hold a unit: the intent is open, or confirmed with its charge in flight. */
export const OPEN_STATUSES: PurchaseIntentStatus[] = ['AWAITING_CONFIRMATION', 'CONFIRMED'];

// ---------------------------------------------------------------- settings

export async function findSettings(db: Kysely<DB>, userId: string): Promise<HashtagSettingsRow | undefined> {
  return db.selectFrom('hashtag_settings').selectAll().where('user_id', '=', userId).executeTakeFirst();
}

/**
 * The user's settings row, created with the defaults when absent, locked until the transaction
 * ends: every intent a user starts is counted against the limits one after another.
 */
export async function lockSettings(trx: Transaction<DB>, userId: string, defaults: { buying: HashtagBuying; dailyLimit: number }): Promise<HashtagSettingsRow> {
  await trx
    .insertInto('hashtag_settings')
    .values({ user_id: userId, buying: defaults.buying, daily_limit: defaults.dailyLimit })
    .onConflict((oc) => oc.column('user_id').doNothing())
    .execute();
  return trx.selectFrom('hashtag_settings').selectAll().where('user_id', '=', userId).forUpdate().executeTakeFirstOrThrow();
}

export async function updateSettings(trx: Transaction<DB>, userId: string, set: { buying?: HashtagBuying; dailyLimit?: number }, now: Date): Promise<HashtagSettingsRow> {
  return trx
    .updateTable('hashtag_settings')
    .set({ ...(set.buying ? { buying: set.buying } : {}), ...(set.dailyLimit !== undefined ? { daily_limit: set.dailyLimit } : {}), updated_at: now })
    .where('user_id', '=', userId)
    .returningAll()
    .executeTakeFirstOrThrow();
}

// ---------------------------------------------------------------- intents

/**
 * Inserts an intent; undefined when the user already has an open one for the offer (the partial
 * unique index, with ON CONFLICT so the caller's transaction survives the lost race).
 */
export async function insertIntent(trx: Transaction<DB>, intent: Insertable<PurchaseIntentsTable>): Promise<PurchaseIntentRow | undefined> {
  return trx
    .insertInto('purchase_intents')
    .values(intent)
    .onConflict((oc) => oc.columns(['user_id', 'offer_id']).where('status', 'in', OPEN_STATUSES).doNothing())
    .returningAll()
    .executeTakeFirst();
}

export async function findIntentById(db: Kysely<DB>, id: string): Promise<PurchaseIntentRow | undefined> {
  return db.selectFrom('purchase_intents').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Intents by id, of `userId` only (null: any user, for admins). */
export async function findUserIntentsByIds(db: Kysely<DB>, userId: string | null, ids: readonly string[]): Promise<PurchaseIntentRow[]> {
  if (ids.length === 0) return [];
  let query = db.selectFrom('purchase_intents').selectAll().where('id', 'in', ids);
  if (userId !== null) query = query.where('user_id', '=', userId);
  return query.execute();
}

export async function lockIntent(trx: Transaction<DB>, id: string, userId?: string): Promise<PurchaseIntentRow | undefined> {
  let query = trx.selectFrom('purchase_intents').selectAll().where('id', '=', id);
  if (userId) query = query.where('user_id', '=', userId);
  return query.forUpdate().executeTakeFirst();
}

/** The user's latest intent for the offer, locked (a confirm looks at it). */
export async function lockLatestIntentOf(trx: Transaction<DB>, userId: string, offerId: string): Promise<PurchaseIntentRow | undefined> {
  return trx
    .selectFrom('purchase_intents')
    .selectAll()
    .where('user_id', '=', userId)
    .where('offer_id', '=', offerId)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(1)
    .forUpdate()
    .executeTakeFirst();
}

export async function hasOpenIntent(db: Kysely<DB>, userId: string, offerId: string): Promise<boolean> {
  const row = await db
    .selectFrom('purchase_intents')
    .select('id')
    .where('user_id', '=', userId)
    .where('offer_id', '=', offerId)
    .where('status', 'in', OPEN_STATUSES)
    .executeTakeFirst();
  return row !== undefined;
}

/** What the user spent or holds in `currency` from intents created in [start, end): charged and open ones. */
/** A purchase is paid within its confirm window (at most an hour) and the payment job's retries (about 25 minutes): a day bounds both. */
const PAID_WITHIN_MS = 24 * 60 * 60 * 1000;

export async function sumSpentInWindow(db: Kysely<DB>, userId: string, currency: string, start: Date, end: Date): Promise<number> {
  // A charged purchase counts on the day it was paid (started before midnight and paid after it,
  // it is the new day's money) unless its order was refunded. One awaiting confirmation counts
  // whenever it started: it may be paid today.
  const paidAt = sql<Date>`coalesce(i.settled_at, i.created_at)`;
  const row = await db
    .selectFrom('purchase_intents as i')
    .select(sql<string>`coalesce(sum(i.price), 0)`.as('total'))
    .where('i.user_id', '=', userId)
    .where('i.currency', '=', currency)
    // Bounds the rows read (by the user's index): what is paid today started at most a day before.
    .where('i.created_at', '>=', new Date(start.getTime() - PAID_WITHIN_MS))
    .where('i.created_at', '<', end)
    .where(({ and, or, eb, not, exists, selectFrom }) =>
      or([
        eb('i.status', 'in', OPEN_STATUSES),
        and([
          eb('i.status', '=', 'CHARGED'),
          eb(paidAt, '>=', start),
          eb(paidAt, '<', end),
          not(exists(selectFrom('orders as o').select('o.id').whereRef('o.intent_id', '=', 'i.id').where('o.status', '=', 'REFUNDED'))),
        ]),
      ]),
    )
    .executeTakeFirstOrThrow();
  return Number(row.total);
}

/** The user's purchases of the offer that count against its per-user limit: charged and open intents. */
export async function countPurchasesOfOffer(db: Kysely<DB>, userId: string, offerId: string): Promise<number> {
  const row = await db
    .selectFrom('purchase_intents')
    .select((eb) => eb.fn.countAll<string>().as('count'))
    .where('user_id', '=', userId)
    .where('offer_id', '=', offerId)
    .where('status', 'in', ['CHARGED', ...OPEN_STATUSES])
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

/**
 * Moves an intent only while it is in one of `from`: the conditional update is what makes two
 * racing settlements (or an expiry and a confirm) act once. Undefined when it was not there.
 */
export async function moveIntent(
  trx: Transaction<DB>,
  id: string,
  from: PurchaseIntentStatus[],
  set: {
    status: PurchaseIntentStatus;
    reason?: string | null;
    confirmedVia?: 'POST' | 'APP';
    confirmPostId?: string | null;
    confirmedAt?: Date;
    settledAt?: Date;
    now: Date;
  },
): Promise<PurchaseIntentRow | undefined> {
  return trx
    .updateTable('purchase_intents')
    .set({
      status: set.status,
      ...(set.reason !== undefined ? { reason: set.reason } : {}),
      ...(set.confirmedVia ? { confirmed_via: set.confirmedVia } : {}),
      ...(set.confirmPostId !== undefined ? { confirm_post_id: set.confirmPostId } : {}),
      ...(set.confirmedAt ? { confirmed_at: set.confirmedAt } : {}),
      ...(set.settledAt ? { settled_at: set.settledAt } : {}),
      updated_at: set.now,
    })
    .where('id', '=', id)
    .where('status', 'in', from)
    .returningAll()
    .executeTakeFirst();
}

/** Intents awaiting confirmation past their window, locked; a second job instance skips them. */
export async function lockDueIntents(trx: Transaction<DB>, now: Date, limit: number): Promise<PurchaseIntentRow[]> {
  return trx
    .selectFrom('purchase_intents')
    .selectAll()
    .where('status', '=', 'AWAITING_CONFIRMATION')
    .where('expires_at', '<', now)
    .orderBy('expires_at')
    .limit(limit)
    .forUpdate()
    .skipLocked()
    .execute();
}

/** Open (awaiting confirmation) intents of a social account or of a user, locked. */
export async function lockAwaitingIntents(trx: Transaction<DB>, of: { socialAccountId: string } | { userId: string }): Promise<PurchaseIntentRow[]> {
  let query = trx.selectFrom('purchase_intents').selectAll().where('status', '=', 'AWAITING_CONFIRMATION');
  query = 'socialAccountId' in of ? query.where('social_account_id', '=', of.socialAccountId) : query.where('user_id', '=', of.userId);
  return query.orderBy('id').forUpdate().execute();
}

export async function findIntentByBuyPost(db: Kysely<DB>, partnerId: string, platform: SocialPlatform, buyPostId: string): Promise<PurchaseIntentRow | undefined> {
  return db
    .selectFrom('purchase_intents')
    .selectAll()
    .where('partner_id', '=', partnerId)
    .where('platform', '=', platform)
    .where('buy_post_id', '=', buyPostId)
    .orderBy('created_at', 'desc')
    .limit(1)
    .executeTakeFirst();
}

/** A page of the user's intents, newest first, after the keyset cursor (created_at, id). */
export async function listUserIntents(db: Kysely<DB>, userId: string, page: { limit: number; after: readonly [string, string] | null }): Promise<PurchaseIntentRow[]> {
  let query = db.selectFrom('purchase_intents').selectAll().where('user_id', '=', userId);
  if (page.after) {
    const [at, id] = page.after;
    query = query.where((eb) => eb(eb.refTuple('created_at', 'id'), '<', eb.tuple(new Date(at), id)));
  }
  return query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(page.limit).execute();
}

// ---------------------------------------------------------------- orders

/** Inserts the order of a charged intent; undefined when the intent already has one. */
export async function insertOrder(trx: Transaction<DB>, order: Insertable<OrdersTable>): Promise<OrderRow | undefined> {
  return trx
    .insertInto('orders')
    .values(order)
    .onConflict((oc) => oc.column('intent_id').doNothing())
    .returningAll()
    .executeTakeFirst();
}

export async function findOrderByIntent(db: Kysely<DB>, intentId: string): Promise<OrderRow | undefined> {
  return db.selectFrom('orders').selectAll().where('intent_id', '=', intentId).executeTakeFirst();
}

export async function findOrdersByIntents(db: Kysely<DB>, intentIds: readonly string[]): Promise<OrderRow[]> {
  if (intentIds.length === 0) return [];
  return db.selectFrom('orders').selectAll().where('intent_id', 'in', intentIds).execute();
}

/** Orders by id that `who` may read: a user its own, a merchant those of its offers, admins all. */
export async function findOrdersByIds(db: Kysely<DB>, who: { userId?: string; merchantId?: string; all?: boolean }, ids: readonly string[]): Promise<OrderRow[]> {
  if (ids.length === 0 || (!who.userId && !who.merchantId && !who.all)) return [];
  let query = db.selectFrom('orders').selectAll().where('id', 'in', ids);
  if (who.userId) query = query.where('user_id', '=', who.userId);
  if (who.merchantId) query = query.where('merchant_id', '=', who.merchantId);
  return query.execute();
}

export async function lockOrder(trx: Transaction<DB>, id: string, merchantId: string): Promise<OrderRow | undefined> {
  return trx.selectFrom('orders').selectAll().where('id', '=', id).where('merchant_id', '=', merchantId).forUpdate().executeTakeFirst();
}

export async function moveOrder(
  trx: Transaction<DB>,
  id: string,
  from: OrderStatus[],
  set: { status: OrderStatus; refundReference?: string; now: Date },
): Promise<OrderRow | undefined> {
  return trx
    .updateTable('orders')
    .set({
      status: set.status,
      ...(set.status === 'FULFILLED' ? { fulfilled_at: set.now } : {}),
      ...(set.status === 'REFUNDED' ? { refunded_at: set.now, refund_reference: set.refundReference ?? null } : {}),
      updated_at: set.now,
    })
    .where('id', '=', id)
    .where('status', 'in', from)
    .returningAll()
    .executeTakeFirst();
}

/** A page of orders of a user or of a merchant, newest first, after the keyset cursor (created_at, id). */
export async function listOrders(db: Kysely<DB>, of: { userId: string } | { merchantId: string }, page: { limit: number; after: readonly [string, string] | null }): Promise<OrderRow[]> {
  let query = db.selectFrom('orders').selectAll();
  query = 'userId' in of ? query.where('user_id', '=', of.userId) : query.where('merchant_id', '=', of.merchantId);
  if (page.after) {
    const [at, id] = page.after;
    query = query.where((eb) => eb(eb.refTuple('created_at', 'id'), '<', eb.tuple(new Date(at), id)));
  }
  return query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(page.limit).execute();
}

// ---------------------------------------------------------------- facts for e-mails and replies

export interface IntentFacts {
  intent_id: string;
  email: string;
  display_name: string;
  merchant_name: string;
  offer_title: string;
  buy_hashtag: string | null;
  confirm_hashtag: string | null;
  confirm_window_minutes: number | null;
  card_last4: string;
  handle: string | null;
}

/** What the e-mails and replies of an intent name: the buyer, merchant, item, card's last 4, handle. */
export async function findIntentFacts(db: Kysely<DB>, intentId: string): Promise<IntentFacts | undefined> {
  return db
    .selectFrom('purchase_intents as i')
    .innerJoin('users as u', 'u.id', 'i.user_id')
    .innerJoin('offers as o', 'o.id', 'i.offer_id')
    .innerJoin('merchants as m', 'm.id', 'i.merchant_id')
    .innerJoin('cards as c', 'c.id', 'i.card_id')
    .leftJoin('social_accounts as s', 's.id', 'i.social_account_id')
    .select([
      'i.id as intent_id',
      'u.email',
      'u.display_name',
      'm.name as merchant_name',
      'o.title as offer_title',
      'o.hashtag as buy_hashtag',
      'o.confirm_hashtag',
      'o.confirm_window_minutes',
      'c.last4 as card_last4',
      's.handle',
    ])
    .where('i.id', '=', intentId)
    .executeTakeFirst();
}
