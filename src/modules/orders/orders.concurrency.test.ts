/**
 * Hashtag orders under concurrency, on real Postgres (PGlite runs transactions one after another,
 * so it cannot show a race): the stock is never oversold, one intent is charged once however many
 * settlements race, the daily limit holds for posts arriving at once, an order is refunded once,
 * and two expiry jobs expire each intent once.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseKind, randomCardNumber, startHarness, type Harness } from '../../../test/harness.js';
import { encodeGlobalId } from '../../lib/ids.js';
import { buyPost, insertCard, insertSocialAccount, newBuyer, newWorld, offerRow, settleDeps, stockOf, type Buyer, type World } from './orders-fixtures.js';
import { confirmPurchaseIntent, expireDueIntents, settleIntent } from './orders.service.js';

const onPostgres = databaseKind() === 'postgres';

describe.runIf(onPostgres)('orders under concurrency (Postgres)', () => {
  let h: Harness;
  const lines: string[] = [];

  beforeAll(async () => {
    h = await startHarness({}, { poolSize: 24 });
  });
  afterAll(() => h?.close());

  /** `n` buyers inserted directly (signing up 200 users through the API hashes 200 passwords). */
  async function manyBuyers(n: number): Promise<Buyer[]> {
    const buyers: Buyer[] = [];
    for (let i = 0; i < n; i++) {
      const email = `bulk-${randomBytes(6).toString('hex')}@example.com`;
      const user = await h.db
        .insertInto('users')
        .values({ email, email_key: email, password_hash: 'not-a-hash', display_name: 'Bulk Buyer', country: 'US' })
        .returning('id')
        .executeTakeFirstOrThrow();
      const cardNumber = randomCardNumber();
      const cardId = await insertCard(h, user.id, cardNumber);
      const account = await insertSocialAccount(h.db, user.id);
      buyers.push({ id: encodeGlobalId('User', user.id), token: '', userId: user.id, email, cardId, cardNumber, socialAccountId: account.id, handle: account.handle });
    }
    return buyers;
  }

  /**
   * Runs the calls all at once, but at most `n` holding a connection: the pool (24) would
   * otherwise time out the connection requests of the last of 200 transactions queued behind
   * the offer row's lock. `n` transactions still race for the same row.
   */
  async function allAtOnce<T>(calls: (() => Promise<T>)[], n = 20): Promise<T[]> {
    const results: T[] = new Array(calls.length);
    let next = 0;
    await Promise.all(
      Array.from({ length: n }, async () => {
        while (next < calls.length) {
          const i = next++;
          results[i] = await calls[i]!();
        }
      }),
    );
    return results;
  }

  /** Confirms an intent in the app as the service does, without settling it (the races settle). */
  async function confirmedIntent(world: World, b: Buyer): Promise<string> {
    const started = await buyPost(h, world, b);
    if (!started.ok) throw new Error(started.reason);
    await h.db
      .updateTable('purchase_intents')
      .set({ status: 'CONFIRMED', confirmed_via: 'APP', confirmed_at: new Date() })
      .where('id', '=', started.intent.id)
      .execute();
    return started.intent.id;
  }

  it('200 buyers at once (20 transactions racing at a time) for a stock of 10: exactly 10 intents hold the 10 units, the other 190 are SOLD_OUT', async () => {
    const world = await newWorld(h, { quantity: 10 });
    const buyers = await manyBuyers(200);
    const offer = await offerRow(h.db, world.offerId);
    const results = await allAtOnce(buyers.map((b) => () => buyPost(h, world, b, { offer })));
    expect(results.filter((r) => r.ok)).toHaveLength(10);
    expect(results.filter((r) => !r.ok).map((r) => (r.ok ? null : r.reason))).toEqual(Array(190).fill('SOLD_OUT'));
    expect(await stockOf(h.db, world.offerId)).toEqual({ available: 0, held: 10 });
    const intents = await h.db.selectFrom('purchase_intents').select('user_id').where('offer_id', '=', world.offerId).execute();
    expect(intents).toHaveLength(10);
    expect(new Set(intents.map((i) => i.user_id)).size).toBe(10);
  });

  it('20 settlements of one confirmed intent at once: one charge, one order, one posting, one receipt', async () => {
    const world = await newWorld(h);
    const intentId = await confirmedIntent(world, await newBuyer(h));
    const results = await Promise.all(Array.from({ length: 20 }, () => settleIntent(settleDeps(h, lines), intentId)));
    const orders = await h.db.selectFrom('orders').select('id').where('intent_id', '=', intentId).execute();
    expect(orders).toHaveLength(1);
    expect(results).toEqual(Array(20).fill({ status: 'CHARGED', orderId: orders[0]!.id }));
    expect(await h.db.selectFrom('sandbox_charges').select('id').where('idempotency_key', '=', intentId).execute()).toHaveLength(1);
    expect(await h.db.selectFrom('ledger_entries').select('id').where('subject_id', '=', orders[0]!.id).execute()).toHaveLength(2);
    expect(await h.db.selectFrom('emails').select('id').where('subject_id', '=', orders[0]!.id).execute()).toHaveLength(1);
    expect(await stockOf(h.db, world.offerId)).toEqual({ available: 4, held: 0 });
  });

  it('a confirm in the app racing the payment job and other settlements: still one charge and one order', async () => {
    const world = await newWorld(h);
    const b = await newBuyer(h);
    const started = await buyPost(h, world, b);
    if (!started.ok) throw new Error(started.reason);
    const ctx = { db: h.db, principal: { kind: 'user' as const, userId: b.userId }, config: h.config, security: h.security, logger: settleDeps(h, lines).logger } as never;
    const confirms = Array.from({ length: 5 }, () => confirmPurchaseIntent(ctx, { intentId: encodeGlobalId('PurchaseIntent', started.intent.id) }));
    const answers = await Promise.all(confirms);
    const settled = await Promise.all(Array.from({ length: 5 }, () => settleIntent(settleDeps(h, lines), started.intent.id)));
    const orders = await h.db.selectFrom('orders').select('id').where('intent_id', '=', started.intent.id).execute();
    expect(orders).toHaveLength(1);
    for (const a of answers) expect(a.order?.id).toBe(orders[0]!.id);
    expect(settled).toEqual(Array(5).fill({ status: 'CHARGED', orderId: orders[0]!.id }));
    expect(await h.db.selectFrom('sandbox_charges').select('id').where('idempotency_key', '=', started.intent.id).execute()).toHaveLength(1);
  });

  it('the daily limit holds for buy posts arriving at once: a 3,000 limit takes 2 of 6 purchases of 1,500', async () => {
    const b = await newBuyer(h, { dailyLimit: 3000 });
    const worlds = await Promise.all(Array.from({ length: 6 }, () => newWorld(h)));
    const results = await Promise.all(worlds.map((w) => buyPost(h, w, b)));
    expect(results.filter((r) => r.ok)).toHaveLength(2);
    expect(results.filter((r) => !r.ok).map((r) => (r.ok ? null : r.reason))).toEqual(Array(4).fill('SPENDING_LIMIT_REACHED'));
    const held = await Promise.all(worlds.map((w) => stockOf(h.db, w.offerId)));
    expect(held.reduce((n, s) => n + s.held, 0)).toBe(2);
  });

  it('two refunds of one order at once: one refund at the gateway, one REFUND posting, the unit back once', async () => {
    const world = await newWorld(h);
    const intentId = await confirmedIntent(world, await newBuyer(h));
    const settled = await settleIntent(settleDeps(h, lines), intentId);
    if (settled.status !== 'CHARGED') throw new Error('not charged');
    const REFUND = `mutation($input: RefundOrderInput!) { refundOrder(input: $input) { order { status } userErrors { code } } }`;
    const input = { orderId: encodeGlobalId('Order', settled.orderId) };
    const answers = await Promise.all([h.gql(REFUND, { input }, world.merchant.key), h.gql(REFUND, { input }, world.merchant.key)]);
    const payloads = answers.map((a) => a.data.refundOrder).sort((a, b) => a.userErrors.length - b.userErrors.length);
    expect(payloads).toEqual([
      { order: { status: 'REFUNDED' }, userErrors: [] },
      { order: null, userErrors: [{ code: 'ORDER_ALREADY_REFUNDED' }] },
    ]);
    expect(await h.db.selectFrom('sandbox_refunds').select('id').where('idempotency_key', '=', `refund:${settled.orderId}`).execute()).toHaveLength(1);
    expect(await h.db.selectFrom('ledger_entries').select('id').where('subject_id', '=', settled.orderId).where('kind', '=', 'REFUND').execute()).toHaveLength(2);
    expect(await stockOf(h.db, world.offerId)).toEqual({ available: 5, held: 0 });
  });

  it('two expiry jobs at once expire each due intent once and release exactly its unit', async () => {
    const world = await newWorld(h, { quantity: 30 });
    const past = new Date(Date.now() - 30 * 60_000);
    const buyers = await manyBuyers(25);
    const offer = await offerRow(h.db, world.offerId);
    for (const b of buyers) await buyPost(h, world, b, { offer, now: past });
    expect(await stockOf(h.db, world.offerId)).toEqual({ available: 5, held: 25 });
    const now = new Date();
    await Promise.all([expireDueIntents(h.db, now), expireDueIntents(h.db, now), expireDueIntents(h.db, now)]);
    expect(await stockOf(h.db, world.offerId)).toEqual({ available: 30, held: 0 });
    const events = await h.db
      .selectFrom('events')
      .innerJoin('purchase_intents', 'purchase_intents.id', 'events.subject_id')
      .select('events.id')
      .where('purchase_intents.offer_id', '=', world.offerId)
      .where('events.type', '=', 'EXPIRED')
      .execute();
    expect(events).toHaveLength(25);
  });
});
