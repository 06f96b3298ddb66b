/**
 * Cashback: all SQL of the domain — the rows, their history of changes, what the viewer lists,
 * what merchants count, and the claims of the lifecycle jobs.
 */
import { sql, type Kysely, type RawBuilder, type Transaction } from 'kysely';
import { STATEMENT_CREDIT_TOPIC } from '../credits/credits.topics.js';
import type {
  CashbackChangeRow,
  CashbackRow,
  CashbackStatus,
  DB,
  NewCashbackChange,
} from '../../../db/types.js';

const iso = (d: Date | string | null | undefined): string | null => (d == null ? null : d instanceof Date ? d.toISOString() : d);

/** The INSERT of new cashback rows (one array parameter per column). */
export function cashbacksInsert(rows: readonly CashbackRow[]): RawBuilder<unknown> {
  const column = <T>(pick: (r: CashbackRow) => T) => rows.map(pick);
  return sql`insert into cashbacks (id, user_id, card_id, offer_id, merchant_id, purchase_transaction_id, status, currency,
      purchase_amount, refunded_amount, granted_amount, amount, credited_amount, clawback_amount, reason, occurred_at, expires_at,
      expected_credit_at, created_at, updated_at)
    select * from unnest(${column((r) => r.id)}::uuid[], ${column((r) => r.user_id)}::uuid[], ${column((r) => r.card_id)}::uuid[],
      ${column((r) => r.offer_id)}::uuid[], ${column((r) => r.merchant_id)}::uuid[], ${column((r) => r.purchase_transaction_id)}::uuid[],
      ${column((r) => r.status)}::text[], ${column((r) => r.currency)}::text[], ${column((r) => r.purchase_amount)}::bigint[],
      ${column((r) => r.refunded_amount)}::bigint[], ${column((r) => r.granted_amount)}::bigint[], ${column((r) => r.amount)}::bigint[],
      ${column((r) => r.credited_amount)}::bigint[], ${column((r) => r.clawback_amount)}::bigint[], ${column((r) => r.reason)}::text[],
      ${column((r) => iso(r.occurred_at))}::timestamptz[], ${column((r) => iso(r.expires_at))}::timestamptz[],
      ${column((r) => iso(r.expected_credit_at))}::timestamptz[], ${column((r) => iso(r.created_at))}::timestamptz[],
      ${column((r) => iso(r.updated_at))}::timestamptz[])`;
}

export async function insertCashbacks(trx: Transaction<DB>, rows: readonly CashbackRow[]): Promise<void> {
  if (rows.length > 0) await cashbacksInsert(rows).execute(trx);
}

/** The UPDATE of the mutable columns of changed cashbacks. */
export function cashbacksUpdate(rows: readonly CashbackRow[]): RawBuilder<unknown> {
  const column = <T>(pick: (r: CashbackRow) => T) => rows.map(pick);
  return sql`
    update cashbacks c set status = v.status, purchase_amount = v.purchase_amount, refunded_amount = v.refunded_amount,
      granted_amount = v.granted_amount, amount = v.amount, credited_amount = v.credited_amount,
      clawback_amount = v.clawback_amount, reason = v.reason, expires_at = v.expires_at,
      expected_credit_at = v.expected_credit_at, updated_at = now()
    from unnest(${column((r) => r.id)}::uuid[], ${column((r) => r.status)}::text[], ${column((r) => r.purchase_amount)}::bigint[],
      ${column((r) => r.refunded_amount)}::bigint[], ${column((r) => r.granted_amount)}::bigint[], ${column((r) => r.amount)}::bigint[],
      ${column((r) => r.credited_amount)}::bigint[], ${column((r) => r.clawback_amount)}::bigint[], ${column((r) => r.reason)}::text[],
      ${column((r) => iso(r.expires_at))}::timestamptz[], ${column((r) => iso(r.expected_credit_at))}::timestamptz[])
      as v(id, status, purchase_amount, refunded_amount, granted_amount, amount, credited_amount, clawback_amount, reason, expires_at,
        expected_credit_at)
    where c.id = v.id`;
}

/** Writes the mutable columns of changed cashbacks in one statement. */
export async function updateCashbacks(trx: Transaction<DB>, rows: readonly CashbackRow[]): Promise<void> {
  if (rows.length > 0) await cashbacksUpdate(rows).execute(trx);
}

/** The INSERT of history entries, in the given order (their ids say the order of changes). */
export function cashbackChangesInsert(rows: readonly NewCashbackChange[]): RawBuilder<unknown> {
  const column = <T>(pick: (r: NewCashbackChange) => T) => rows.map(pick);
  return sql`insert into cashback_changes (cashback_id, type, status, amount, reason, transaction_id)
    select cashback_id, type, status, amount, reason, transaction_id
    from unnest(${column((r) => r.cashback_id)}::uuid[], ${column((r) => r.type)}::text[], ${column((r) => r.status)}::text[],
      ${column((r) => r.amount)}::bigint[], ${column((r) => r.reason ?? null)}::text[], ${column((r) => r.transaction_id ?? null)}::uuid[])
      with ordinality as v(cashback_id, type, status, amount, reason, transaction_id, n)
    order by n`;
}

export async function insertCashbackChanges(trx: Transaction<DB>, rows: readonly NewCashbackChange[]): Promise<void> {
  if (rows.length > 0) await cashbackChangesInsert(rows).execute(trx);
}

/**
 * A refund before the credit was issued shrinks the open (PENDING or FAILED) credit to the new
 * cashback amount, and cancels it at zero.
 */
export function openCreditsResize(amounts: ReadonlyMap<string, number>): RawBuilder<unknown> {
  return sql`
    update statement_credits s set
      amount = case when v.amount > 0 then v.amount else s.amount end,
      status = case when v.amount > 0 then s.status else 'CANCELLED' end,
      updated_at = now()
    from unnest(${[...amounts.keys()]}::uuid[], ${[...amounts.values()]}::bigint[]) as v(cashback_id, amount)
    where s.cashback_id = v.cashback_id and s.status in ('PENDING', 'FAILED')`;
}

export async function resizeOpenCredits(trx: Transaction<DB>, amounts: ReadonlyMap<string, number>): Promise<void> {
  if (amounts.size > 0) await openCreditsResize(amounts).execute(trx);
}

export async function lockCashbacks(trx: Transaction<DB>, ids: readonly string[]): Promise<CashbackRow[]> {
  if (ids.length === 0) return [];
  return trx.selectFrom('cashbacks').selectAll().where('id', 'in', ids).orderBy('id').forUpdate().execute();
}

export interface EmailFacts {
  cashback_id: string;
  email: string;
  display_name: string;
  merchant_name: string;
  last4: string;
}

export async function findEmailFacts(trx: Kysely<DB>, cashbackIds: readonly string[]): Promise<EmailFacts[]> {
  if (cashbackIds.length === 0) return [];
  return trx
    .selectFrom('cashbacks')
    .innerJoin('users', 'users.id', 'cashbacks.user_id')
    .innerJoin('merchants', 'merchants.id', 'cashbacks.merchant_id')
    .innerJoin('cards', 'cards.id', 'cashbacks.card_id')
    .select([
      'cashbacks.id as cashback_id',
      'users.email',
      'users.display_name',
      'merchants.name as merchant_name',
      'cards.last4',
    ])
    .where('cashbacks.id', 'in', cashbackIds)
    .execute();
}

// ---- reading ----

export async function findUserCashbacksByIds(db: Kysely<DB>, userId: string | null, ids: readonly string[]): Promise<CashbackRow[]> {
  if (ids.length === 0) return [];
  let query = db.selectFrom('cashbacks').selectAll().where('id', 'in', ids);
  if (userId !== null) query = query.where('user_id', '=', userId);
  return query.execute();
}

/** Cashbacks a partner's own transactions earned. */
export async function findPartnerCashbacksByIds(db: Kysely<DB>, partnerId: string, ids: readonly string[]): Promise<CashbackRow[]> {
  if (ids.length === 0) return [];
  return db
    .selectFrom('cashbacks')
    .selectAll()
    .where('id', 'in', ids)
    .where((eb) =>
      eb.exists(
        eb
          .selectFrom('transactions')
          .select('transactions.id')
          .whereRef('transactions.cashback_id', '=', 'cashbacks.id')
          .where('transactions.partner_id', '=', partnerId),
      ),
    )
    .execute();
}

export async function listUserCashbacks(
  db: Kysely<DB>,
  userId: string,
  options: { status: CashbackStatus | null; limit: number; after: readonly [string, string] | null },
): Promise<CashbackRow[]> {
  let query = db.selectFrom('cashbacks').selectAll().where('user_id', '=', userId);
  if (options.status) query = query.where('status', '=', options.status);
  if (options.after) {
    const [createdAt, id] = options.after;
    query = query.where(sql<boolean>`(created_at, id) < (${createdAt}::timestamptz, ${id}::uuid)`);
  }
  return query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(options.limit).execute();
}

export async function cashbackTotalsOfUser(db: Kysely<DB>, userId: string) {
  return db
    .selectFrom('cashbacks')
    .select(['currency', 'status', sql<number>`sum(amount)::bigint`.as('total')])
    .where('user_id', '=', userId)
    .where('status', '!=', 'REVERSED')
    .groupBy(['currency', 'status'])
    .orderBy('currency')
    .execute();
}

export async function findChangesOfCashbacks(db: Kysely<DB>, ids: readonly string[]): Promise<CashbackChangeRow[]> {
  if (ids.length === 0) return [];
  return db.selectFrom('cashback_changes').selectAll().where('cashback_id', 'in', ids).orderBy('id').execute();
}

/** Redemptions (cashback not reversed) and their rewards, per offer. */
export async function redemptionStats(db: Kysely<DB>, offerIds: readonly string[]) {
  if (offerIds.length === 0) return new Map<string, { count: number; total: number }>();
  const rows = await db
    .selectFrom('cashbacks')
    .select(['offer_id', sql<number>`count(*)::bigint`.as('count'), sql<number>`coalesce(sum(amount), 0)::bigint`.as('total')])
    .where('offer_id', 'in', offerIds)
    .where('status', '!=', 'REVERSED')
    .groupBy('offer_id')
    .execute();
  return new Map(rows.map((r) => [r.offer_id, { count: Number(r.count), total: Number(r.total) }]));
}

export async function findCardLast4(db: Kysely<DB>, cardIds: readonly string[]): Promise<Map<string, string>> {
  if (cardIds.length === 0) return new Map();
  const rows = await db.selectFrom('cards').select(['id', 'last4']).where('id', 'in', cardIds).execute();
  return new Map(rows.map((r) => [r.id, r.last4]));
}

// ---- lifecycle jobs ----

/** Offers with pending cashback whose auth expired before `now`. */
export async function findOffersWithExpiredAuths(db: Kysely<DB>, now: Date, limit: number): Promise<string[]> {
  const rows = await db
    .selectFrom('cashbacks')
    .select('offer_id')
    .distinct()
    .where('status', '=', 'PENDING')
    .where('expires_at', '<=', now)
    .limit(limit)
    .execute();
  return rows.map((r) => r.offer_id);
}

export async function lockExpiredAuthsOfOffer(trx: Transaction<DB>, offerId: string, now: Date, limit: number): Promise<CashbackRow[]> {
  return trx
    .selectFrom('cashbacks')
    .selectAll()
    .where('offer_id', '=', offerId)
    .where('status', '=', 'PENDING')
    .where('expires_at', '<=', now)
    .orderBy('id')
    .limit(limit)
    .forUpdate()
    .execute();
}

/**
 * Confirmed cashback past its hold period becomes a PENDING statement credit, once: the unique
 * cashback id makes concurrent runs on several instances harmless. Each cashback is locked while
 * its credit is written (SKIP LOCKED: one being refunded right now waits for the next round), so
 * a refund either sees the credit and shrinks it, or happens first and the credit is made from
 * what is left.
 */
export async function createDueStatementCredits(db: Kysely<DB>, now: Date, limit: number): Promise<number> {
  // One statement: the credits and their CREATED events (STATEMENT_CREDIT_TOPIC's data: amount,
  // currency, cashbackId, offerId; audience the cashback's user and merchant) commit together.
  const result = await sql`
    with created as (
      insert into statement_credits (cashback_id, card_id, amount, currency)
      select id, card_id, amount, currency from (
        select c.id, c.card_id, c.amount, c.currency from cashbacks c
        where c.status = 'CONFIRMED' and c.expected_credit_at <= ${now}
          and not exists (select 1 from statement_credits s where s.cashback_id = c.id)
        order by c.id
        limit ${limit}
        for update of c skip locked
      ) due
      on conflict (cashback_id) do nothing
      returning id, cashback_id, amount, currency
    )
    insert into events (topic, type, subject_type, subject_id, user_id, merchant_id, data)
    select ${STATEMENT_CREDIT_TOPIC.name}, 'CREATED', ${STATEMENT_CREDIT_TOPIC.subjectType}, created.id, c.user_id, c.merchant_id,
      jsonb_build_object('amount', created.amount, 'currency', created.currency, 'cashbackId', c.id, 'offerId', c.offer_id)
    from created join cashbacks c on c.id = created.cashback_id
    order by created.id`.execute(db);
  return Number(result.numAffectedRows ?? 0);
}
