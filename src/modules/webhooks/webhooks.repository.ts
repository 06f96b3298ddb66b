/**
 * All SQL of webhooks: endpoints, deliveries and attempts (this module's tables), plus the
 * read-only lookups that authorize events for partner endpoints (which partner sent a transaction,
 * or the purchase behind a cashback or a statement credit). Executor first; writes inside a command take a
 * Transaction.
 */
import { sql, type Kysely, type Transaction } from 'kysely';
import type { DB, WebhookAttemptRow, WebhookDeliveryRow, WebhookDeliveryStatus, WebhookEndpointRow, WebhookEndpointsTable } from '../../../db/types.js';
import type { Insertable, Updateable } from 'kysely';

export type EndpointOwner = { merchantId: string; partnerId?: undefined } | { partnerId: string; merchantId?: undefined };

export async function insertEndpoint(trx: Transaction<DB>, row: Insertable<WebhookEndpointsTable>): Promise<WebhookEndpointRow> {
  return trx.insertInto('webhook_endpoints').values(row).returningAll().executeTakeFirstOrThrow();
}

/** Endpoints by id that belong to `owner`. */
export async function findEndpointsOfOwner(db: Kysely<DB>, owner: EndpointOwner, ids?: readonly string[]): Promise<WebhookEndpointRow[]> {
  let query = db.selectFrom('webhook_endpoints').selectAll();
  query = owner.merchantId ? query.where('merchant_id', '=', owner.merchantId) : query.where('partner_id', '=', owner.partnerId!);
  if (ids) {
    if (ids.length === 0) return [];
    query = query.where('id', 'in', [...ids]);
  }
  return query.orderBy('created_at').orderBy('id').execute();
}

export async function findEndpointById(db: Kysely<DB>, id: string): Promise<WebhookEndpointRow | undefined> {
  return db.selectFrom('webhook_endpoints').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function lockEndpoint(trx: Transaction<DB>, owner: EndpointOwner, id: string): Promise<WebhookEndpointRow | undefined> {
  let query = trx.selectFrom('webhook_endpoints').selectAll().where('id', '=', id);
  query = owner.merchantId ? query.where('merchant_id', '=', owner.merchantId) : query.where('partner_id', '=', owner.partnerId!);
  return query.forUpdate().executeTakeFirst();
}

export async function updateEndpoint(trx: Transaction<DB>, id: string, patch: Updateable<WebhookEndpointsTable>, now: Date): Promise<WebhookEndpointRow> {
  return trx.updateTable('webhook_endpoints').set({ ...patch, updated_at: now }).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
}

/** Moves an endpoint's cursor through the event log (the dispatcher, in the transaction of its deliveries). */
export async function moveEndpointCursor(trx: Transaction<DB>, id: string, cursor: number): Promise<void> {
  await trx.updateTable('webhook_endpoints').set({ cursor }).where('id', '=', id).execute();
}

/** Replaces an endpoint's sealed secrets (key rotation of the ring); the secrets themselves are unchanged. */
export async function resealEndpointSecrets(
  trx: Transaction<DB>,
  id: string,
  current: { keyId: string; ciphertext: string },
  previous: { keyId: string; ciphertext: string } | null,
): Promise<void> {
  await trx
    .updateTable('webhook_endpoints')
    .set({
      secret_key_id: current.keyId,
      secret_ciphertext: current.ciphertext,
      previous_secret_key_id: previous?.keyId ?? null,
      previous_secret_ciphertext: previous?.ciphertext ?? null,
    })
    .where('id', '=', id)
    .execute();
}

/** Disables an enabled endpoint; undefined when it was not enabled (or is gone). */
export async function disableEnabledEndpoint(trx: Transaction<DB>, id: string, reason: string, now: Date): Promise<WebhookEndpointRow | undefined> {
  return trx
    .updateTable('webhook_endpoints')
    .set({ status: 'DISABLED', disabled_reason: reason, updated_at: now })
    .where('id', '=', id)
    .where('status', '=', 'ENABLED')
    .returningAll()
    .executeTakeFirst();
}

export async function deleteEndpointRow(trx: Transaction<DB>, id: string): Promise<void> {
  await trx.deleteFrom('webhook_endpoints').where('id', '=', id).execute();
}

/**
 * Enabled endpoints behind the log's head with room for another delivery, the furthest behind
 * first, locked for this dispatcher (others skip them).
 */
export async function lockEndpointsBehind(trx: Transaction<DB>, head: number, maxInFlight: number, limit: number): Promise<WebhookEndpointRow[]> {
  return trx
    .selectFrom('webhook_endpoints as e')
    .selectAll('e')
    .where('e.status', '=', 'ENABLED')
    .where('e.cursor', '<', head)
    .where(
      (eb) =>
        eb
          .selectFrom('webhook_deliveries as d')
          .select(sql<number>`count(*)`.as('n'))
          .whereRef('d.endpoint_id', '=', 'e.id')
          .where('d.status', '=', 'PENDING'),
      '<',
      maxInFlight,
    )
    .orderBy('e.cursor')
    .orderBy('e.id')
    .limit(limit)
    .forUpdate()
    .skipLocked()
    .execute();
}

/** Pending deliveries per endpoint. */
export async function countPendingDeliveries(db: Kysely<DB>, endpointIds: readonly string[]): Promise<Map<string, number>> {
  if (endpointIds.length === 0) return new Map();
  const rows = await db
    .selectFrom('webhook_deliveries')
    .select(['endpoint_id', sql<string>`count(*)`.as('n')])
    .where('endpoint_id', 'in', [...endpointIds])
    .where('status', '=', 'PENDING')
    .groupBy('endpoint_id')
    .execute();
  return new Map(rows.map((r) => [r.endpoint_id, Number(r.n)]));
}

/**
 * The partner whose transaction is behind each subject (`Transaction:<id>`, `Cashback:<id>`,
 * `StatementCredit:<id>`):
 * what a partner may read through the API. Read-only look at the cashback and credits tables.
 */
export async function partnersOfSubjects(db: Kysely<DB>, subjects: readonly { type: string; id: string }[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const cashbackIds = [...new Set(subjects.filter((s) => s.type === 'Cashback').map((s) => s.id))];
  const creditIds = [...new Set(subjects.filter((s) => s.type === 'StatementCredit').map((s) => s.id))];
  const endpointIds = [...new Set(subjects.filter((s) => s.type === 'WebhookEndpoint').map((s) => s.id))];
  const transactionIds = [...new Set(subjects.filter((s) => s.type === 'Transaction').map((s) => s.id))];
  if (transactionIds.length > 0) {
    // A partner reads the transactions it sent (and no other partner's).
    const rows = await db.selectFrom('transactions').select(['id', 'partner_id']).where('id', 'in', transactionIds).execute();
    for (const r of rows) out.set(`Transaction:${r.id}`, r.partner_id);
  }
  if (cashbackIds.length > 0) {
    const rows = await db
      .selectFrom('cashbacks as c')
      .innerJoin('transactions as t', 't.id', 'c.purchase_transaction_id')
      .select(['c.id', 't.partner_id'])
      .where('c.id', 'in', cashbackIds)
      .execute();
    for (const r of rows) out.set(`Cashback:${r.id}`, r.partner_id);
  }
  if (creditIds.length > 0) {
    const rows = await db
      .selectFrom('statement_credits as sc')
      .innerJoin('cashbacks as c', 'c.id', 'sc.cashback_id')
      .innerJoin('transactions as t', 't.id', 'c.purchase_transaction_id')
      .innerJoin('partners as p', 'p.id', 't.partner_id')
      // Partners read statement credits through the API only with credits:write.
      .where(sql<boolean>`'credits:write' = any(p.scopes)`)
      .select(['sc.id', 't.partner_id'])
      .where('sc.id', 'in', creditIds)
      .execute();
    for (const r of rows) out.set(`StatementCredit:${r.id}`, r.partner_id);
  }
  const replyIds = [...new Set(subjects.filter((s) => s.type === 'SocialReply').map((s) => s.id))];
  if (replyIds.length > 0) {
    // A social partner reads the replies to the posts it delivered.
    const rows = await db.selectFrom('social_replies').select(['id', 'partner_id']).where('id', 'in', replyIds).execute();
    for (const r of rows) out.set(`SocialReply:${r.id}`, r.partner_id);
  }
  if (endpointIds.length > 0) {
    const rows = await db.selectFrom('webhook_endpoints').select(['id', 'partner_id']).where('id', 'in', endpointIds).where('partner_id', 'is not', null).execute();
    for (const r of rows) out.set(`WebhookEndpoint:${r.id}`, r.partner_id!);
  }
  return out;
}

export type NewDelivery = Pick<WebhookDeliveryRow, 'endpoint_id' | 'message_id' | 'event_type' | 'body'> &
  Partial<Pick<WebhookDeliveryRow, 'event_id' | 'event_position' | 'generation'>>;

export async function insertDeliveries(trx: Transaction<DB>, rows: readonly NewDelivery[]): Promise<string[]> {
  if (rows.length === 0) return [];
  const inserted = await trx
    .insertInto('webhook_deliveries')
    .values(rows.map((r) => ({ ...r })))
    .onConflict((oc) => oc.columns(['endpoint_id', 'event_id', 'generation']).where('event_id', 'is not', null).doNothing())
    .returning('id')
    .execute();
  return inserted.map((r) => String(r.id));
}

export async function findDeliveryWithEndpoint(db: Kysely<DB>, deliveryId: string) {
  return db
    .selectFrom('webhook_deliveries as d')
    .innerJoin('webhook_endpoints as e', 'e.id', 'd.endpoint_id')
    .select([
      'd.id',
      'd.message_id',
      'd.body',
      'd.status',
      'd.attempts',
      'e.id as endpoint_id',
      'e.url',
      'e.status as endpoint_status',
      'e.secret_key_id',
      'e.secret_ciphertext',
      'e.previous_secret_key_id',
      'e.previous_secret_ciphertext',
      'e.previous_secret_expires_at',
    ])
    .where('d.id', '=', deliveryId)
    .executeTakeFirst();
}

/**
 * Settles a delivery and, when an attempt was made, records it, in one statement (a
 * data-modifying CTE): the settling transaction's round trips are what a sender waits on.
 * Returns the delivery's endpoint, or undefined when the delivery is gone.
 */
export async function settleDelivery(
  trx: Transaction<DB>,
  deliveryId: string,
  change: { status: WebhookDeliveryStatus; now: Date; attempt: Omit<WebhookAttemptRow, 'id' | 'delivery_id'> | null },
): Promise<{ endpoint_id: string } | undefined> {
  const { attempt } = change;
  const settle = trx
    .updateTable('webhook_deliveries')
    .set((eb) => ({
      attempts: attempt ? eb('attempts', '+', 1) : eb.ref('attempts'),
      status: change.status,
      finished_at: change.status === 'PENDING' ? null : change.now,
    }))
    .where('id', '=', deliveryId)
    .returning(['id', 'endpoint_id']);
  if (!attempt) return settle.executeTakeFirst();
  return trx
    .with('settled', () => settle)
    .with('attempt', (db) =>
      db
        .insertInto('webhook_attempts')
        .columns(['delivery_id', 'attempted_at', 'http_status', 'duration_ms', 'error', 'response_body'])
        .expression((eb) =>
          eb
            .selectFrom('settled')
            .select(() => [
              sql.ref<string>('settled.id').as('delivery_id'),
              sql<Date>`${attempt.attempted_at}::timestamptz`.as('attempted_at'),
              sql<number | null>`${attempt.http_status}::integer`.as('http_status'),
              sql<number>`${attempt.duration_ms}::integer`.as('duration_ms'),
              sql<string | null>`${attempt.error}::text`.as('error'),
              sql<string | null>`${attempt.response_body}::text`.as('response_body'),
            ]),
        ),
    )
    .selectFrom('settled')
    .select('settled.endpoint_id')
    .executeTakeFirst();
}

/**
 * A delivery succeeded: the endpoint stops failing. Its row is written only when it was failing:
 * a healthy endpoint's row is not locked and rewritten by every delivery, which serialised every
 * sender of one endpoint behind that row lock.
 */
export async function clearEndpointFailing(trx: Transaction<DB>, endpointId: string): Promise<void> {
  await trx.updateTable('webhook_endpoints').set({ failing_since: null }).where('id', '=', endpointId).where('failing_since', 'is not', null).execute();
}

/** A delivery failed: the endpoint is failing since now, unless it already was; returns the endpoint. */
export async function markEndpointFailing(trx: Transaction<DB>, endpointId: string, now: Date): Promise<WebhookEndpointRow | undefined> {
  return trx
    .updateTable('webhook_endpoints')
    .set((eb) => ({ failing_since: eb.fn.coalesce('failing_since', sql<Date>`${now}::timestamptz`) }))
    .where('id', '=', endpointId)
    .returningAll()
    .executeTakeFirst();
}

export async function listDeliveries(
  db: Kysely<DB>,
  endpointId: string,
  options: { status?: WebhookDeliveryStatus | null; beforeId?: string; limit: number },
): Promise<WebhookDeliveryRow[]> {
  let query = db.selectFrom('webhook_deliveries').selectAll().where('endpoint_id', '=', endpointId);
  if (options.status) query = query.where('status', '=', options.status);
  if (options.beforeId) query = query.where('id', '<', options.beforeId);
  return query.orderBy('id', 'desc').limit(options.limit).execute();
}

export async function attemptsOfDeliveries(db: Kysely<DB>, deliveryIds: readonly string[]): Promise<WebhookAttemptRow[]> {
  if (deliveryIds.length === 0) return [];
  return db.selectFrom('webhook_attempts').selectAll().where('delivery_id', 'in', [...deliveryIds]).orderBy('id').execute();
}

/** The position just before the first event at or after `since` (head when none). */
export async function positionBefore(db: Kysely<DB>, since: Date): Promise<number> {
  const row = await db
    .selectFrom('events')
    .select(sql<string>`coalesce(min(position) - 1, (select coalesce(max(position), 0) from events))`.as('p'))
    .where('position', 'is not', null)
    .where('created_at', '>=', since)
    .executeTakeFirst();
  return Number(row?.p ?? 0);
}

/** Endpoints with a secret sealed under another key than `activeKeyId`, locked (batch of a rotation). */
export async function lockEndpointsSealedUnderOtherKeys(trx: Transaction<DB>, activeKeyId: string, limit: number): Promise<WebhookEndpointRow[]> {
  return trx
    .selectFrom('webhook_endpoints')
    .selectAll()
    .where((eb) => eb.or([eb('secret_key_id', '<>', activeKeyId), eb('previous_secret_key_id', '<>', activeKeyId)]))
    .orderBy('id')
    .limit(limit)
    .forUpdate()
    .skipLocked()
    .execute();
}
