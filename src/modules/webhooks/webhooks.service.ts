/**
 * Webhook endpoints of partners and merchants: registering, changing, disabling, rotating secrets,
 * test messages, the delivery log and replay. Endpoints are visible to their owner only (anyone
 * else: not found). Secrets are sealed under the card key ring and shown once, on creation and on
 * rotation. Also what the dispatcher needs: which events an endpoint may receive, and their body.
 */
import { randomUUID } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type { DB, EventRow, WebhookDeliveryRow, WebhookDeliveryStatus, WebhookEndpointRow } from '../../../db/types.js';
import type { Context } from '../../context.js';
import { enqueueMany } from '../../jobs/queue.js';
import { fail, notFound } from '../../lib/errors.js';
import { idempotentCommand, type Replay, type WithIdempotencyKey } from '../../lib/idempotency.js';
import { encodeGlobalId, isUuid, parseGlobalId } from '../../lib/ids.js';
import { decodeCursor, encodeCursor, toPage, type Page } from '../../lib/pagination.js';
import { headPosition, sequenceCommitted } from '../../outbox/outbox.repository.js';
import type { Topic } from '../../outbox/topics.js';
import { openSecret, sealSecret, type CardKeyRing } from '../cards/card-crypto.js';
import { MODULES } from '../index.js';
import {
  attemptsOfDeliveries,
  deleteEndpointRow,
  findEndpointById,
  findEndpointsOfOwner,
  insertDeliveries,
  insertEndpoint,
  listDeliveries,
  lockEndpoint,
  lockEndpointsSealedUnderOtherKeys,
  resealEndpointSecrets,
  positionBefore,
  updateEndpoint,
  type EndpointOwner,
} from './webhooks.repository.js';
import { checkEndpointUrl, hostOf, newWebhookSecret, parseRetrySchedule } from './webhooks.rules.js';
import { AddressNotAllowedError, resolveAllowed } from './webhook-sender.js';

/** The queue that sends deliveries: one job per delivery, keyed by its id. */
export const WEBHOOK_QUEUE = 'webhooks';
/** What the sealed secrets are for (authenticated with the ciphertext). */
export const SECRET_PURPOSE = 'webhook secret';
export const MAX_OVERLAP_HOURS = 7 * 24;
const MAX_EVENT_TYPES = 100;
/** The type of the message sendTestWebhook sends (not an event of the log). */
export const TEST_EVENT_TYPE = 'webhook_endpoint.test';

export interface WebhookJobPayload {
  deliveryId: string;
}

// ---------------------------------------------------------------- the event-type registry

let registry: Map<string, { topic: Topic; type: string }> | undefined;

/** Dotted event type → its topic and stored type, from every module's topics (one registry with the outbox). */
export function eventTypeRegistry(): Map<string, { topic: Topic; type: string }> {
  registry ??= new Map(MODULES.flatMap((m) => m.topics ?? []).flatMap((topic) => topic.types.map((type) => [topic.dotted(type), { topic, type }] as const)));
  return registry;
}

const topicsByName = () => new Map([...eventTypeRegistry().values()].map((v) => [v.topic.name, v.topic]));

/** The receiver-facing dotted type of a stored event. */
export function dottedTypeOf(event: Pick<EventRow, 'topic' | 'type'>): string | undefined {
  return topicsByName().get(event.topic)?.dotted(event.type);
}

// ---------------------------------------------------------------- owners and visibility

function ownerOf(ctx: Context): EndpointOwner | undefined {
  const p = ctx.principal;
  if (p.kind === 'merchant') return { merchantId: p.merchantId };
  if (p.kind === 'partner') return { partnerId: p.partnerId };
  return undefined;
}

function requireOwner(ctx: Context): EndpointOwner {
  const owner = ownerOf(ctx);
  if (owner) return owner;
  if (ctx.principal.kind === 'anonymous') fail('UNAUTHENTICATED', 'Webhook endpoints need a partner or merchant API key.');
  return fail('FORBIDDEN', 'Only partners and merchants have webhook endpoints.');
}

/** The caller's own endpoints among `ids` (the WebhookEndpoint node's loader): nobody else's. */
export async function loadVisibleEndpoints(ctx: Context, ids: readonly string[]): Promise<WebhookEndpointRow[]> {
  const owner = ownerOf(ctx);
  return owner ? findEndpointsOfOwner(ctx.db, owner, ids) : [];
}

export async function listOwnEndpoints(ctx: Context, owner: EndpointOwner): Promise<WebhookEndpointRow[]> {
  const mine = ownerOf(ctx);
  if (!mine || mine.merchantId !== owner.merchantId || mine.partnerId !== owner.partnerId) return [];
  return findEndpointsOfOwner(ctx.db, owner);
}

/**
 * An answer holding the endpoint row: replays store its id and read it again; a secret in the
 * answer is never stored, so a replay answers `secret: null` (it was shown once).
 */
function endpointReplay<T extends { endpoint: WebhookEndpointRow }>(): Replay<T, Record<string, unknown>> {
  return {
    save: ({ endpoint, ...rest }) => ({ ...rest, ...('secret' in rest ? { secret: null } : {}), endpointId: endpoint.id }),
    load: async (trx, { endpointId, ...rest }) => {
      const endpoint = await findEndpointById(trx, String(endpointId));
      if (!endpoint) return notFound('Webhook endpoint', ['idempotencyKey']);
      return { ...rest, endpoint } as unknown as T;
    },
  };
}

/** One command on one of the caller's endpoints: its one transaction, idempotent with the input's key. */
async function withOwnEndpoint<T>(
  ctx: Context,
  operation: string,
  input: { endpointId: string } & WithIdempotencyKey,
  run: (trx: Transaction<DB>, endpoint: WebhookEndpointRow, owner: EndpointOwner) => Promise<T>,
  replay?: Replay<T, any>,
): Promise<T> {
  const owner = requireOwner(ctx);
  const id = parseGlobalId(input.endpointId, 'WebhookEndpoint', ['endpointId']);
  const { idempotencyKey, ...request } = input;
  return idempotentCommand(
    ctx,
    { operation, key: idempotencyKey, request },
    async (trx) => {
      const endpoint = isUuid(id) ? await lockEndpoint(trx, owner, id) : undefined;
      if (!endpoint) return notFound('Webhook endpoint', ['endpointId']);
      return run(trx, endpoint, owner);
    },
    replay,
  );
}

// ---------------------------------------------------------------- inputs

async function checkedUrl(ctx: Context, value: string): Promise<string> {
  const allowPrivateNetworks = ctx.config.webhooks.allowPrivateNetworks;
  const checked = checkEndpointUrl(value.trim(), { production: ctx.config.nodeEnv === 'production', allowPrivateNetworks });
  if (!(checked instanceof URL)) return fail(checked.code, checked.message, ['url']);
  try {
    await resolveAllowed(hostOf(checked), allowPrivateNetworks);
  } catch (error) {
    if (error instanceof AddressNotAllowedError) fail('WEBHOOK_ADDRESS_NOT_ALLOWED', error.message, ['url']);
    fail('WEBHOOK_URL_INVALID', 'The URL\'s host does not resolve.', ['url']);
  }
  return checked.toString();
}

function checkedEventTypes(types: readonly string[]): string[] {
  if (types.length > MAX_EVENT_TYPES) fail('INVALID_LENGTH', `At most ${MAX_EVENT_TYPES} event types.`, ['eventTypes']);
  const known = eventTypeRegistry();
  types.forEach((type, i) => {
    if (!known.has(type)) fail('WEBHOOK_EVENT_TYPE_UNKNOWN', `"${type.slice(0, 60)}" is not an event type (see webhookEventTypes).`, ['eventTypes', String(i)]);
  });
  return [...new Set(types)];
}

function checkedDescription(value: string | null | undefined): string {
  const description = (value ?? '').trim();
  if (description.length > 500) fail('INVALID_LENGTH', 'The description is longer than 500 characters.', ['description']);
  return description;
}

const sealed = (ring: CardKeyRing, secret: string) => {
  const s = sealSecret(ring, secret, SECRET_PURPOSE);
  return { keyId: s.keyId, ciphertext: s.ciphertext };
};

// ---------------------------------------------------------------- commands

export async function createWebhookEndpoint(ctx: Context, input: { url: string; eventTypes?: readonly string[] | null; description?: string | null } & WithIdempotencyKey) {
  const owner = requireOwner(ctx);
  const url = await checkedUrl(ctx, input.url);
  const eventTypes = checkedEventTypes(input.eventTypes ?? []);
  const description = checkedDescription(input.description);
  const secret = newWebhookSecret();
  const seal = sealed(ctx.security.cards.ring, secret);
  const { idempotencyKey, ...request } = input;
  // Events from now on: those committed before this call get their positions first.
  await sequenceCommitted(ctx.db);
  return idempotentCommand<{ endpoint: WebhookEndpointRow; secret: string | null }, Record<string, unknown>>(
    ctx,
    { operation: 'createWebhookEndpoint', key: idempotencyKey, request },
    async (trx) => ({
      secret,
      endpoint: await insertEndpoint(trx, {
      merchant_id: owner.merchantId ?? null,
      partner_id: owner.partnerId ?? null,
      url,
      description,
      event_types: eventTypes,
      secret_key_id: seal.keyId,
      secret_ciphertext: seal.ciphertext,
      // Events from now on; older ones are a replay away.
        cursor: await headPosition(trx),
      }),
    }),
    endpointReplay(),
  );
}

export async function updateWebhookEndpoint(
  ctx: Context,
  input: { endpointId: string; url?: string | null; eventTypes?: readonly string[] | null; description?: string | null } & WithIdempotencyKey,
) {
  requireOwner(ctx); // who may, before what they sent
  const url = input.url === undefined || input.url === null ? undefined : await checkedUrl(ctx, input.url);
  const eventTypes = input.eventTypes ? checkedEventTypes(input.eventTypes) : undefined;
  const description = input.description === undefined || input.description === null ? undefined : checkedDescription(input.description);
  return withOwnEndpoint(
    ctx,
    'updateWebhookEndpoint',
    input,
    async (trx, endpoint) => ({ endpoint: await updateEndpoint(trx, endpoint.id, { url, event_types: eventTypes, description }, new Date()) }),
    endpointReplay(),
  );
}

export async function disableWebhookEndpoint(ctx: Context, input: { endpointId: string } & WithIdempotencyKey) {
  return withOwnEndpoint(
    ctx,
    'disableWebhookEndpoint',
    input,
    async (trx, endpoint) => ({
      endpoint:
        endpoint.status === 'DISABLED' ? endpoint : await updateEndpoint(trx, endpoint.id, { status: 'DISABLED', disabled_reason: 'Disabled by its owner.' }, new Date()),
    }),
    endpointReplay(),
  );
}

/** Enabling starts from the log's head: what happened while disabled is replayed only on request. */
export async function enableWebhookEndpoint(ctx: Context, input: { endpointId: string } & WithIdempotencyKey) {
  await sequenceCommitted(ctx.db);
  return withOwnEndpoint(
    ctx,
    'enableWebhookEndpoint',
    input,
    async (trx, endpoint) => ({
      endpoint:
        endpoint.status === 'ENABLED'
          ? endpoint
          : await updateEndpoint(trx, endpoint.id, { status: 'ENABLED', disabled_reason: null, failing_since: null, cursor: await headPosition(trx) }, new Date()),
    }),
    endpointReplay(),
  );
}

export async function rotateWebhookSecret(ctx: Context, input: { endpointId: string; overlapHours?: number | null } & WithIdempotencyKey) {
  const overlapHours = input.overlapHours ?? 24;
  if (!Number.isInteger(overlapHours) || overlapHours < 0 || overlapHours > MAX_OVERLAP_HOURS) {
    fail('OUT_OF_RANGE', `overlapHours must be from 0 to ${MAX_OVERLAP_HOURS}.`, ['overlapHours']);
  }
  const secret = newWebhookSecret();
  const seal = sealed(ctx.security.cards.ring, secret);
  const now = new Date();
  return withOwnEndpoint<{ secret: string | null; endpoint: WebhookEndpointRow }>(ctx, 'rotateWebhookSecret', input, async (trx, endpoint) => ({
    secret,
    endpoint: await updateEndpoint(
      trx,
      endpoint.id,
      {
        secret_key_id: seal.keyId,
        secret_ciphertext: seal.ciphertext,
        previous_secret_key_id: overlapHours > 0 ? endpoint.secret_key_id : null,
        previous_secret_ciphertext: overlapHours > 0 ? endpoint.secret_ciphertext : null,
        previous_secret_expires_at: overlapHours > 0 ? new Date(now.getTime() + overlapHours * 3_600_000) : null,
      },
      now,
    ),
  }), endpointReplay());
}

export async function deleteWebhookEndpoint(ctx: Context, input: { endpointId: string } & WithIdempotencyKey) {
  return withOwnEndpoint(ctx, 'deleteWebhookEndpoint', input, async (trx, endpoint) => {
    await deleteEndpointRow(trx, endpoint.id);
    return { deletedEndpointId: encodeGlobalId('WebhookEndpoint', endpoint.id) };
  });
}

/** Queues deliveries in the caller's transaction, one job each (attempts: the retry schedule's length). */
export async function queueDeliveries(trx: Transaction<DB>, maxAttempts: number, rows: Parameters<typeof insertDeliveries>[1]): Promise<string[]> {
  const ids = await insertDeliveries(trx, rows);
  await enqueueMany(
    trx,
    WEBHOOK_QUEUE,
    ids.map((id) => ({ key: id, payload: { deliveryId: id } satisfies WebhookJobPayload, maxAttempts })),
  );
  return ids;
}

export async function sendTestWebhook(ctx: Context, input: { endpointId: string } & WithIdempotencyKey) {
  const maxAttempts = parseRetrySchedule(ctx.config.webhooks.retrySchedule).length;
  return withOwnEndpoint<{ endpoint: WebhookEndpointRow; messageId: string; deliveryId: string }>(ctx, 'sendTestWebhook', input, async (trx, endpoint) => {
    const messageId = `msg_test_${randomUUID().replaceAll('-', '')}`;
    const body = JSON.stringify({ type: TEST_EVENT_TYPE, timestamp: new Date().toISOString(), data: { cursor: null, test: true } });
    const [id] = await queueDeliveries(trx, maxAttempts, [{ endpoint_id: endpoint.id, message_id: messageId, event_type: TEST_EVENT_TYPE, body }]);
    return { endpoint, messageId, deliveryId: id! };
  }, endpointReplay());
}

/**
 * Sends again every event after a cursor (or since a time) that the endpoint may receive: the
 * endpoint's cursor moves back there and a new generation of deliveries begins, through the same
 * dispatcher (and in-flight limit) as live events, with the same webhook-ids.
 */
export async function replayWebhookEvents(ctx: Context, input: { endpointId: string; after?: string | null; since?: Date | null } & WithIdempotencyKey) {
  requireOwner(ctx); // who may, before what they sent
  if ((input.after == null) === (input.since == null)) fail('INVALID_INPUT', 'Give exactly one of after and since.', ['after']);
  let position: number;
  if (input.after != null) {
    try {
      position = decodeCursor(input.after, ['int'] as const)[0];
    } catch {
      return fail('INVALID_INPUT', 'after is not an event cursor.', ['after']);
    }
    if (position < 0) fail('INVALID_INPUT', 'after is not an event cursor.', ['after']);
  }
  return withOwnEndpoint<{ endpoint: WebhookEndpointRow; replayFrom: string }>(ctx, 'replayWebhookEvents', input, async (trx, endpoint) => {
    position ??= await positionBefore(trx, input.since!);
    const from = Math.min(position, Number(endpoint.cursor));
    const updated = await updateEndpoint(trx, endpoint.id, { cursor: from, generation: endpoint.generation + 1 }, new Date());
    return { endpoint: updated, replayFrom: encodeCursor([from]) };
  }, endpointReplay());
}

// ---------------------------------------------------------------- the delivery log

export type DeliveryWithAttempts = WebhookDeliveryRow & { attemptRows: Awaited<ReturnType<typeof attemptsOfDeliveries>> };

export async function listWebhookDeliveries(
  ctx: Context,
  args: { endpointId: string; status?: WebhookDeliveryStatus | null; first: number; after?: string | null },
): Promise<Page<DeliveryWithAttempts>> {
  const owner = ownerOf(ctx);
  const id = parseGlobalId(args.endpointId, 'WebhookEndpoint', ['endpointId']);
  const empty = toPage<DeliveryWithAttempts>([], args.first, args.after, () => '');
  if (!owner || !isUuid(id) || (await findEndpointsOfOwner(ctx.db, owner, [id])).length === 0) return empty;
  const beforeId = args.after ? String(decodeCursor(args.after, ['int'] as const)[0]) : undefined;
  const rows = await listDeliveries(ctx.db, id, { status: args.status, beforeId, limit: args.first + 1 });
  const attempts = await attemptsOfDeliveries(ctx.db, rows.slice(0, args.first).map((r) => String(r.id)));
  const withAttempts = rows.map((r) => ({ ...r, attemptRows: attempts.filter((a) => String(a.delivery_id) === String(r.id)) }));
  return toPage(withAttempts, args.first, args.after, (r) => encodeCursor([Number(r.id)]));
}

// ---------------------------------------------------------------- for the delivery worker

/** The secrets that sign now: the current one, and the previous one during a rotation's overlap. */
export function signingSecrets(
  ring: CardKeyRing,
  endpoint: Pick<WebhookEndpointRow, 'secret_key_id' | 'secret_ciphertext' | 'previous_secret_key_id' | 'previous_secret_ciphertext' | 'previous_secret_expires_at'>,
  now: Date,
): string[] {
  const secrets = [openSecret(ring, { keyId: endpoint.secret_key_id, ciphertext: endpoint.secret_ciphertext }, SECRET_PURPOSE)];
  if (endpoint.previous_secret_ciphertext && endpoint.previous_secret_key_id && endpoint.previous_secret_expires_at && endpoint.previous_secret_expires_at > now) {
    secrets.push(openSecret(ring, { keyId: endpoint.previous_secret_key_id, ciphertext: endpoint.previous_secret_ciphertext }, SECRET_PURPOSE));
  }
  return secrets;
}

/**
 * Re-seals every webhook secret under the ring's active key (part of `npm run rotate-card-keys`),
 * in locked batches; returns how many endpoints moved.
 */
export async function resealWebhookSecrets(db: Kysely<DB>, ring: CardKeyRing, batch = 500): Promise<number> {
  let moved = 0;
  for (;;) {
    const done = await db.transaction().execute(async (trx) => {
      const endpoints = await lockEndpointsSealedUnderOtherKeys(trx, ring.activeKeyId, batch);
      for (const e of endpoints) {
        const current = sealSecret(ring, openSecret(ring, { keyId: e.secret_key_id, ciphertext: e.secret_ciphertext }, SECRET_PURPOSE), SECRET_PURPOSE);
        const previous =
          e.previous_secret_key_id && e.previous_secret_ciphertext
            ? sealSecret(ring, openSecret(ring, { keyId: e.previous_secret_key_id, ciphertext: e.previous_secret_ciphertext }, SECRET_PURPOSE), SECRET_PURPOSE)
            : null;
        await resealEndpointSecrets(trx, e.id, current, previous);
      }
      return endpoints.length;
    });
    moved += done;
    if (done < batch) return moved;
  }
}
