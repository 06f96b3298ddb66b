/**
 * Webhooks through the API and a real HTTP receiver on loopback that checks every delivery with
 * the `standardwebhooks` package. The queue is driven round by round (the module's own jobs), so
 * nothing waits on a timer it does not need.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { sql } from 'kysely';
import { codes, databaseKind, dbId, openTestDatabase, startHarness, type Harness } from '../../../test/harness.js';
import { startReceiver } from '../../../test/webhook-receiver.js';
import { ingest, item, newShop, newShopper } from '../../../test/cashback-fixtures.js';
import { createLogger } from '../../logger.js';
import { insertEvents } from '../../outbox/outbox.repository.js';
import { CASHBACK_TOPIC } from '../cashback/cashback.topics.js';
import { OFFER_TOPIC } from '../offers/offers.topics.js';
import { webhookJobs } from './webhook-delivery.js';
import { clearEndpointFailing } from './webhooks.repository.js';
import { eventTypeRegistry, resealWebhookSecrets } from './webhooks.service.js';
import { parseCardKeyRing, generateCardKeys } from '../cards/card-crypto.js';

const ENDPOINT_FIELDS = 'endpoint { id url status disabledReason eventTypes } secret userErrors { field message code }';
const CREATE = `mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { ${ENDPOINT_FIELDS} } }`;
const ROTATE = `mutation($input: RotateWebhookSecretInput!) { rotateWebhookSecret(input: $input) { ${ENDPOINT_FIELDS} } }`;
const UPDATE = `mutation($input: UpdateWebhookEndpointInput!) { updateWebhookEndpoint(input: $input) { endpoint { id } userErrors { field message code } } }`;
const REPLAY = `mutation($input: ReplayWebhookEventsInput!) { replayWebhookEvents(input: $input) { replayFrom userErrors { field message code } } }`;
const TEST = `mutation($input: SendTestWebhookInput!) { sendTestWebhook(input: $input) { endpoint { id } userErrors { field message code } } }`;
const DELIVERIES = `query($endpointId: ID!, $status: WebhookDeliveryStatus) {
  webhookDeliveries(endpointId: $endpointId, status: $status, first: 50) {
    edges { node { messageId eventType eventCursor status attemptCount attempts { attemptedAt httpStatus durationMs error responseBody } } }
  }
}`;
const ENDPOINT_NODE = `query($id: ID!) { node(id: $id) { ... on WebhookEndpoint { id status disabledReason } } }`;

const ENV = {
  WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
  // Short waits between attempts so retries are driven round by round.
  WEBHOOK_RETRY_SCHEDULE: '0ms,1ms,1ms,1ms',
  WEBHOOK_CONNECT_TIMEOUT_MS: '1000',
  WEBHOOK_TIMEOUT_MS: '400',
};

let h: Harness;
let jobs: ReturnType<typeof webhookJobs>;
const round = async () => {
  for (const job of jobs) await job.run(new Date());
};
/** Runs queue rounds until `check` passes (never a fixed sleep). */
const until = (check: () => unknown | Promise<unknown>) =>
  vi.waitFor(async () => {
    await round();
    await check();
  }, { timeout: 10_000, interval: 20 });

beforeAll(async () => {
  h = await startHarness(ENV);
  jobs = webhookJobs({ db: h.db, config: h.config, logger: createLogger({ logLevel: 'silent' }), ring: h.security.cards.ring });
});
afterAll(async () => {
  await h?.close();
});

async function newEndpoint(key: string, url: string, eventTypes: string[] = []) {
  const res = await h.gql(CREATE, { input: { url, eventTypes, description: 'test' } }, key);
  expect(res.data.createWebhookEndpoint.userErrors).toEqual([]);
  return { id: res.data.createWebhookEndpoint.endpoint.id as string, secret: res.data.createWebhookEndpoint.secret as string };
}

describe('deliveries', () => {
  it('signs every delivery per Standard Webhooks: headers, body with the cursor, a whsec_ secret shown once', async () => {
    let secret = '';
    const receiver = await startReceiver({ secrets: () => [secret] });
    try {
      const merchant = await h.newMerchant();
      const endpoint = await newEndpoint(merchant.key, receiver.url(), ['offer.published']);
      secret = endpoint.secret;
      expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
      const stored = await h.db.selectFrom('webhook_endpoints').selectAll().where('id', '=', dbId(endpoint.id)).executeTakeFirstOrThrow();
      expect(JSON.stringify(stored)).not.toContain(secret.slice(6));

      const offerId = await h.newOffer(merchant.key);
      await until(() => expect(receiver.received).toHaveLength(1));
      const [hit] = receiver.received;
      expect(hit!.verified).toBe(true);
      expect(hit!.id).toMatch(/^evt_\d+$/);
      expect(hit!.signatures).toHaveLength(1);
      expect(Math.abs(Number(hit!.timestamp) - Date.now() / 1000)).toBeLessThan(60);
      expect(hit!.json).toMatchObject({ type: 'offer.published', data: { subject: { type: 'Offer', id: offerId } } });
      expect(typeof hit!.json.data.cursor).toBe('string');
      expect(Date.parse(hit!.json.timestamp)).not.toBeNaN();

      const log = await h.gql(DELIVERIES, { endpointId: endpoint.id }, merchant.key);
      expect(log.data.webhookDeliveries.edges[0].node).toMatchObject({ messageId: hit!.id, status: 'DELIVERED', attemptCount: 1, eventCursor: hit!.json.data.cursor });
      expect(log.data.webhookDeliveries.edges[0].node.attempts[0]).toMatchObject({ httpStatus: 200, error: null, responseBody: 'ok' });
    } finally {
      await receiver.close();
    }
  });

  it('signs with both secrets during a rotation overlap, and with the new one alone after', async () => {
    let secrets: string[] = [];
    const receiver = await startReceiver({ secrets: () => secrets });
    try {
      const merchant = await h.newMerchant();
      const endpoint = await newEndpoint(merchant.key, receiver.url());
      const rotated = await h.gql(ROTATE, { input: { endpointId: endpoint.id, overlapHours: 2 } }, merchant.key);
      const newSecret = rotated.data.rotateWebhookSecret.secret as string;
      expect(newSecret).not.toBe(endpoint.secret);
      secrets = [endpoint.secret, newSecret];
      await h.gql(TEST, { input: { endpointId: endpoint.id } }, merchant.key);
      await until(() => expect(receiver.received).toHaveLength(1));
      expect(receiver.received[0]!.signatures).toHaveLength(2);
      expect(receiver.received[0]!.signatures.every((s) => s.startsWith('v1,'))).toBe(true);
      expect(receiver.received[0]!.verified).toBe(true);

      const again = await h.gql(ROTATE, { input: { endpointId: endpoint.id, overlapHours: 0 } }, merchant.key);
      const third = again.data.rotateWebhookSecret.secret as string;
      secrets = [third];
      await h.gql(TEST, { input: { endpointId: endpoint.id } }, merchant.key);
      await until(() => expect(receiver.received).toHaveLength(2));
      expect(receiver.received[1]!.signatures).toHaveLength(1);
      expect(receiver.received[1]!.verified).toBe(true);
    } finally {
      await receiver.close();
    }
  });

  it("does not rewrite a healthy endpoint's row when a delivery succeeds (senders of one endpoint would queue on its row lock)", async () => {
    const merchant = await h.newMerchant();
    const endpoint = await newEndpoint(merchant.key, 'http://127.0.0.1:9/hook', ['offer.published']);
    const id = dbId(endpoint.id);
    // One snapshot: on Postgres other files' dispatchers share this database and may move the
    // endpoint's cursor meanwhile; a write of ours would change the version we see (or fail).
    const versions = await h.db
      .transaction()
      .setIsolationLevel('repeatable read')
      .execute(async (trx) => {
        const version = () => trx.selectFrom('webhook_endpoints').select([sql<string>`xmin::text`.as('xmin'), 'failing_since']).where('id', '=', id).executeTakeFirstOrThrow();
        const before = await version();
        await clearEndpointFailing(trx, id);
        return { before, after: await version() };
      });
    expect(versions.before.failing_since).toBeNull();
    expect(versions.after).toEqual(versions.before);
  });

  it('retries a receiver answering 500, 500, 200 with the same webhook-id until delivered', async () => {
    let secret = '';
    const receiver = await startReceiver({ secrets: () => [secret], answer: (_r, i) => ({ status: i < 2 ? 500 : 200, body: i < 2 ? 'boom' : 'ok' }) });
    try {
      const merchant = await h.newMerchant();
      const endpoint = await newEndpoint(merchant.key, receiver.url(), ['offer.published']);
      secret = endpoint.secret;
      await h.newOffer(merchant.key);
      await until(async () => {
        const log = await h.gql(DELIVERIES, { endpointId: endpoint.id, status: 'DELIVERED' }, merchant.key);
        expect(log.data.webhookDeliveries.edges).toHaveLength(1);
      });
      expect(receiver.received.map((r) => r.id)).toEqual(Array(3).fill(receiver.received[0]!.id));
      expect(receiver.received.every((r) => r.verified)).toBe(true);
      const log = await h.gql(DELIVERIES, { endpointId: endpoint.id }, merchant.key);
      const node = log.data.webhookDeliveries.edges[0].node;
      expect(node.attempts.map((a: { httpStatus: number }) => a.httpStatus)).toEqual([500, 500, 200]);
      expect(node.attempts[0].responseBody).toBe('boom');
      // Failing while the receiver answered 500; healthy again once it answered 200.
      const row = await h.db.selectFrom('webhook_endpoints').select('failing_since').where('id', '=', dbId(endpoint.id)).executeTakeFirstOrThrow();
      expect(row.failing_since).toBeNull();
    } finally {
      await receiver.close();
    }
  });

  it('disables an endpoint at once on 410 Gone and writes webhook_endpoint.disabled', async () => {
    const receiver = await startReceiver({ answer: () => ({ status: 410 }) });
    try {
      const merchant = await h.newMerchant();
      const endpoint = await newEndpoint(merchant.key, receiver.url());
      await h.gql(TEST, { input: { endpointId: endpoint.id } }, merchant.key);
      await until(async () => {
        const node = await h.gql(ENDPOINT_NODE, { id: endpoint.id }, merchant.key);
        expect(node.data.node).toMatchObject({ status: 'DISABLED', disabledReason: 'The endpoint answered 410 Gone.' });
      });
      expect(receiver.received).toHaveLength(1);
      const events = await h.db.selectFrom('events').selectAll().where('subject_id', '=', dbId(endpoint.id)).execute();
      expect(events.map((e) => [e.topic, e.type, e.merchant_id])).toEqual([['WEBHOOK_ENDPOINT', 'DISABLED', dbId(merchant.id)]]);
      expect(eventTypeRegistry().has('webhook_endpoint.disabled')).toBe(true);
      // The merchant left no contact address: nobody to write to.
      const emails = await h.db.selectFrom('emails').select('id').where('kind', '=', 'WEBHOOK_ENDPOINT_DISABLED').where('body', 'like', `%${receiver.url()}%`).execute();
      expect(emails).toEqual([]);
    } finally {
      await receiver.close();
    }
  });

  it("e-mails a partner's contact address when its endpoint is disabled", async () => {
    const receiver = await startReceiver({ answer: () => ({ status: 410 }) });
    try {
      const partner = await h.newPartner(['TRANSACTIONS_WRITE'], { contactEmail: 'hooks@partner.example' });
      const endpoint = await newEndpoint(partner.key, receiver.url());
      await h.gql(TEST, { input: { endpointId: endpoint.id } }, partner.key);
      await until(async () => {
        const emails = await h.db.selectFrom('emails').select(['recipient', 'user_id', 'kind']).where('recipient', '=', 'hooks@partner.example').execute();
        expect(emails).toEqual([{ recipient: 'hooks@partner.example', user_id: null, kind: 'WEBHOOK_ENDPOINT_DISABLED' }]);
      });
    } finally {
      await receiver.close();
    }
  });

  it('times out a slow receiver and retries it', async () => {
    let secret = '';
    const receiver = await startReceiver({ secrets: () => [secret], answer: (_r, i) => ({ delayMs: i === 0 ? 5000 : 0 }) });
    try {
      const merchant = await h.newMerchant();
      const endpoint = await newEndpoint(merchant.key, receiver.url());
      secret = endpoint.secret;
      await h.gql(TEST, { input: { endpointId: endpoint.id } }, merchant.key);
      await until(async () => {
        const log = await h.gql(DELIVERIES, { endpointId: endpoint.id, status: 'DELIVERED' }, merchant.key);
        expect(log.data.webhookDeliveries.edges).toHaveLength(1);
      });
      const log = await h.gql(DELIVERIES, { endpointId: endpoint.id }, merchant.key);
      const [first, second] = log.data.webhookDeliveries.edges[0].node.attempts;
      expect(first).toMatchObject({ httpStatus: null, error: 'timed out after 400 ms' });
      expect(first.durationMs).toBeGreaterThanOrEqual(390);
      expect(second).toMatchObject({ httpStatus: 200 });
      expect(receiver.received[0]!.id).toBe(receiver.received[1]!.id);
    } finally {
      await receiver.close();
    }
  });

  it('never follows a redirect: a 3xx is a failed attempt and the target is never called', async () => {
    const target = await startReceiver();
    const receiver = await startReceiver({ answer: () => ({ status: 307, headers: { location: target.url('/elsewhere') } }) });
    try {
      const merchant = await h.newMerchant();
      const endpoint = await newEndpoint(merchant.key, receiver.url());
      await h.gql(TEST, { input: { endpointId: endpoint.id } }, merchant.key);
      await until(async () => {
        const log = await h.gql(DELIVERIES, { endpointId: endpoint.id, status: 'FAILED' }, merchant.key);
        expect(log.data.webhookDeliveries.edges).toHaveLength(1);
      });
      expect(receiver.received).toHaveLength(4);
      expect(target.received).toHaveLength(0);
    } finally {
      await receiver.close();
      await target.close();
    }
  });

  it("never sends a merchant's endpoint another merchant's events or a user's", async () => {
    const receiver = await startReceiver();
    try {
      const mine = await h.newMerchant();
      const other = await h.newMerchant();
      const endpoint = await newEndpoint(mine.key, receiver.url());
      const otherOffer = await h.newOffer(other.key);
      const user = await h.newUser();
      await h.db.transaction().execute((trx) =>
        insertEvents(trx, [
          CASHBACK_TOPIC.event('PENDING', crypto.randomUUID(), { userId: dbId(user.id) }, { status: 'PENDING', amount: 100, currency: 'USD', reason: null, offerId: dbId(otherOffer) }),
        ]),
      );
      // A marker of the merchant's own, written after: once it arrives, everything before it was dispatched.
      const myOffer = await h.newOffer(mine.key);
      await until(() => expect(receiver.received.some((r) => r.json.type === 'offer.published')).toBe(true));
      const subjects = receiver.received.map((r) => (r.json.data as unknown as { subject: { id: string } }).subject.id);
      expect(new Set(subjects)).toEqual(new Set([myOffer]));
      expect(receiver.received.map((r) => r.body).join('')).not.toContain(dbId(user.id));
    } finally {
      await receiver.close();
    }
  });

  it("sends a partner's endpoint the cashback of its own transactions only, with no card number or e-mail address", async () => {
    const receiver = await startReceiver();
    try {
      const a = await h.newPartner();
      const b = await h.newPartner();
      await newEndpoint(a.key, receiver.url('/a'));
      await newEndpoint(b.key, receiver.url('/b'));
      const shop = await newShop(h);
      const shopper = await newShopper(h, shop.offerId);
      const byA = await ingest(h, a.key, [item(shop, shopper.card.number)]);
      const cashbackOfA = byA.results![0]!.cashback!.id;
      // B's own purchase, after A's: once B has it, A's events were dispatched too.
      const byB = await ingest(h, b.key, [item(shop, shopper.card.number)]);
      const cashbackOfB = byB.results![0]!.cashback!.id;
      // Each partner also receives the transaction.qualified of its own purchase (one per ingested transaction).
      await until(() => {
        expect(receiver.received.filter((r) => r.path === '/b')).toHaveLength(2);
        expect(receiver.received.filter((r) => r.path === '/a')).toHaveLength(2);
      });
      const subjectsAt = (p: string) => receiver.received.filter((r) => r.path === p).map((r) => (r.json.data as unknown as { subject: { id: string } }).subject.id);
      expect(new Set(subjectsAt('/a'))).toEqual(new Set([cashbackOfA, byA.results![0]!.transaction!.id]));
      expect(new Set(subjectsAt('/b'))).toEqual(new Set([cashbackOfB, byB.results![0]!.transaction!.id]));
      expect(receiver.received.map((r) => r.json.type).sort()).toEqual(['cashback.pending', 'cashback.pending', 'transaction.qualified', 'transaction.qualified']);
      const bodies = receiver.received.map((r) => r.body).join('\n');
      expect(bodies).not.toContain(shopper.card.number);
      expect(bodies).not.toContain(shopper.email);
      expect(bodies).not.toContain(dbId(shopper.id));
    } finally {
      await receiver.close();
    }
  });

  it("sends a partner's endpoint transaction.* of its own ingested transactions only, and a merchant's endpoint those at its own locations only", async () => {
    const receiver = await startReceiver();
    const TYPES = ['transaction.qualified', 'transaction.not_qualified'];
    try {
      const a = await h.newPartner();
      const b = await h.newPartner();
      const shop1 = await newShop(h);
      const shop2 = await newShop(h);
      await newEndpoint(a.key, receiver.url('/a'), TYPES);
      await newEndpoint(b.key, receiver.url('/b'), TYPES);
      await newEndpoint(shop1.merchant.key, receiver.url('/m1'));
      await newEndpoint(shop2.merchant.key, receiver.url('/m2'));
      const shopper1 = await newShopper(h, shop1.offerId);
      const shopper2 = await newShopper(h, shop2.offerId);

      // A: a qualifying purchase at shop 1, one at an unknown MID (no merchant), and a rejected item.
      const purchase = item(shop1, shopper1.card.number);
      const byA = await ingest(h, a.key, [purchase, item({ mid: 'MIDNOBODYKNOWS' }, shopper1.card.number), item(shop1, shopper1.card.number, { currency: 'XXQ' })]);
      expect(byA.results!.map((r) => r.outcome)).toEqual(['QUALIFIED', 'NOT_QUALIFIED', 'REJECTED']);
      // A sends the purchase again: DUPLICATE, no second event.
      expect((await ingest(h, a.key, [purchase])).results![0]!.outcome).toBe('DUPLICATE');
      // B: a purchase at shop 2, then one at shop 1 (A's merchant, not A's transaction).
      const byB2 = await ingest(h, b.key, [item(shop2, shopper2.card.number)]);
      const byB1 = await ingest(h, b.key, [item(shop1, shopper1.card.number)]);
      const [txA, txA0] = byA.results!.map((r) => r.transaction?.id);
      const txB2 = byB2.results![0]!.transaction!.id;
      const txB1 = byB1.results![0]!.transaction!.id;

      const at = (p: string) => receiver.received.filter((r) => r.path === p && r.json.type.startsWith('transaction.'));
      const subjectsAt = (p: string) => new Set(at(p).map((r) => (r.json.data as unknown as { subject: { id: string } }).subject.id));
      await until(() => {
        expect(at('/a')).toHaveLength(2);
        expect(at('/b')).toHaveLength(2);
        expect(at('/m1')).toHaveLength(2);
        expect(at('/m2')).toHaveLength(1);
      });
      for (let i = 0; i < 3; i++) await round(); // anything more would have come by now
      expect(subjectsAt('/a')).toEqual(new Set([txA, txA0]));
      expect(subjectsAt('/b')).toEqual(new Set([txB2, txB1]));
      expect(subjectsAt('/m1')).toEqual(new Set([txA, txB1]));
      expect(subjectsAt('/m2')).toEqual(new Set([txB2]));
      expect(at('/a').map((r) => r.json.type).sort()).toEqual(['transaction.not_qualified', 'transaction.qualified']);

      const qualified = at('/a').find((r) => r.json.type === 'transaction.qualified')!;
      expect(qualified.json.data).toEqual({
        cursor: expect.any(String),
        subject: { type: 'Transaction', id: txA },
        externalId: purchase.externalId,
        type: 'AUTH',
        outcome: 'QUALIFIED',
        reason: null,
        amount: 10_000,
        currency: 'USD',
      });
      expect(at('/a').find((r) => r.json.type === 'transaction.not_qualified')!.json.data).toMatchObject({ outcome: 'NOT_QUALIFIED', reason: 'UNKNOWN_LOCATION' });
      const bodies = receiver.received.map((r) => r.body).join('\n');
      for (const secret of [shopper1.card.number, shopper2.card.number, shopper1.email, dbId(shopper1.id), dbId(shopper2.id)]) expect(bodies).not.toContain(secret);
      // Never addressed to a user: user streams (and webhooks by user) never see raw transactions.
      const rows = await h.db.selectFrom('events').select(['user_id', 'merchant_id', 'subject_id']).where('topic', '=', 'TRANSACTION').where('subject_id', 'in', [txA, txA0, txB2, txB1].map((id) => dbId(id!))).execute();
      expect(rows).toHaveLength(4);
      expect(rows.every((r) => r.user_id === null)).toBe(true);
      expect(rows.find((r) => r.subject_id === dbId(txA0!))!.merchant_id).toBeNull();
    } finally {
      await receiver.close();
    }
  });

  it('honours Retry-After on 429', async () => {
    const receiver = await startReceiver({ answer: () => ({ status: 429, headers: { 'retry-after': '3600' } }) });
    try {
      const merchant = await h.newMerchant();
      const endpoint = await newEndpoint(merchant.key, receiver.url());
      await h.gql(TEST, { input: { endpointId: endpoint.id } }, merchant.key);
      await until(() => expect(receiver.received).toHaveLength(1));
      const job = await h.db
        .selectFrom('queued_jobs')
        .innerJoin('webhook_deliveries as d', (j) => j.on(sql`d.id::text`, '=', sql.ref('queued_jobs.key')))
        .select(['queued_jobs.run_at', 'queued_jobs.status'])
        .where('d.endpoint_id', '=', dbId(endpoint.id))
        .executeTakeFirstOrThrow();
      expect(job.status).toBe('QUEUED');
      expect(job.run_at.getTime() - Date.now()).toBeGreaterThan(3500 * 1000);
    } finally {
      await receiver.close();
    }
  });

  it('disables an endpoint that has failed for WEBHOOK_DISABLE_AFTER_HOURS and e-mails its owner once', async () => {
    const receiver = await startReceiver({ answer: () => ({ status: 503 }) });
    try {
      const merchant = await h.newMerchant({ contactEmail: 'ops@merchant.example' });
      const endpoint = await newEndpoint(merchant.key, receiver.url());
      // Failing since five days and a minute (the default limit is 120 hours).
      await h.db.updateTable('webhook_endpoints').set({ failing_since: new Date(Date.now() - (120 * 60 + 1) * 60_000) }).where('id', '=', dbId(endpoint.id)).execute();
      await h.gql(TEST, { input: { endpointId: endpoint.id } }, merchant.key);
      await until(async () => {
        const node = await h.gql(ENDPOINT_NODE, { id: endpoint.id }, merchant.key);
        expect(node.data.node).toMatchObject({ status: 'DISABLED', disabledReason: 'Every delivery failed for 120 hours.' });
      });
      expect(receiver.received).toHaveLength(1);
      const events = await h.db.selectFrom('events').select(['type']).where('subject_id', '=', dbId(endpoint.id)).execute();
      expect(events).toEqual([{ type: 'DISABLED' }]);
      const emails = await h.db
        .selectFrom('emails')
        .select(['id', 'user_id', 'recipient', 'subject', 'body', 'status'])
        .where('kind', '=', 'WEBHOOK_ENDPOINT_DISABLED')
        .where('recipient', '=', 'ops@merchant.example')
        .execute();
      expect(emails).toEqual([
        {
          id: expect.any(String),
          user_id: null,
          recipient: 'ops@merchant.example',
          subject: `Your webhook endpoint ${receiver.url()} was disabled`,
          body: expect.stringContaining('Reason: Every delivery failed for 120 hours.'),
          status: 'QUEUED',
        },
      ]);
      // The e-mail's delivery is queued with it, like every e-mail.
      const jobs = await h.db.selectFrom('queued_jobs').select(['queue', 'status']).where('key', '=', emails[0]!.id).execute();
      expect(jobs).toEqual([{ queue: 'emails', status: 'QUEUED' }]);
    } finally {
      await receiver.close();
    }
  });

  it('keeps at most WEBHOOK_MAX_IN_FLIGHT deliveries pending per endpoint', async () => {
    const receiver = await startReceiver();
    try {
      const merchant = await h.newMerchant();
      const endpoint = await newEndpoint(merchant.key, receiver.url(), ['offer.updated']);
      await h.db.transaction().execute((trx) =>
        insertEvents(trx, Array.from({ length: 15 }, () => OFFER_TOPIC.event('UPDATED', crypto.randomUUID(), { merchantId: dbId(merchant.id) }, {}))),
      );
      const deliveries = (status: 'PENDING' | 'DELIVERED') =>
        h.db.selectFrom('webhook_deliveries').select('id').where('endpoint_id', '=', dbId(endpoint.id)).where('status', '=', status).execute();
      const [dispatch] = jobs;
      await dispatch!.run(new Date());
      await dispatch!.run(new Date());
      expect(await deliveries('PENDING')).toHaveLength(h.config.webhooks.maxInFlight);
      expect(h.config.webhooks.maxInFlight).toBe(10);
      await until(async () => expect(await deliveries('DELIVERED')).toHaveLength(15));
      expect(new Set(receiver.received.map((r) => r.id)).size).toBe(15);
    } finally {
      await receiver.close();
    }
  });

  it('replays the events after a cursor with their original webhook-ids', async () => {
    const receiver = await startReceiver();
    try {
      const merchant = await h.newMerchant();
      const endpoint = await newEndpoint(merchant.key, receiver.url(), ['offer.created']);
      await h.newOffer(merchant.key);
      await h.newOffer(merchant.key);
      await until(() => expect(receiver.received).toHaveLength(2));
      // Several deliveries run at once: order them by event, as receivers do with data.cursor.
      const [first, second] = [...receiver.received].sort((a, b) => Number(a.id.slice(4)) - Number(b.id.slice(4)));
      const res = await h.gql(REPLAY, { input: { endpointId: endpoint.id, after: first!.json.data.cursor } }, merchant.key);
      expect(res.data.replayWebhookEvents.userErrors).toEqual([]);
      await until(() => expect(receiver.received).toHaveLength(3));
      expect(receiver.received[2]!.id).toBe(second!.id);
      const both = await h.gql(REPLAY, { input: { endpointId: endpoint.id, after: first!.json.data.cursor, since: new Date().toISOString() } }, merchant.key);
      expect(codes(both.data.replayWebhookEvents.userErrors)).toEqual([{ code: 'INVALID_INPUT', field: ['after'] }]);
    } finally {
      await receiver.close();
    }
  });
});

describe('endpoints', () => {
  it('keep their secrets sealed under the card key ring, and move to a new active key with rotate-card-keys', async () => {
    let secret = '';
    const receiver = await startReceiver({ secrets: () => [secret] });
    try {
      const merchant = await h.newMerchant();
      const endpoint = await newEndpoint(merchant.key, receiver.url());
      secret = endpoint.secret;
      const row = () => h.db.selectFrom('webhook_endpoints').selectAll().where('id', '=', dbId(endpoint.id)).executeTakeFirstOrThrow();
      expect((await row()).secret_key_id).toBe(h.security.cards.ring.activeKeyId);
      // A ring with a new active key first and the old one after it (what an operator configures).
      const fresh = generateCardKeys().encryptionKeys.replace(/^k-/, 'new-');
      const ring = parseCardKeyRing(`${fresh},${h.config.cardEncryptionKeys}`);
      expect(await resealWebhookSecrets(h.db, ring)).toBeGreaterThanOrEqual(1);
      expect((await row()).secret_key_id).toBe(ring.activeKeyId);
      const rotatedJobs = webhookJobs({ db: h.db, config: h.config, logger: createLogger({ logLevel: 'silent' }), ring });
      await h.gql(TEST, { input: { endpointId: endpoint.id } }, merchant.key);
      await vi.waitFor(async () => {
        for (const job of rotatedJobs) await job.run(new Date());
        expect(receiver.received).toHaveLength(1);
      }, { timeout: 10_000, interval: 20 });
      expect(receiver.received[0]!.verified).toBe(true);
    } finally {
      await receiver.close();
    }
  });

  it('are visible to their owner only, and listed under partnerViewer and merchantViewer', async () => {
    const a = await h.newMerchant();
    const b = await h.newMerchant();
    const partner = await h.newPartner();
    const endpoint = await newEndpoint(a.key, 'http://127.0.0.1:9/a');
    const partnerEndpoint = await newEndpoint(partner.key, 'http://127.0.0.1:9/p');
    const stranger = await h.gql(UPDATE, { input: { endpointId: endpoint.id, description: 'x' } }, b.key);
    expect(codes(stranger.data.updateWebhookEndpoint.userErrors)).toEqual([{ code: 'NOT_FOUND', field: ['endpointId'] }]);
    expect((await h.gql(ENDPOINT_NODE, { id: endpoint.id }, b.key)).data.node).toBeNull();
    expect((await h.gql(ENDPOINT_NODE, { id: endpoint.id }, h.adminKey)).data.node).toBeNull();
    const mv = await h.gql('{ merchantViewer { webhookEndpoints { id } } }', {}, a.key);
    expect(mv.data.merchantViewer.webhookEndpoints).toEqual([{ id: endpoint.id }]);
    const pv = await h.gql('{ partnerViewer { webhookEndpoints { id } } }', {}, partner.key);
    expect(pv.data.partnerViewer.webhookEndpoints).toEqual([{ id: partnerEndpoint.id }]);
    const other = await h.gql(`query($id: ID!) { node(id: $id) { ... on Merchant { webhookEndpoints { id } } } }`, { id: a.id }, h.adminKey);
    expect(other.data.node.webhookEndpoints).toEqual([]);
  });

  it('tell a caller without endpoints so before judging its input', async () => {
    const endpoint = await newEndpoint((await h.newMerchant()).key, 'http://127.0.0.1:9/a');
    const user = await h.newUser();
    const replay = { endpointId: endpoint.id };
    const update = { endpointId: endpoint.id, url: 'ftp://nowhere' };
    expect(codes((await h.gql(REPLAY, { input: replay }, null)).data.replayWebhookEvents.userErrors)).toEqual([{ code: 'UNAUTHENTICATED', field: null }]);
    expect(codes((await h.gql(REPLAY, { input: replay }, user.token)).data.replayWebhookEvents.userErrors)).toEqual([{ code: 'FORBIDDEN', field: null }]);
    expect(codes((await h.gql(UPDATE, { input: update }, null)).data.updateWebhookEndpoint.userErrors)).toEqual([{ code: 'UNAUTHENTICATED', field: null }]);
    expect(codes((await h.gql(UPDATE, { input: update }, h.adminKey)).data.updateWebhookEndpoint.userErrors)).toEqual([{ code: 'FORBIDDEN', field: null }]);
  });

  it('replays createWebhookEndpoint with its idempotency key: the same endpoint, the secret not shown again', async () => {
    const merchant = await h.newMerchant();
    const input = { url: 'http://127.0.0.1:9/idem', idempotencyKey: 'create-1' };
    const first = (await h.gql(CREATE, { input }, merchant.key)).data.createWebhookEndpoint;
    const again = (await h.gql(CREATE, { input }, merchant.key)).data.createWebhookEndpoint;
    expect(first.secret).toMatch(/^whsec_/);
    expect(again).toMatchObject({ endpoint: { id: first.endpoint.id }, secret: null, userErrors: [] });
    const other = (await h.gql(CREATE, { input: { ...input, url: 'http://127.0.0.1:9/other' } }, merchant.key)).data.createWebhookEndpoint;
    expect(codes(other.userErrors)).toEqual([{ code: 'IDEMPOTENCY_KEY_REUSED', field: ['idempotencyKey'] }]);
    expect(await h.db.selectFrom('webhook_endpoints').select('id').where('merchant_id', '=', dbId(merchant.id)).execute()).toHaveLength(1);
  });

  it('are not sent, and spend no attempt, by an instance whose key ring lacks their key', async () => {
    const receiver = await startReceiver();
    try {
      const merchant = await h.newMerchant();
      const endpoint = await newEndpoint(merchant.key, receiver.url());
      const foreign = webhookJobs({ db: h.db, config: h.config, logger: createLogger({ logLevel: 'silent' }), ring: parseCardKeyRing(generateCardKeys().encryptionKeys) });
      await h.gql(TEST, { input: { endpointId: endpoint.id } }, merchant.key);
      for (const job of foreign) await job.run(new Date());
      const job = await h.db
        .selectFrom('queued_jobs')
        .innerJoin('webhook_deliveries as d', (j) => j.on(sql`d.id::text`, '=', sql.ref('queued_jobs.key')))
        .select(['queued_jobs.attempts', 'queued_jobs.status', 'queued_jobs.last_error'])
        .where('d.endpoint_id', '=', dbId(endpoint.id))
        .executeTakeFirstOrThrow();
      expect(job).toEqual({ attempts: 0, status: 'QUEUED', last_error: 'The webhook secret is sealed under a key this instance does not hold.' });
      expect(receiver.received).toHaveLength(0);
    } finally {
      await receiver.close();
    }
  });

  it('take event types in dotted form from the one registry, and refuse unknown ones', async () => {
    const types = (await h.gql('{ webhookEventTypes }')).data.webhookEventTypes as string[];
    expect(types).toEqual(expect.arrayContaining(['cashback.confirmed', 'offer.published', 'statement_credit.issued', 'webhook_endpoint.disabled']));
    const merchant = await h.newMerchant();
    const res = await h.gql(CREATE, { input: { url: 'http://127.0.0.1:9/x', eventTypes: ['offer.published', 'offer.exploded'] } }, merchant.key);
    expect(codes(res.data.createWebhookEndpoint.userErrors)).toEqual([{ code: 'WEBHOOK_EVENT_TYPE_UNKNOWN', field: ['eventTypes', '1'] }]);
  });

  it('refuse private, loopback, link-local and metadata addresses and plain http unless private networks are allowed', async () => {
    const strict = await startHarness({ WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'false' });
    try {
      const merchant = await strict.newMerchant();
      const attempt = async (url: string) => codes((await strict.gql(CREATE, { input: { url } }, merchant.key)).data.createWebhookEndpoint.userErrors);
      for (const url of ['https://127.0.0.1/x', 'https://10.1.2.3/x', 'https://169.254.169.254/latest/meta-data', 'https://[::1]/x', 'https://[::ffff:127.0.0.1]/x', 'https://localhost/x']) {
        expect(await attempt(url), url).toEqual([{ code: 'WEBHOOK_ADDRESS_NOT_ALLOWED', field: ['url'] }]);
      }
      expect(await attempt('http://93.184.216.34/x')).toEqual([{ code: 'WEBHOOK_URL_INVALID', field: ['url'] }]);
      expect(await attempt('ftp://example.com/x')).toEqual([{ code: 'WEBHOOK_URL_INVALID', field: ['url'] }]);
    } finally {
      await strict.close();
    }
    // The same loopback URL is accepted where they are allowed (this file's harness).
    const merchant = await h.newMerchant();
    await newEndpoint(merchant.key, 'http://127.0.0.1:9/x');
  });
});

describe.runIf(databaseKind() === 'postgres')('on Postgres', () => {
  it('two instances never send one delivery twice (Postgres: PGlite runs one session)', async () => {
    const receiver = await startReceiver({ answer: () => ({ delayMs: 5 }) });
    const second = await openTestDatabase(5);
    try {
      const merchant = await h.newMerchant();
      await newEndpoint(merchant.key, receiver.url(), ['offer.created']);
      const offers = 12;
      for (let i = 0; i < offers; i++) await h.newOffer(merchant.key, {}, { publish: false });
      const logger = createLogger({ logLevel: 'silent' });
      const other = webhookJobs({ db: second.db, config: h.config, logger, ring: h.security.cards.ring });
      const run = async (set: typeof jobs) => {
        for (const job of set) await job.run(new Date());
      };
      await vi.waitFor(
        async () => {
          await Promise.all([run(jobs), run(other), run(jobs), run(other)]);
          expect(receiver.received.length).toBeGreaterThanOrEqual(offers);
        },
        { timeout: 15_000, interval: 10 },
      );
      const ids = receiver.received.map((r) => r.id);
      expect(new Set(ids).size).toBe(offers);
      expect(ids).toHaveLength(offers);
      const { rows } = await sql<{ n: string }>`select count(*) as n from webhook_attempts a join webhook_deliveries d on d.id = a.delivery_id where d.message_id = any(${ids})`.execute(h.db);
      expect(Number(rows[0]!.n)).toBe(offers);
    } finally {
      await second.close();
      await receiver.close();
    }
  });
});
