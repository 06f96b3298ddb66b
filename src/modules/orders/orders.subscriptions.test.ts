/**
 * The live order streams over graphql-ws: the buyer's `orderUpdates` and `purchaseIntentUpdates`,
 * and a merchant's `merchantOrders`, resumed from a cursor; a merchant never sees another's orders.
 */
import { createClient, type Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { startHarness, type Harness } from '../../../test/harness.js';
import { encodeGlobalId } from '../../lib/ids.js';
import { buyPost, newBuyer, newWorld, type Buyer, type World } from './orders-fixtures.js';

let h: Harness;
let url: string;
const clients: Client[] = [];

beforeAll(async () => {
  h = await startHarness({ LIVE_EVENTS: 'true', EVENT_POLL_MS: '200' });
  url = (await h.app.listen(0, '127.0.0.1')).replace('http', 'ws');
});
afterAll(async () => {
  for (const c of clients) await c.dispose();
  await h?.close();
});

/** Subscribes with `key`; every `data[field]` received lands in the returned list. */
function subscribe(key: string, query: string, field: string, variables: Record<string, unknown>): unknown[] {
  const client = createClient({ url, webSocketImpl: WebSocket, retryAttempts: 0, connectionParams: { authorization: `Bearer ${key}` } });
  clients.push(client);
  const received: unknown[] = [];
  client.subscribe<Record<string, unknown>>(
    { query, variables },
    { next: (r) => received.push(r.errors ? { errors: r.errors } : r.data![field]), error: (e) => received.push({ error: String(e) }), complete: () => undefined },
  );
  return received;
}

async function paidOrder(world: World, b: Buyer): Promise<string> {
  const started = await buyPost(h, world, b);
  if (!started.ok) throw new Error(started.reason);
  const res = await h.gql(
    'mutation($input: ConfirmPurchaseIntentInput!) { confirmPurchaseIntent(input: $input) { order { id } userErrors { code } } }',
    { input: { intentId: encodeGlobalId('PurchaseIntent', started.intent.id) } },
    b.token,
  );
  return res.data.confirmPurchaseIntent.order.id as string;
}

describe('order streams', () => {
  it('push the buyer its order and intent changes and the merchant its own orders only, from a cursor', async () => {
    const [world, otherWorld] = [await newWorld(h), await newWorld(h)];
    const b = await newBuyer(h);
    const after = (await h.gql('{ eventCursor }')).data.eventCursor as string;
    const ORDER = '{ type status order { id amount { amount } card { last4 } } cursor }';
    const buyerOrders = subscribe(b.token, `subscription($after: String) { orderUpdates(after: $after) ${ORDER} }`, 'orderUpdates', { after });
    const buyerIntents = subscribe(b.token, 'subscription($after: String) { purchaseIntentUpdates(after: $after) { type status purchaseIntent { id } } }', 'purchaseIntentUpdates', { after });
    const merchant = subscribe(world.merchant.key, `subscription($after: String) { merchantOrders(after: $after) ${ORDER} }`, 'merchantOrders', { after });
    const other = subscribe(otherWorld.merchant.key, `subscription($after: String) { merchantOrders(after: $after) ${ORDER} }`, 'merchantOrders', { after });

    const orderId = await paidOrder(world, b);
    // The other merchant's own order is the marker: it arrives after anything of the first would have.
    const otherOrderId = await paidOrder(otherWorld, await newBuyer(h));

    await vi.waitFor(() => expect(other).toHaveLength(1), { timeout: 10_000, interval: 50 });
    await vi.waitFor(() => expect(buyerIntents).toHaveLength(3), { timeout: 10_000, interval: 50 });
    await vi.waitFor(() => expect(merchant).toHaveLength(1), { timeout: 10_000, interval: 50 });
    expect(buyerOrders).toEqual([{ type: 'PAID', status: 'PAID', order: { id: orderId, amount: { amount: 1500 }, card: { last4: b.cardNumber.slice(-4) } }, cursor: expect.any(String) }]);
    expect(buyerIntents.map((e) => (e as { type: string }).type)).toEqual(['CREATED', 'CONFIRMED', 'CHARGED']);
    expect(merchant).toEqual([{ type: 'PAID', status: 'PAID', order: { id: orderId, amount: { amount: 1500 }, card: null }, cursor: expect.any(String) }]);
    expect(other).toEqual([{ type: 'PAID', status: 'PAID', order: { id: otherOrderId, amount: { amount: 1500 }, card: null }, cursor: expect.any(String) }]);
  });
});
