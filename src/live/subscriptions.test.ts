import { randomUUID } from 'node:crypto';
import { createClient, type Client } from 'graphql-ws';
import { SignJWT } from 'jose';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { ingest, item, newShop, newShopper } from '../../test/cashback-fixtures.js';
import { databaseKind, dbId, startHarness, type Harness } from '../../test/harness.js';
import { EventBus, SlowConsumerError } from './event-bus.js';
import { startEventRelay } from './relay.js';
import { insertEvents, sequenceEvents } from '../outbox/outbox.repository.js';

let h: Harness;
let url: string;
let partner: { id: string; key: string };

beforeAll(async () => {
  h = await startHarness({ LIVE_EVENTS: 'true', EVENT_POLL_MS: '200', SUBSCRIPTION_AUTH_CHECK_MS: '200' });
  url = (await h.app.listen(0, '127.0.0.1')).replace('http', 'ws');
  partner = await h.newPartner();
});
afterAll(() => h.close());

const CONFIRMATIONS = `subscription($after: String) { purchaseConfirmations(after: $after) { type status amount { amount } cashback { id status } cursor } }`;

interface Stream<T> {
  events: T[];
  closed: Promise<{ code: number; reason: string }>;
  next(count: number, timeoutMs?: number): Promise<T[]>;
  stop(): Promise<void>;
}

/** A real graphql-ws client; resolves once the server has registered the subscription. */
async function subscribe<T = any>(query: string, variables: Record<string, unknown>, token: string | null): Promise<Stream<T>> {
  const listeners = (h.app.events!.bus as unknown as { listeners: Set<object> }).listeners;
  const before = new Set(listeners);
  let closedResolve!: (v: { code: number; reason: string }) => void;
  const closed = new Promise<{ code: number; reason: string }>((resolve) => (closedResolve = resolve));
  const client: Client = createClient({
    url,
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    connectionParams: token ? { authorization: `Bearer ${token}` } : {},
    on: { closed: (event) => closedResolve(event as { code: number; reason: string }) },
  });
  const events: T[] = [];
  const waiters: (() => void)[] = [];
  const unsubscribe = client.subscribe<T>(
    { query, variables },
    {
      next: (result) => {
        if (result.errors) throw new Error(JSON.stringify(result.errors));
        events.push(Object.values(result.data as Record<string, T>)[0]!);
        for (const w of waiters.splice(0)) w();
      },
      error: () => undefined,
      complete: () => undefined,
    },
  );
  // Registered: a listener that was not there before (others may come and go meanwhile).
  const deadline = Date.now() + 5000;
  while (![...listeners].some((l) => !before.has(l))) {
    if (Date.now() > deadline) throw new Error('the subscription was never registered on the bus');
    await new Promise((r) => setTimeout(r, 10));
  }
  return {
    events,
    closed,
    async next(count, timeoutMs = 5000) {
      const end = Date.now() + timeoutMs;
      while (events.length < count && Date.now() < end) await new Promise<void>((r) => (waiters.push(r), setTimeout(r, 50)));
      return events.slice(0, count);
    },
    async stop() {
      unsubscribe();
      await client.dispose();
    },
  };
}

describe('purchaseConfirmations', () => {
  it('delivers the user its cashback as it is confirmed after a clearing ingested over HTTP, in order', async () => {
    const shop = await newShop(h);
    const shopper = await newShopper(h);
    const stream = await subscribe(CONFIRMATIONS, {}, shopper.token);
    const auth = item(shop, shopper.card.number, { amount: 4000 });
    await ingest(h, partner.key, [auth]);
    await ingest(h, partner.key, [item(shop, shopper.card.number, { type: 'CLEARING', amount: 5000, authExternalId: auth.externalId })]);
    const events = await stream.next(2);
    expect(events.map((e: any) => [e.type, e.status, e.amount.amount])).toEqual([
      ['PENDING', 'PENDING', 400],
      ['CONFIRMED', 'CONFIRMED', 500],
    ]);
    expect(events[1].cashback).toMatchObject({ status: 'CONFIRMED' });
    await stream.stop();
  });

  it("never delivers one user's events to another", async () => {
    const shop = await newShop(h);
    const a = await newShopper(h);
    const b = await newShopper(h);
    const streamB = await subscribe(CONFIRMATIONS, {}, b.token);
    await ingest(h, partner.key, [item(shop, a.card.number), item(shop, a.card.number, { type: 'CLEARING' })]);
    await ingest(h, partner.key, [item(shop, b.card.number, { amount: 2000 })]);
    const [own] = await streamB.next(1);
    expect(own).toMatchObject({ type: 'PENDING', amount: { amount: 200 } });
    await new Promise((r) => setTimeout(r, 300));
    expect(streamB.events).toHaveLength(1);
    await streamB.stop();
  });

  it('replays exactly the missed events to a client that reconnects with its last cursor', async () => {
    const shop = await newShop(h);
    const shopper = await newShopper(h);
    const first = await subscribe(CONFIRMATIONS, {}, shopper.token);
    const auth = item(shop, shopper.card.number, { amount: 3000 });
    await ingest(h, partner.key, [auth]);
    const [seen] = await first.next(1);
    await first.stop();
    // While disconnected: a clearing and a partial refund.
    await ingest(h, partner.key, [item(shop, shopper.card.number, { type: 'CLEARING', amount: 3000, authExternalId: auth.externalId })]);
    await ingest(h, partner.key, [item(shop, shopper.card.number, { type: 'REFUND', amount: 1000, originalExternalId: auth.externalId })]);
    const again = await subscribe(CONFIRMATIONS, { after: seen.cursor }, shopper.token);
    await ingest(h, partner.key, [item(shop, shopper.card.number, { amount: 1000 })]);
    const events = await again.next(3);
    expect(events.map((e: any) => [e.type, e.amount.amount])).toEqual([
      ['CONFIRMED', 300],
      ['REVERSED', 200],
      ['PENDING', 100],
    ]);
    await new Promise((r) => setTimeout(r, 300));
    expect(again.events).toHaveLength(3);
    await again.stop();
  });

  it('delivers everything after eventCursor, even what happened before the subscription registered', async () => {
    const shop = await newShop(h);
    const shopper = await newShopper(h);
    const res = await h.gql<{ eventCursor: string }>('{ eventCursor }', {}, shopper.token);
    const cursor = res.data!.eventCursor;
    await ingest(h, partner.key, [item(shop, shopper.card.number, { amount: 2500 })]);
    const stream = await subscribe(CONFIRMATIONS, { after: cursor }, shopper.token);
    expect((await stream.next(1)).map((e: any) => [e.type, e.amount.amount])).toEqual([['PENDING', 250]]);
    await stream.stop();
  });

  it('publishes nothing for work that rolled back', async () => {
    const shop = await newShop(h);
    const shopper = await newShopper(h);
    const stream = await subscribe(CONFIRMATIONS, {}, shopper.token);
    const { id: userId } = await h.db.selectFrom('users').select('id').where('email', '=', shopper.email).executeTakeFirstOrThrow();
    await h.db
      .transaction()
      .execute(async (trx) => {
        await insertEvents(trx, [{ topic: 'CASHBACK', type: 'PENDING', subject_type: 'Cashback', subject_id: randomUUID(), user_id: userId }]);
        throw new Error('roll back');
      })
      .catch(() => undefined);
    await sequenceEvents(h.db);
    await ingest(h, partner.key, [item(shop, shopper.card.number, { amount: 7000 })]);
    const [event] = await stream.next(1);
    expect(event).toMatchObject({ type: 'PENDING', amount: { amount: 700 } });
    await new Promise((r) => setTimeout(r, 300));
    expect(stream.events).toHaveLength(1);
    await stream.stop();
  });

  it('is for signed-in users and ends with 4403 when the token expires', async () => {
    const shopper = await newShopper(h);
    const userId = (await h.db.selectFrom('users').select('id').where('email', '=', shopper.email).executeTakeFirstOrThrow()).id;
    const shortLived = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(userId)
      .setIssuer('hashback')
      .setIssuedAt()
      .setExpirationTime(Math.floor(Date.now() / 1000) + 2)
      .sign(h.security.tokenKey);
    const stream = await subscribe(CONFIRMATIONS, {}, shortLived);
    const closed = await Promise.race([stream.closed, new Promise<null>((r) => setTimeout(() => r(null), 6000))]);
    expect(closed?.code).toBe(4403);
  });
});

describe('merchantRedemptions', () => {
  it("gives the merchant its offers' redemptions without user data, and ends when its key is revoked", async () => {
    const shop = await newShop(h);
    const other = await newShop(h);
    const shopper = await newShopper(h);
    const stream = await subscribe(
      `subscription { merchantRedemptions { type amount { amount } offer { id } cursor } }`,
      {},
      shop.merchant.key,
    );
    await ingest(h, partner.key, [item(other, shopper.card.number), item(shop, shopper.card.number, { amount: 9000 })]);
    const [event] = await stream.next(1);
    expect(event).toEqual({ type: 'PENDING', amount: { amount: 900 }, offer: { id: shop.offerId }, cursor: expect.any(String) });
    const keys = await h.db.selectFrom('api_keys').select('id').where('merchant_id', '=', (await h.db.selectFrom('offers').select('merchant_id').where('id', '=', shop.offerDbId).executeTakeFirstOrThrow()).merchant_id).execute();
    await h.db.updateTable('api_keys').set({ revoked_at: new Date() }).where('id', 'in', keys.map((k) => k.id)).execute();
    const closed = await Promise.race([stream.closed, new Promise<null>((r) => setTimeout(() => r(null), 5000))]);
    expect(closed?.code).toBe(4403);
  });

  it('checks each key once per interval however many streams it holds, and ends only the revoked key\'s streams', async () => {
    const watch = h.app.events!.keys;
    const baseline = watch.keyCount;
    const revoked = await h.newMerchant();
    const kept = await h.newMerchant();
    const query = `subscription { merchantRedemptions { type cursor } }`;
    const streams = [await subscribe(query, {}, revoked.key), await subscribe(query, {}, revoked.key), await subscribe(query, {}, kept.key)];
    expect(watch.keyCount, 'one watch entry per key, not per stream').toBe(baseline + 2);
    await h.db.updateTable('api_keys').set({ revoked_at: new Date() }).where('merchant_id', '=', dbId(revoked.id)).execute();
    const timeout = <T>(p: Promise<T>, ms: number) => Promise.race([p, new Promise<null>((r) => setTimeout(() => r(null), ms))]);
    const [first, second] = await Promise.all([timeout(streams[0]!.closed, 5000), timeout(streams[1]!.closed, 5000)]);
    expect([first?.code, second?.code]).toEqual([4403, 4403]);
    expect(await timeout(streams[2]!.closed, 600), "the other key's stream stays open").toBeNull();
    await Promise.all(streams.map((s) => s.stop()));
    const deadline = Date.now() + 3000;
    while (watch.keyCount !== baseline && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(watch.keyCount).toBe(baseline);
  });
});

describe('offerFeed', () => {
  it('streams public changes of offers (not drafts) to anyone', async () => {
    const merchant = await h.newMerchant();
    const stream = await subscribe(`subscription($m: ID) { offerFeed(filter: { merchantId: $m }) { type offer { id status } } }`, { m: merchant.id }, null);
    const offerId = await h.newOffer(merchant.key);
    await h.mutate('pauseOffer', 'mutation($input: PauseOfferInput!) { pauseOffer(input: $input) { offer { id } userErrors { field message code } } }', { offerId }, merchant.key);
    const events = await stream.next(2);
    expect(events.map((e: any) => e.type)).toEqual(['PUBLISHED', 'PAUSED']);
    expect(events[1].offer).toEqual({ id: offerId, status: 'PAUSED' });
    await stream.stop();
  });
});

describe('resources', () => {
  it('leaves no listener or timer behind after 1,000 subscribe/unsubscribe cycles', async () => {
    const bus = h.app.events!.bus;
    const shopper = await newShopper(h);
    const baseline = bus.listenerCount;
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const timersBefore = timers();
    const client = createClient({ url, webSocketImpl: WebSocket, retryAttempts: 0, lazy: false, connectionParams: { authorization: `Bearer ${shopper.token}` } });
    const waitFor = async (ok: () => boolean, what: string) => {
      const deadline = Date.now() + 3000;
      while (!ok()) {
        if (Date.now() > deadline) throw new Error(what);
        await new Promise((r) => setTimeout(r, 1));
      }
    };
    try {
      for (let i = 0; i < 1000; i++) {
        // Half of them hold a token-expiry timer, half are the public feed.
        const query = i % 2 === 0 ? CONFIRMATIONS : 'subscription { offerFeed { type } }';
        const stop = client.subscribe({ query }, { next: () => undefined, error: () => undefined, complete: () => undefined });
        // Registered and waiting for its next event: the case a generator-based stream leaks.
        await waitFor(() => bus.listenerCount === baseline + 1, `subscription ${i} was never registered`);
        stop();
        await waitFor(() => bus.listenerCount === baseline, `subscription ${i} kept its listener after the client completed it`);
      }
      // A client that just goes away with live subscriptions lets go of them too.
      for (let i = 0; i < 3; i++) client.subscribe({ query: CONFIRMATIONS }, { next: () => undefined, error: () => undefined, complete: () => undefined });
      await waitFor(() => bus.listenerCount === baseline + 3, 'the last subscriptions were never registered');
    } finally {
      await client.dispose();
    }
    await waitFor(() => bus.listenerCount === baseline, 'listeners stayed after the socket closed');
    expect(bus.listenerCount).toBe(baseline);
    expect(timers(), 'credential-watch timers left behind').toBeLessThanOrEqual(timersBefore + 5);

    // The bus's own queues, closed with and without a pending read.
    for (let i = 0; i < 1000; i++) {
      const queue = bus.subscribe({});
      if (i % 2 === 0) void queue.next();
      queue.close();
    }
    expect(bus.listenerCount).toBe(baseline);
  });

  it('drops a consumer that falls more than its buffer behind, with a reason', async () => {
    const bus = new EventBus(h.db, h.app.events!.bus['logger'], 3);
    await bus.start();
    const queue = bus.subscribe({});
    for (let i = 1; i <= 4; i++) (bus as any).listeners.forEach((l: any) => l.push({ position: bus.position + i }));
    await expect(queue.next()).rejects.toBeInstanceOf(SlowConsumerError);
    expect(bus.listenerCount).toBe(0);
  });
});

describe('the bus reads the log only when there is something to read', () => {
  it('reads nothing for a signal whose head it delivered already (an instance hearing its own NOTIFY), and reads for a later head or an unknown one', async () => {
    let reads = 0;
    const counted = h.db.withPlugin({
      transformQuery: (args) => {
        reads++;
        return args.node;
      },
      transformResult: async (args) => args.result,
    });
    const bus = new EventBus(counted, h.app.events!.bus['logger']);
    await bus.start();
    reads = 0;
    await bus.pump(bus.position);
    await bus.pump(Math.max(0, bus.position - 1));
    expect(reads).toBe(0);
    await bus.pump(bus.position + 1);
    expect(reads).toBe(1);
    await bus.pump();
    expect(reads).toBe(2);
    // A signal for the head a reading in progress started after: that reading covers it.
    const head = bus.position + 1;
    const reading = bus.pump(head);
    await Promise.all([reading, bus.pump(head)]);
    expect(reads).toBe(3);
    // One for a later head, or for none, reads again once the reading in progress is done.
    await Promise.all([bus.pump(head + 1), bus.pump(head + 2)]);
    expect(reads).toBe(5);
  });
});

describe('the relay and other sequencers', () => {
  it.runIf(databaseKind() === 'postgres')(
    'delivers events another sequencer positioned, which sends no signal, soon after it lets go of the lock, not at the next poll (real Postgres)',
    async () => {
      // Sequencer calls of a relay of its own, whose poll (a minute) cannot be what delivers.
      let attempts = 0;
      let logReads = 0;
      const counted = h.db.withPlugin({
        transformQuery: (args) => {
          const text = JSON.stringify(args.node);
          if (text.includes('sequence_events')) attempts++;
          else if (text.includes('"events"') && text.includes('LimitNode')) logReads++;
          return args.node;
        },
        transformResult: async (args) => args.result,
      });
      const relay = startEventRelay({
        // Signals over Postgres NOTIFY, as instances of one database do.
        config: { ...h.config, eventPollMs: 60_000, databaseUrl: h.database.url },
        database: { ...h.database, db: counted },
        logger: h.app.events!.bus['logger'],
        liveKeys: async () => new Set(),
      });
      // A sequencer that is not a relay (a webhook dispatcher, a new endpoint's start) holds the lock.
      const other = new pg.Client({ connectionString: h.database.url });
      await other.connect();
      // What other instances hear.
      const heard: number[] = [];
      const instance = new pg.Client({ connectionString: h.database.url });
      await instance.connect();
      instance.on('notification', (message) => heard.push(Number(message.payload)));
      await instance.query('LISTEN hashback_events');
      try {
        // Listening: its connection's first act is a read of the log (the backfill).
        await vi.waitFor(() => expect(logReads).toBeGreaterThan(0));
        const subject = randomUUID();
        const queue = relay.bus.subscribe({ topic: 'CASHBACK' }, (event) => event.subject_id === subject);
        await other.query('select pg_advisory_lock(7215004)');
        await h.db.transaction().execute((trx) => insertEvents(trx, [{ topic: 'CASHBACK', type: 'PENDING', subject_type: 'Cashback', subject_id: subject }]));
        const before = attempts;
        relay.poke();
        await vi.waitFor(() => expect(attempts).toBeGreaterThan(before));
        // The relay found the lock taken. The other sequencer positions the event and lets go.
        await other.query('select * from sequence_events(5000)');
        await other.query('select pg_advisory_unlock(7215004)');
        let delivered: { subject_id: string; position: number } | undefined;
        void queue.next().then((next) => (delivered = next.value));
        await vi.waitFor(() => expect(delivered?.subject_id).toBe(subject), { timeout: 5000 });
        // …and the relay signalled the head for the other instances.
        const position = delivered!.position;
        await vi.waitFor(() => expect(Math.max(0, ...heard)).toBeGreaterThanOrEqual(position));
        queue.close();
      } finally {
        await instance.end();
        await other.end();
        await relay.close();
      }
    },
  );
});

describe('the bus routes each event to its followers only', () => {
  it('offers an event to listeners of its topic and its user or merchant, and to broader ones; never to another user or merchant', async () => {
    const bus = new EventBus(h.db, h.app.events!.bus['logger']);
    await bus.start();
    const [alice, bob, shop, other] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    const queues = {
      alice: bus.subscribe({ topic: 'CASHBACK', userId: alice }),
      bob: bus.subscribe({ topic: 'CASHBACK', userId: bob }),
      aliceAtShop: bus.subscribe({ topic: 'CASHBACK', userId: alice, merchantId: shop }),
      shopOffers: bus.subscribe({ topic: 'OFFER', merchantId: shop }),
      allCashback: bus.subscribe({ topic: 'CASHBACK' }),
      everything: bus.subscribe({}),
      onlyPublished: bus.subscribe({}, (e) => e.type === 'PUBLISHED'),
    };
    let position = bus.position;
    const event = (topic: string, type: string, who: { user_id?: string; merchant_id?: string }) =>
      ({ id: randomUUID(), topic, type, subject_type: 'X', subject_id: randomUUID(), user_id: null, merchant_id: null, data: {}, created_at: new Date(), position: ++position, ...who }) as never;
    const sent = [
      event('CASHBACK', 'PENDING', { user_id: alice, merchant_id: shop }),
      event('CASHBACK', 'PENDING', { user_id: bob, merchant_id: other }),
      event('CASHBACK', 'CONFIRMED', { user_id: alice, merchant_id: other }),
      event('OFFER', 'PUBLISHED', { merchant_id: shop }),
      event('OFFER', 'PUBLISHED', { merchant_id: other }),
    ];
    for (const e of sent) await (bus as unknown as { deliver(e: unknown): Promise<void> }).deliver(e);
    /** What a queue holds now (a delivered event is buffered at once), then closes it. */
    const drain = async (queue: ReturnType<EventBus['subscribe']>) => {
      const got: string[] = [];
      for (;;) {
        const next = await Promise.race([queue.next(), Promise.resolve('empty' as const)]);
        if (next === 'empty' || next.done) break;
        got.push(`${next.value.topic} ${next.value.type} ${next.value.user_id === alice ? 'alice' : next.value.user_id === bob ? 'bob' : '-'} ${next.value.merchant_id === shop ? 'shop' : 'other'}`);
      }
      queue.close();
      return got;
    };
    const received: Record<string, string[]> = {};
    for (const [name, queue] of Object.entries(queues)) received[name] = await drain(queue);
    expect(received).toEqual({
      alice: ['CASHBACK PENDING alice shop', 'CASHBACK CONFIRMED alice other'],
      bob: ['CASHBACK PENDING bob other'],
      aliceAtShop: ['CASHBACK PENDING alice shop'],
      shopOffers: ['OFFER PUBLISHED - shop'],
      allCashback: ['CASHBACK PENDING alice shop', 'CASHBACK PENDING bob other', 'CASHBACK CONFIRMED alice other'],
      everything: ['CASHBACK PENDING alice shop', 'CASHBACK PENDING bob other', 'CASHBACK CONFIRMED alice other', 'OFFER PUBLISHED - shop', 'OFFER PUBLISHED - other'],
      onlyPublished: ['OFFER PUBLISHED - shop', 'OFFER PUBLISHED - other'],
    });
    expect(bus.listenerCount).toBe(0);
  });
});
