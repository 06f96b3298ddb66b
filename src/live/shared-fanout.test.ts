/**
 * Shared fan-out through real graphql-ws clients on a real server: subscribers with the same
 * document, variables and audience share one execution per event, and never one another's view
 * (a merchant's drafts and owner-only counts, a user's own activations).
 */
import { createClient, type Client } from 'graphql-ws';
import { SignJWT } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { newShop, newShopper } from '../../test/cashback-fixtures.js';
import { dbId, startHarness, type Harness } from '../../test/harness.js';
import { headPosition, sequenceEvents } from '../outbox/outbox.repository.js';

let h: Harness;
let url: string;
/** What the bus holds without any subscriber (other parts of the app may follow it too). */
let idle: { listeners: number; subscriptions: number };

beforeAll(async () => {
  h = await startHarness({ LIVE_EVENTS: 'true', EVENT_POLL_MS: '200', SUBSCRIPTION_AUTH_CHECK_MS: '200' });
  url = (await h.app.listen(0, '127.0.0.1')).replace('http', 'ws');
  idle = { listeners: h.app.events!.bus.listenerCount, subscriptions: h.app.events!.openSubscriptions() };
});
afterAll(() => h.close());

const relay = () => h.app.events!;
const open: Client[] = [];

afterEach(async () => {
  await Promise.all(open.splice(0).map((client) => client.dispose()));
  // Every group ends with its last subscriber: nothing of this test executes in the next one.
  await expect.poll(() => relay().openSubscriptions()).toBe(idle.subscriptions);
  expect(relay().bus.listenerCount).toBe(idle.listeners);
});

/**
 * Waits until this instance's bus has delivered every event committed so far: a subscription
 * registered after it starts after them (on Postgres, delivery trails the commit).
 */
async function settled(): Promise<void> {
  await sequenceEvents(h.db);
  const head = await headPosition(h.db);
  relay().poke();
  await expect.poll(() => relay().bus.position).toBeGreaterThanOrEqual(head);
}

interface FeedEvent {
  type: string;
  offer: { id: string; [field: string]: unknown };
}

/** A graphql-ws client following one operation; resolves once the server counts it as live. */
async function follow(query: string, variables: Record<string, unknown>, token: string | null) {
  const before = relay().openSubscriptions();
  let closedWith!: (event: { code: number; reason: string }) => void;
  const closed = new Promise<{ code: number; reason: string }>((resolve) => (closedWith = resolve));
  const client = createClient({
    url,
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    connectionParams: token ? { authorization: `Bearer ${token}` } : {},
    on: { closed: (event) => closedWith(event as { code: number; reason: string }) },
  });
  open.push(client);
  const events: FeedEvent[] = [];
  const errors: unknown[] = [];
  client.subscribe<{ offerFeed: FeedEvent }>(
    { query, variables },
    {
      next: (result) => (result.errors ? errors.push(result.errors) : events.push(result.data!.offerFeed)),
      error: (error) => errors.push(error),
      complete: () => undefined,
    },
  );
  await expect.poll(() => relay().openSubscriptions(), { timeout: 5000 }).toBeGreaterThan(before);
  return {
    events,
    errors,
    /** How the server closed the socket. */
    closed,
    /** The first `count` events, once they are there. */
    async first(count: number): Promise<FeedEvent[]> {
      await expect.poll(() => events.length, { timeout: 5000 }).toBeGreaterThanOrEqual(count);
      return events.slice(0, count);
    },
  };
}

const mutation = (name: string, input: string) =>
  `mutation($input: ${input}!) { ${name}(input: $input) { offer { id } userErrors { field message code } } }`;
const pause = (offerId: string, key: string) => h.mutate('pauseOffer', mutation('pauseOffer', 'PauseOfferInput'), { offerId }, key);
const resume = (offerId: string, key: string) => h.mutate('resumeOffer', mutation('resumeOffer', 'ResumeOfferInput'), { offerId }, key);

describe('offerFeed shared fan-out', () => {
  it('executes the selection once per event for identical anonymous subscribers, who all receive the same frames', async () => {
    const shop = await newShop(h);
    await settled();
    const query = 'subscription Same($m: ID) { offerFeed(filter: { merchantId: $m }) { type offer { id status title } cursor } }';
    const subscribers = [];
    for (let i = 0; i < 4; i++) subscribers.push(await follow(query, { m: shop.merchant.id }, null));
    expect(relay().fanout.liveGroups, 'one group for the four').toBe(1);
    expect(relay().bus.listenerCount - idle.listeners, 'one bus listener for the four').toBe(1);
    const executions = relay().fanout.executions;

    await pause(shop.offerId, shop.merchant.key);
    // Frames show the offer as it is when they are executed: resume once the pause has reached them.
    await Promise.all(subscribers.map((s) => s.first(1)));
    await resume(shop.offerId, shop.merchant.key);
    const seen = await Promise.all(subscribers.map((s) => s.first(2)));
    expect(seen[0]!.map((e) => [e.type, e.offer.id, e.offer.status])).toEqual([
      ['PAUSED', shop.offerId, 'PAUSED'],
      ['RESUMED', shop.offerId, 'LIVE'],
    ]);
    for (const events of seen.slice(1)) expect(events).toEqual(seen[0]);
    expect(relay().fanout.executions - executions, 'one execution per event, not per subscriber').toBe(2);
    expect(subscribers.flatMap((s) => s.errors)).toEqual([]);
  });

  it("never gives an anonymous subscriber a merchant's drafts or owner-only counts, nor the merchant the anonymous view, with the same document and variables", async () => {
    const merchant = await h.newMerchant();
    const location = await h.newLocation(merchant.key);
    const query = 'subscription($m: ID) { offerFeed(filter: { merchantId: $m }) { type offer { id activationCount } } }';
    const anonymous = await follow(query, { m: merchant.id }, null);
    const owner = await follow(query, { m: merchant.id }, merchant.key);

    // A draft that stays a draft, then another offer published: the public's first event.
    const draftId = await h.newOffer(merchant.key, { locationIds: [location] }, { publish: false });
    await h.mutate('updateOffer', mutation('updateOffer', 'UpdateOfferInput'), { offerId: draftId, title: 'Still a draft' }, merchant.key);
    const offerId = await h.newOffer(merchant.key, { locationIds: [location] });

    // Events arrive in order: anything about the draft would come before the publication.
    expect(await anonymous.first(1)).toEqual([{ type: 'PUBLISHED', offer: { id: offerId, activationCount: null } }]);
    expect(await owner.first(4)).toEqual([
      { type: 'CREATED', offer: { id: draftId, activationCount: 0 } },
      { type: 'UPDATED', offer: { id: draftId, activationCount: 0 } },
      { type: 'CREATED', offer: { id: offerId, activationCount: 0 } },
      { type: 'PUBLISHED', offer: { id: offerId, activationCount: 0 } },
    ]);
    // A later public change is the anonymous subscriber's second event: nothing came in between.
    await pause(offerId, merchant.key);
    expect((await anonymous.first(2)).map((e) => e.type)).toEqual(['PUBLISHED', 'PAUSED']);
  });

  it("never shares a user's own field (viewerHasActivated) with another user or with anonymous subscribers", async () => {
    const shop = await newShop(h);
    const activated = await newShopper(h, shop.offerId);
    const other = await newShopper(h);
    const query = 'subscription($m: ID) { offerFeed(filter: { merchantId: $m }) { type offer { id viewerHasActivated } } }';
    const variables = { m: shop.merchant.id };
    await settled();
    const streams = {
      other: await follow(query, variables, other.token),
      activated: await follow(query, variables, activated.token),
      anonymous: await follow(query, variables, null),
      activatedAgain: await follow(query, variables, activated.token),
    };

    await pause(shop.offerId, shop.merchant.key);
    const [first] = await streams.activated.first(1);
    expect(first).toEqual({ type: 'PAUSED', offer: { id: shop.offerId, viewerHasActivated: true } });
    expect(await streams.activatedAgain.first(1)).toEqual([first]);
    expect(await streams.other.first(1)).toEqual([{ type: 'PAUSED', offer: { id: shop.offerId, viewerHasActivated: false } }]);
    expect(await streams.anonymous.first(1)).toEqual([{ type: 'PAUSED', offer: { id: shop.offerId, viewerHasActivated: false } }]);
    expect(relay().fanout.liveGroups, "one group per audience: the two users' and the anonymous one").toBe(3);
  });

  it('keeps serving the rest of a group when one subscriber leaves, and lets go of the stream with the last', async () => {
    const shop = await newShop(h);
    const query = 'subscription($m: ID) { offerFeed(filter: { merchantId: $m }) { type } }';
    await settled();
    const leaving = await follow(query, { m: shop.merchant.id }, null);
    const staying = await follow(query, { m: shop.merchant.id }, null);
    await open[0]!.dispose();
    await expect.poll(() => relay().openSubscriptions()).toBe(idle.subscriptions + 1);
    expect(relay().bus.listenerCount - idle.listeners).toBe(1);

    await pause(shop.offerId, shop.merchant.key);
    expect((await staying.first(1)).map((e) => e.type)).toEqual(['PAUSED']);
    expect(leaving.events).toEqual([]);
    // afterEach checks that the group's bus listener goes once `staying` leaves too.
  });

  it("ends only the subscriber whose token expired, not the rest of its user's group", async () => {
    const shop = await newShop(h);
    const user = await h.newUser();
    const shortLived = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(dbId(user.id))
      .setIssuer('hashback')
      .setIssuedAt()
      .setExpirationTime(Math.floor(Date.now() / 1000) + 2)
      .sign(h.security.tokenKey);
    const query = 'subscription($m: ID) { offerFeed(filter: { merchantId: $m }) { type offer { id viewerHasActivated } } }';
    await settled();
    const expiring = await follow(query, { m: shop.merchant.id }, shortLived);
    const lasting = await follow(query, { m: shop.merchant.id }, user.token);
    expect(relay().fanout.liveGroups, "one group for the user's two subscriptions").toBe(1);

    expect((await expiring.closed).code).toBe(4403);
    await expect.poll(() => relay().openSubscriptions()).toBe(idle.subscriptions + 1);
    await pause(shop.offerId, shop.merchant.key);
    expect(await lasting.first(1)).toEqual([{ type: 'PAUSED', offer: { id: shop.offerId, viewerHasActivated: false } }]);
  });

  it("closes every subscriber of an API key's group when the key is revoked (4403), and no one else's", async () => {
    const shop = await newShop(h);
    const revoked = await h.newMerchant();
    const query = 'subscription($m: ID) { offerFeed(filter: { merchantId: $m }) { type } }';
    await settled();
    const first = await follow(query, { m: shop.merchant.id }, revoked.key);
    const second = await follow(query, { m: shop.merchant.id }, revoked.key);
    const anonymous = await follow(query, { m: shop.merchant.id }, null);
    await h.db.updateTable('api_keys').set({ revoked_at: new Date() }).where('merchant_id', '=', dbId(revoked.id)).execute();
    expect([(await first.closed).code, (await second.closed).code]).toEqual([4403, 4403]);

    await pause(shop.offerId, shop.merchant.key);
    expect((await anonymous.first(1)).map((e) => e.type)).toEqual(['PAUSED']);
    expect([first.events, second.events]).toEqual([[], []]);
  });
});
