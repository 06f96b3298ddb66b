/**
 * Transactions: all SQL of ingest. A batch reads what it needs and locks its offers in one
 * statement whatever its size (cards, locations, offers there, the transactions it names,
 * activations, reward counts, the names its e-mails need, each part a JSON array), reads again
 * under the locks only when an offer changed meanwhile, and inserts its transactions as one step
 * of the batch's single write.
 */
import { sql, type Kysely, type RawBuilder, type Transaction } from 'kysely';
import type { CardNetwork, CardRow, DB, LocationRow, NewTransaction, OfferRow, TransactionRow } from '../../../db/types.js';
import { executePrepared } from '../../lib/statements.js';

/** A linked card as ingest needs it: who holds it, and its last digits for the e-mail. */
export type LinkedCard = Pick<CardRow, 'id' | 'user_id' | 'fingerprint' | 'last4'>;

/** A location found by one of its network merchant ids. */
export type LocationByMid = Pick<LocationRow, 'id' | 'merchant_id' | 'channel' | 'country' | 'timezone'> & { network: CardNetwork; mid: string };

/** A stored transaction as ingest needs it (a duplicate's answer, an auth to clear, an original to refund). */
export type KnownTransaction = Pick<
  TransactionRow,
  'id' | 'external_id' | 'type' | 'outcome' | 'reason' | 'cashback_id' | 'card_id' | 'user_id' | 'location_id'
> & { cashback_offer_id: string | null };

/**
 * The partner's transactions with these external ids, with the offer of their cashback (a relation,
 * in parentheses). Each id is looked up on its own through the (partner, external id) key: the
 * statement is prepared, and its generic plan, made from the statistics of the moment, could
 * otherwise read all of the partner's transactions and filter them by id (it did on a table not
 * yet analysed: a read that grows with the partner's history). The lateral subquery with its
 * LIMIT cannot be merged into a join, so every plan probes the key once per id.
 */
function namedTransactions(partnerId: string, externalIds: readonly string[]) {
  return sql`(select t.id, t.external_id, t.type, t.outcome, t.reason, t.cashback_id, t.card_id, t.user_id, t.location_id, c.offer_id as cashback_offer_id
    from (select distinct unnest(${externalIds}::text[])) as wanted_id(external_id)
    cross join lateral (
      select t.id, t.external_id, t.type, t.outcome, t.reason, t.cashback_id, t.card_id, t.user_id, t.location_id from transactions t
      where t.partner_id = ${partnerId} and t.external_id = wanted_id.external_id limit 1
    ) t
    left join cashbacks c on c.id = t.cashback_id)`;
}

/**
 * What a batch reads under its offer locks, as fields of a `json_build_object` (see UnderLocksJson),
 * over sets a statement gives as subqueries: `named`, the partner's transactions the batch names
 * (a relation like namedTransactions); the ids of its users; the ids of its offers. One text for
 * both statements that read it (readAndLockBatch, readUnderLocks). Rewards held are counted only on
 * offers with a per-user limit, the only ones that consult them: a count reads the user's cashback
 * history.
 */
function underLocksFields(sets: { named: RawBuilder<unknown>; userIds: RawBuilder<unknown>; offerIds: RawBuilder<unknown> }) {
  const { named, userIds, offerIds } = sets;
  return sql`'transactions', (select coalesce(json_agg(n), '[]') from ${named} n),
        'locations', (select coalesce(json_agg(json_build_object('id', l.id, 'merchant_id', l.merchant_id)), '[]')
          from locations l where l.id in (select n.location_id from ${named} n)),
        'activations', (select coalesce(json_agg(json_build_object('user_id', a.user_id, 'offer_id', a.offer_id, 'activated_at', a.activated_at)), '[]')
          from activations a where a.user_id in ${userIds} and a.offer_id in ${offerIds}),
        'held', (select coalesce(json_agg(h), '[]') from (
          select c.user_id, c.offer_id, count(*)::int as held from cashbacks c
          where c.user_id in ${userIds} and c.status != 'REVERSED'
            and c.offer_id in (select o.id from offers o where o.id in ${offerIds} and o.per_user_limit is not null)
          group by c.user_id, c.offer_id) h),
        'users', (select coalesce(json_agg(json_build_object('id', u.id, 'email', u.email, 'display_name', u.display_name)), '[]')
          from users u where u.id in ${userIds}),
        'merchants', (select coalesce(json_agg(json_build_object('id', m.id, 'name', m.name)), '[]')
          from merchants m where m.id in (select o.merchant_id from offers o where o.id in ${offerIds}))`;
}

/**
 * An offer row from its JSON (`row_to_json`): the timestamp columns (named `…_at`) become Dates
 * as the driver makes them; bigints are numbers in JSON already; the row's version is dropped.
 */
function offerFromJson(json: Record<string, unknown>): OfferRow {
  const row: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(json)) {
    if (key === 'row_version') continue;
    row[key] = typeof value === 'string' && key.endsWith('_at') ? new Date(value) : value;
  }
  return row as unknown as OfferRow;
}

/** What a batch reads under its offer locks (see `readAndLockBatch` and `readUnderLocks`). */
export interface UnderLocks {
  transactions: KnownTransaction[];
  activatedAt: Map<string, Date>;
  /** Rewards (cashback not reversed) each user holds on each offer that has a per-user limit, by `user:offer`. */
  held: Map<string, number>;
  merchantOfLocation: Map<string, string>;
  names: EmailNames;
}

type UnderLocksJson = {
  transactions: KnownTransaction[];
  locations: { id: string; merchant_id: string }[];
  activations: { user_id: string; offer_id: string; activated_at: string }[];
  held: { user_id: string; offer_id: string; held: number }[];
  users: { id: string; email: string; display_name: string }[];
  merchants: { id: string; name: string }[];
};

function underLocksOf(row: UnderLocksJson): UnderLocks {
  return {
    transactions: row.transactions,
    activatedAt: new Map(row.activations.map((r) => [`${r.user_id}:${r.offer_id}`, new Date(r.activated_at)])),
    held: new Map(row.held.map((r) => [`${r.user_id}:${r.offer_id}`, Number(r.held)])),
    merchantOfLocation: new Map(row.locations.map((l) => [l.id, l.merchant_id])),
    names: {
      users: new Map(row.users.map((u) => [u.id, { email: u.email, display_name: u.display_name }])),
      merchants: new Map(row.merchants.map((m) => [m.id, m.name])),
    },
  };
}

/**
 * Everything a batch reads, and (with `lock`) its offer locks, in ONE statement: the linked cards by fingerprint
 * or id, the locations of its (network, MID) pairs, the published cashback offers of approved
 * merchants there as (location, offer) pairs, the partner's transactions the batch names; then
 * the locks (FOR UPDATE, in id order) on those offers and on the offers of those transactions'
 * cashback, and what `readUnderLocks` reads (activations, rewards held, e-mail names).
 *
 * The locked offers are their latest committed rows (a lock waits for their writer, then takes
 * the new row), but the rest was read in the statement's snapshot, taken before the locks. Every
 * transaction that changes cashback on an offer also writes the offer's row (its budget), so when
 * each locked row is the very row of the snapshot, nothing the batch decides on changed between
 * the snapshot and the locks, and `underLocks` holds what a read under them would: the batch then
 * needs no second read. When one changed, `underLocks` is null and the caller reads again
 * (`readUnderLocks`). A new transaction with one of the batch's external ids cannot be detected
 * this way; the insert's unique key catches it, and the batch is retried.
 *
 * Without `lock` (a batch whose write is one statement, its own transaction) nothing is locked:
 * the write then requires every offer it changes to be at the version read here (`versions`).
 */
export async function readAndLockBatch(
  db: Kysely<DB>,
  partnerId: string,
  batch: { fingerprints: readonly string[]; cardIds: readonly string[]; mids: readonly { network: CardNetwork; mid: string }[]; externalIds: readonly string[] },
  options: { lock: boolean },
): Promise<{
  cards: LinkedCard[];
  locations: LocationByMid[];
  offerPairs: { location_id: string; offer_id: string }[];
  transactions: KnownTransaction[];
  offers: OfferRow[];
  /** Each offer's row version (`xmin`) as read: a write can require the offer to be unchanged since. */
  versions: Map<string, string>;
  underLocks: UnderLocks | null;
}> {
  type Context = UnderLocksJson & {
    cards: LinkedCard[];
    located: LocationByMid[];
    pairs: { location_id: string; offer_id: string }[];
    seen: { id: string; version: string }[];
  };
  // The context (JSON) comes on the first row only; each row is one locked offer as JSON (none: one
  // row with a null offer). JSON, not the offer's columns: the statement is prepared, and its
  // result columns must not change when the offers table gains one.
  const { rows } = await executePrepared(db, sql<{ ctx: Context | null; row_version: string | null; offer: Record<string, unknown> | null }>`
    with located as (
      select l.id, l.merchant_id, l.channel, l.country, l.timezone, m.network, m.mid
      from location_mids m
      join unnest(${batch.mids.map((m) => m.network)}::text[], ${batch.mids.map((m) => m.mid)}::text[]) as wanted(network, mid)
        on m.network = wanted.network and m.mid = wanted.mid
      join locations l on l.id = m.location_id
    ),
    linked as (
      select c.id, c.user_id, c.fingerprint, c.last4 from cards c
      where c.unlinked_at is null and (c.fingerprint = any(${batch.fingerprints}::text[]) or c.id = any(${batch.cardIds}::uuid[]))
    ),
    pairs as (
      select ol.location_id, ol.offer_id
      from offer_locations ol
      join offers o on o.id = ol.offer_id
      join merchants me on me.id = o.merchant_id
      where ol.location_id in (select id from located) and o.kind = 'CASHBACK' and o.state = 'PUBLISHED' and me.status = 'APPROVED'
    ),
    named as ${namedTransactions(partnerId, batch.externalIds)},
    wanted as (
      select offer_id as id from pairs union select cashback_offer_id from named where cashback_offer_id is not null
    ),
    ${
      options.lock
        ? sql`locked as materialized (
      select o.*, o.xmin::text as row_version from offers o where o.id in (select id from wanted) order by o.id for update
    ),`
        : sql`locked as (select o.*, o.xmin::text as row_version from offers o where o.id in (select id from wanted)),`
    }
    ctx as (
      select json_build_object(
        'cards', (select coalesce(json_agg(linked), '[]') from linked),
        'located', (select coalesce(json_agg(located), '[]') from located),
        'pairs', (select coalesce(json_agg(pairs), '[]') from pairs),
        'seen', (select coalesce(json_agg(json_build_object('id', o.id, 'version', o.xmin::text)), '[]') from offers o where o.id in (select id from wanted)),
        ${underLocksFields({ named: sql`named`, userIds: sql`(select user_id from linked)`, offerIds: sql`(select id from wanted)` })}
      ) as ctx
    )
    select case when coalesce(l.row_n, 1) = 1 then ctx.ctx end as ctx, l.row_version, l.offer
    from ctx left join (select row_number() over () as row_n, row_version, row_to_json(locked) as offer from locked) l on true`);
  const context = rows[0]!.ctx!;
  const offers: OfferRow[] = [];
  const versions = new Map<string, string>();
  const seen = new Map(context.seen.map((o) => [o.id, o.version]));
  let unchanged = true;
  for (const { row_version, offer } of rows) {
    if (offer === null || row_version === null) continue;
    const row = offerFromJson(offer);
    if (seen.get(row.id) !== row_version) unchanged = false;
    offers.push(row);
    versions.set(row.id, row_version);
  }
  return {
    cards: context.cards,
    locations: context.located,
    offerPairs: context.pairs,
    transactions: context.transactions,
    offers,
    versions,
    underLocks: unchanged ? underLocksOf(context) : null,
  };
}

/** Who an e-mail about cashback names: the user's address and name, the merchant's name. */
export interface EmailNames {
  users: Map<string, { email: string; display_name: string }>;
  merchants: Map<string, string>;
}

/**
 * What the batch reads under its offer locks, in one statement (so what committed before the
 * locks were granted is seen): the partner's transactions it names, again; when each (user,
 * offer) pair was activated; the rewards (cashback not reversed) each user holds on each offer
 * with a per-user limit; the merchant of each location those transactions matched; and the names
 * its e-mails need.
 */
export async function readUnderLocks(
  trx: Transaction<DB>,
  partnerId: string,
  batch: { externalIds: readonly string[]; userIds: readonly string[]; offerIds: readonly string[] },
): Promise<UnderLocks> {
  const { rows } = await executePrepared(trx, sql<{ ctx: UnderLocksJson }>`
    select json_build_object(${underLocksFields({
      named: namedTransactions(partnerId, batch.externalIds),
      userIds: sql`(select unnest(${batch.userIds}::uuid[]))`,
      offerIds: sql`(select unnest(${batch.offerIds}::uuid[]))`,
    })}) as ctx`);
  return underLocksOf(rows[0]!.ctx);
}

/** The merchant of each location (locations an earlier transaction matched, not in this batch's MIDs). */
export async function findMerchantsOfLocations(db: Kysely<DB>, locationIds: readonly string[]): Promise<Map<string, string>> {
  if (locationIds.length === 0) return new Map();
  const rows = await db.selectFrom('locations').select(['id', 'merchant_id']).where('id', 'in', [...locationIds]).execute();
  return new Map(rows.map((r) => [r.id, r.merchant_id]));
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
