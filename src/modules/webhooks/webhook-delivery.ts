/**
 * Delivery: a dispatcher turns the event log into deliveries, and the `webhooks` queue sends them.
 *
 * The dispatcher (a job in every instance) locks the enabled endpoints behind the log's head
 * (SKIP LOCKED: another instance takes the others), and for each reads the events after its
 * cursor, keeps those its owner may read and listens to, writes one delivery (and its queue job)
 * per event while fewer than WEBHOOK_MAX_IN_FLIGHT deliveries are pending, and moves the cursor
 * past what it read, all in one transaction: an event becomes a delivery exactly once.
 *
 * The queue's worker sends each delivery (claim + lease: one sender at a time across instances)
 * and records the attempt, the delivery's state and the endpoint's health in the transaction
 * that settles the job, only while it holds the lease. A crash after the receiver answered and
 * before that record sends the delivery again after the lease: same webhook-id, so the receiver
 * drops the duplicate.
 */
import { randomUUID } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type { DB, QueuedJobRow } from '../../../db/types.js';
import type { Config } from '../../config.js';
import { workQueue, type JobOutcome, type QueueHandler } from '../../jobs/queue.js';
import type { Job } from '../../jobs/job-runner.js';
import { encodeGlobalId } from '../../lib/ids.js';
import type { Logger } from '../../logger.js';
import { fetchEventsAfter, headPosition, insertEvents, sequenceEvents } from '../../outbox/outbox.repository.js';
import type { CardKeyRing } from '../cards/card-crypto.js';
import { eventCursor } from '../../live/streams.js';
import {
  countPendingDeliveries,
  disableEnabledEndpoint,
  moveEndpointCursor,
  findDeliveryWithEndpoint,
  clearEndpointFailing,
  lockEndpointsBehind,
  markEndpointFailing,
  partnersOfSubjects,
  settleDelivery,
  type NewDelivery,
} from './webhooks.repository.js';
import { composeEndpointDisabledEmail, matchesEventTypes, mayReceive, parseRetryAfter, parseRetrySchedule, receiverData, retryDelayMs, signatureHeader, verdictOf } from './webhooks.rules.js';
import { truncate } from '../../lib/text.js';
import { dottedTypeOf, eventTypeRegistry, queueDeliveries, signingSecrets, WEBHOOK_QUEUE, type WebhookJobPayload } from './webhooks.service.js';
import { sendWebhook, type SendResult } from './webhook-sender.js';
import { WEBHOOK_ENDPOINT_TOPIC } from './webhooks.topics.js';
import { insertEmails } from '../emails/emails.service.js';
import { findMerchantById } from '../merchants/merchants.service.js';
import { findPartnerById } from '../partners/partners.service.js';

/** Endpoints one dispatcher transaction handles; events read per endpoint and round. */
const ENDPOINTS_PER_ROUND = 200;
const EVENTS_PER_ENDPOINT = 500;
const STORED_BODY_CHARS = 2000;
/** How long one runner round may keep sending while deliveries remain (the instance's other jobs wait meanwhile). */
const SEND_ROUND_MS = 500;

export interface WebhookDeps {
  db: Kysely<DB>;
  config: Config;
  logger: Logger;
  ring: CardKeyRing;
}

/** One dispatcher round; returns the deliveries it created. */
export async function dispatchWebhooks(deps: Pick<WebhookDeps, 'db' | 'config'>): Promise<number> {
  const { db, config } = deps;
  // The relay sequences events when live events run; this makes webhooks work without it.
  await sequenceEvents(db);
  const head = await headPosition(db);
  const maxAttempts = parseRetrySchedule(config.webhooks.retrySchedule).length;
  return db.transaction().execute(async (trx) => {
    const endpoints = await lockEndpointsBehind(trx, head, config.webhooks.maxInFlight, ENDPOINTS_PER_ROUND);
    if (endpoints.length === 0) return 0;
    const pending = await countPendingDeliveries(trx, endpoints.map((e) => e.id));
    const deliveries: NewDelivery[] = [];
    for (const endpoint of endpoints) {
      let room = config.webhooks.maxInFlight - (pending.get(endpoint.id) ?? 0);
      if (room <= 0) continue;
      const events = await fetchEventsAfter(trx, Number(endpoint.cursor), EVENTS_PER_ENDPOINT);
      const partners = endpoint.partner_id ? await partnersOfSubjects(trx, events.map((e) => ({ type: e.subject_type, id: e.subject_id }))) : new Map<string, string>();
      let cursor = Number(endpoint.cursor);
      for (const event of events) {
        if (room <= 0) break;
        cursor = event.position;
        const type = dottedTypeOf(event);
        if (!type || !matchesEventTypes(endpoint.event_types, type)) continue;
        if (!mayReceive(endpoint, event, partners.get(`${event.subject_type}:${event.subject_id}`))) continue;
        const { topic } = eventTypeRegistry().get(type)!;
        const body = JSON.stringify({
          type,
          timestamp: event.created_at.toISOString(),
          data: {
            cursor: eventCursor(event.position),
            subject: { type: event.subject_type, id: encodeGlobalId(event.subject_type, event.subject_id) },
            ...receiverData(topic.data(event) as Record<string, unknown>, encodeGlobalId),
          },
        });
        deliveries.push({
          endpoint_id: endpoint.id,
          event_id: event.id,
          event_position: event.position,
          generation: endpoint.generation,
          message_id: `evt_${event.id}`,
          event_type: type,
          body,
        });
        room--;
      }
      if (cursor !== Number(endpoint.cursor)) await moveEndpointCursor(trx, endpoint.id, cursor);
    }
    return (await queueDeliveries(trx, maxAttempts, deliveries)).length;
  });
}

/** The `webhooks` queue's handler: one HTTP attempt per job. */
export function webhookHandler(deps: WebhookDeps): QueueHandler {
  const { db, config, ring } = deps;
  const schedule = parseRetrySchedule(config.webhooks.retrySchedule);
  // What run() saw, for record() in the settling transaction (keyed by job and lease).
  const results = new Map<string, SendResult>();
  const keyOf = (job: QueuedJobRow) => `${job.id}:${job.lease_token}`;

  return {
    queue: WEBHOOK_QUEUE,
    logFields: (job) => ({ deliveryId: (job.payload as unknown as WebhookJobPayload).deliveryId }),
    async run(job): Promise<JobOutcome> {
      const { deliveryId } = job.payload as unknown as WebhookJobPayload;
      const delivery = await findDeliveryWithEndpoint(db, deliveryId);
      if (!delivery) return { outcome: 'dead', error: 'The delivery or its endpoint was deleted.' };
      if (delivery.status !== 'PENDING') return { outcome: 'done' };
      if (delivery.endpoint_status !== 'ENABLED') return { outcome: 'dead', error: 'The endpoint is disabled.' };
      const now = new Date();
      const overlapping = delivery.previous_secret_key_id && delivery.previous_secret_expires_at && delivery.previous_secret_expires_at > now;
      const keyIds = [delivery.secret_key_id, ...(overlapping ? [delivery.previous_secret_key_id!] : [])];
      if (!keyIds.every((id) => ring.keyIds.includes(id))) {
        // This instance's ring lacks a key (a rolling deployment of a new ring): not the delivery's
        // fault, so no attempt is spent; an instance that holds the key will send it.
        return { outcome: 'retry', error: 'The webhook secret is sealed under a key this instance does not hold.', retryAfterMs: 1000 };
      }
      const timestamp = Math.floor(now.getTime() / 1000);
      const headers = {
        'webhook-id': delivery.message_id,
        'webhook-timestamp': String(timestamp),
        'webhook-signature': signatureHeader(signingSecrets(ring, delivery, now), delivery.message_id, timestamp, delivery.body),
      };
      const result = await sendWebhook(delivery.url, headers, delivery.body, {
        allowPrivateNetworks: config.webhooks.allowPrivateNetworks,
        connectTimeoutMs: config.webhooks.connectTimeoutMs,
        timeoutMs: config.webhooks.timeoutMs,
      });
      results.set(keyOf(job), result);
      const verdict = verdictOf(result.status);
      if (verdict === 'delivered') return { outcome: 'done' };
      const error = result.error ?? `HTTP ${result.status}`;
      if (verdict === 'gone') return { outcome: 'dead', error: 'HTTP 410 Gone: the endpoint is disabled.' };
      const delay = retryDelayMs(schedule, job.attempts, result.status === 429 ? parseRetryAfter(result.retryAfter, now) : null);
      return { outcome: 'failed', error, retryAfterMs: delay ?? undefined };
    },
    async record(trx, job, settlement, now) {
      const { deliveryId } = job.payload as unknown as WebhookJobPayload;
      const result = results.get(keyOf(job));
      results.delete(keyOf(job));
      const status = settlement.status === 'DONE' ? 'DELIVERED' : settlement.status === 'DEAD' ? 'FAILED' : 'PENDING';
      const attempt = result && {
        attempted_at: new Date(now.getTime() - result.durationMs),
        http_status: result.status,
        duration_ms: result.durationMs,
        error: result.error ? truncate(result.error, 1000) : null,
        response_body: result.body === null ? null : truncate(result.body, STORED_BODY_CHARS),
      };
      const settled = await settleDelivery(trx, deliveryId, { status, now, attempt: attempt ?? null });
      if (!settled || !result) return;
      const verdict = verdictOf(result.status);
      if (verdict === 'delivered') return clearEndpointFailing(trx, settled.endpoint_id);
      const endpoint = await markEndpointFailing(trx, settled.endpoint_id, now);
      if (!endpoint) return;
      const failingMs = endpoint.failing_since ? now.getTime() - endpoint.failing_since.getTime() : 0;
      if (verdict === 'gone') await disable(trx, endpoint.id, 'The endpoint answered 410 Gone.', now);
      else if (failingMs >= config.webhooks.disableAfterHours * 3_600_000) {
        await disable(trx, endpoint.id, `Every delivery failed for ${config.webhooks.disableAfterHours} hours.`, now);
      }
    },
  };
}

/**
 * Disables an endpoint and tells its owner: a `webhook_endpoint.disabled` event (delivered to the
 * owner's other endpoints and subscriptions) and, when the merchant or partner has a contact
 * address, an e-mail, both in the transaction that moves the endpoint from ENABLED to DISABLED,
 * so each disabling writes them once. The e-mail's subject is that disabling (a fresh id): an
 * endpoint enabled again and later disabled again is written about again.
 */
async function disable(trx: Transaction<DB>, endpointId: string, reason: string, now: Date): Promise<void> {
  const endpoint = await disableEnabledEndpoint(trx, endpointId, reason, now);
  if (!endpoint) return;
  await insertEvents(trx, [WEBHOOK_ENDPOINT_TOPIC.event('DISABLED', endpoint.id, { merchantId: endpoint.merchant_id }, { reason })]);
  const owner = endpoint.merchant_id ? await findMerchantById(trx, endpoint.merchant_id) : endpoint.partner_id ? await findPartnerById(trx, endpoint.partner_id) : undefined;
  if (!owner?.contact_email) return;
  const { subject, body } = composeEndpointDisabledEmail({ ownerName: owner.name, url: endpoint.url, reason, at: now });
  await insertEmails(trx, [
    { user_id: null, kind: 'WEBHOOK_ENDPOINT_DISABLED', subject_type: 'WebhookEndpointDisabling', subject_id: randomUUID(), recipient: owner.contact_email, subject, body },
  ]);
}

/** The module's jobs: the dispatcher, then WEBHOOK_WORKERS queue rounds at once (SKIP LOCKED keeps them apart). */
export function webhookJobs(deps: WebhookDeps): Job[] {
  const handler = webhookHandler(deps);
  const schedule = parseRetrySchedule(deps.config.webhooks.retrySchedule);
  const limit = 4;
  const options = {
    logger: deps.logger,
    maxAttempts: schedule.length,
    backoff: { baseMs: 5000, capMs: 10 * 3_600_000 },
    limit,
    // A round sends its claimed jobs one after another: the lease covers all of them at their
    // longest, and no more, so a delivery whose sender died is taken over soon after.
    leaseMs: limit * deps.config.webhooks.timeoutMs + 5000,
  };
  return [
    { name: 'webhook-dispatch', run: () => dispatchWebhooks(deps) },
    {
      name: WEBHOOK_QUEUE,
      run: async () => {
        // The runner's round paced sending: WEBHOOK_WORKERS × 4 deliveries, then the instance's
        // other jobs and JOB_INTERVAL_MS before the next ones, whatever the backlog. Now a round
        // keeps sending (and turning the events behind into deliveries as room frees up under
        // WEBHOOK_MAX_IN_FLIGHT) while there is work, for at most SEND_ROUND_MS.
        const until = performance.now() + SEND_ROUND_MS;
        let settled = 0;
        for (;;) {
          const rounds = await Promise.all(Array.from({ length: deps.config.webhooks.workers }, () => workQueue(deps.db, handler, options)));
          const n = rounds.reduce((sum, r) => sum + r.done + r.dead + r.retried, 0);
          settled += n;
          if (n === 0 || performance.now() >= until) return settled;
          await dispatchWebhooks(deps);
        }
      },
    },
  ];
}
