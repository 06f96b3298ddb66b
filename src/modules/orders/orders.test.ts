/**
 * Hashtag orders end to end below the social module: intents from buy posts (limits, stock held
 * and released), confirmation by post and in the app, the charge through the sandbox gateway
 * (approved, declined, retryable, answer lost), orders fulfilled and refunded by the merchant, the
 * expiry job, cancellations, and what the e-mails, events, replies and logs never contain.
 * Runs on PGlite and on Postgres; races are in orders.concurrency.test.ts (Postgres).
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codes, dbId, startHarness, type Harness } from '../../../test/harness.js';
import { encodeGlobalId } from '../../lib/ids.js';
import { workQueue } from '../../jobs/queue.js';
import { dispatchWebhooks } from '../webhooks/webhook-delivery.js';
import { containsCardNumber } from '../cards/card-number.js';
import { ledgerTotals } from '../ledger/ledger.js';
import { buyPost, confirmPost, inMinutes, insertSocialAccount, newBuyer, newWorld, offerRow, settleDeps, stockOf, type Buyer, type World } from './orders-fixtures.js';
import { cancelOpenIntentsOfAccount, expireDueIntents, paymentHandler, PAYMENT_BACKOFF, settleIntent } from './orders.service.js';

let h: Harness;
const logLines: string[] = [];
/** Every card number a buyer of this file holds: the last test looks for them everywhere. */
const numbers = new Set<string>();

beforeAll(async () => {
  // Webhook endpoints on a local address (nothing is sent: only the dispatcher's deliveries are read).
  h = await startHarness({ WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true' });
});
afterAll(() => h.close());

const deps = () => settleDeps(h, logLines);

async function buyer(options: Parameters<typeof newBuyer>[1] = {}): Promise<Buyer> {
  const b = await newBuyer(h, options);
  if (b.cardNumber) numbers.add(b.cardNumber);
  return b;
}

const intentRow = (id: string) => h.db.selectFrom('purchase_intents').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
const ordersOf = (intentId: string) => h.db.selectFrom('orders').selectAll().where('intent_id', '=', intentId).execute();
const chargesOf = (intentId: string) => h.db.selectFrom('sandbox_charges').selectAll().where('idempotency_key', '=', intentId).execute();
const emailsAbout = (subjectId: string) => h.db.selectFrom('emails').selectAll().where('subject_id', '=', subjectId).orderBy('created_at').execute();
const repliesAbout = (intentId: string) => h.db.selectFrom('social_replies').selectAll().where('subject_id', '=', intentId).orderBy('position').execute();
const eventsAbout = (subjectId: string) => h.db.selectFrom('events').selectAll().where('subject_id', '=', subjectId).orderBy('id').execute();
const ledgerOf = (orderId: string) => h.db.selectFrom('ledger_entries').selectAll().where('subject_type', '=', 'Order').where('subject_id', '=', orderId).execute();

async function intentOf(world: World, b: Buyer, options: Parameters<typeof buyPost>[3] = {}) {
  const started = await buyPost(h, world, b, options);
  if (!started.ok) throw new Error(`buy post refused: ${started.reason}`);
  return started.intent;
}

const CONFIRM = `mutation($input: ConfirmPurchaseIntentInput!) {
  confirmPurchaseIntent(input: $input) {
    purchaseIntent { id status reason declineCode confirmedVia price { amount currency } card { last4 } order { id } }
    order { id status amount { amount } offer { id } }
    userErrors { field message code }
  }
}`;
const CANCEL = `mutation($input: CancelPurchaseIntentInput!) {
  cancelPurchaseIntent(input: $input) { purchaseIntent { id status reason } userErrors { field message code } }
}`;
const FULFIL = `mutation($input: FulfillOrderInput!) { fulfillOrder(input: $input) { order { id status fulfilledAt } userErrors { field message code } } }`;
const REFUND = `mutation($input: RefundOrderInput!) { refundOrder(input: $input) { order { id status refundedAt } userErrors { field message code } } }`;

const intentGid = (id: string) => encodeGlobalId('PurchaseIntent', id);
const orderGid = (id: string) => encodeGlobalId('Order', id);

async function confirmInApp(b: Buyer, intentId: string, idempotencyKey?: string) {
  const res = await h.gql(CONFIRM, { input: { intentId: intentGid(intentId), ...(idempotencyKey ? { idempotencyKey } : {}) } }, b.token);
  expect(res.errors).toBeUndefined();
  return res.data.confirmPurchaseIntent;
}

/** A paid order: buy post, confirm in the app. */
async function paidOrder(world: World, b?: Buyer) {
  const who = b ?? (await buyer());
  const intent = await intentOf(world, who);
  const confirmed = await confirmInApp(who, intent.id);
  expect(confirmed.userErrors).toEqual([]);
  return { buyer: who, intent, orderId: dbId(confirmed.order.id) };
}

describe('a buy post', () => {
  it('holds one unit, writes the CREATED event, the "not you? cancel it" e-mail and a confirm-in-app reply', async () => {
    const world = await newWorld(h, { quantity: 3 });
    const b = await buyer();
    const now = new Date();
    const intent = await intentOf(world, b, { now });
    expect(intent).toMatchObject({ status: 'AWAITING_CONFIRMATION', user_id: b.userId, card_id: b.cardId, price: 1500, currency: 'USD' });
    expect(intent.expires_at.getTime()).toBe(now.getTime() + 15 * 60_000);
    expect(await stockOf(h.db, world.offerId)).toEqual({ available: 2, held: 1 });

    expect((await eventsAbout(intent.id)).map((e) => [e.topic, e.type, e.user_id, e.merchant_id])).toEqual([
      ['PURCHASE_INTENT', 'CREATED', b.userId, world.merchant.dbId],
    ]);
    const [email] = await emailsAbout(intent.id);
    expect(email).toMatchObject({ kind: 'PURCHASE_STARTED', recipient: b.email, user_id: b.userId });
    expect(email!.body).toContain(`••${b.cardNumber.slice(-4)}`);
    expect(email!.body).toContain('$15.00');
    expect(email!.body).toContain('cancelPurchaseIntent');
    expect(email!.body).toContain('A post alone cannot charge your card');
    const replies = await repliesAbout(intent.id);
    expect(replies.map((r) => [r.kind, r.in_reply_to_post_id, r.partner_id])).toEqual([['CONFIRM_IN_APP', intent.buy_post_id, world.partnerId]]);
    expect(replies[0]!.text).toContain(`@${b.handle}`);
  });

  it('prompts a CONFIRM_BY_POST buyer to confirm with the confirm hashtag', async () => {
    const world = await newWorld(h);
    const b = await buyer({ setting: 'CONFIRM_BY_POST' });
    const intent = await intentOf(world, b);
    const offer = await offerRow(h.db, world.offerId);
    const [reply] = await repliesAbout(intent.id);
    expect(reply!.kind).toBe('CONFIRM_PROMPT');
    expect(reply!.text).toContain(offer.confirm_hashtag!);
    expect((await emailsAbout(intent.id))[0]!.body).toContain(`post ${offer.confirm_hashtag} from @${b.handle}`);
  });

  it.each([
    ['HASHTAG_BUYING_OFF', async () => ({ b: await buyer({ setting: 'OFF' }), world: await newWorld(h) })],
    ['NO_CARD_LINKED', async () => ({ b: await buyer({ cardNumber: null }), world: await newWorld(h) })],
  ] as const)('is refused with %s and changes nothing', async (reason, make) => {
    const { b, world } = await make();
    expect(await buyPost(h, world, b)).toEqual({ ok: false, reason });
    expect(await stockOf(h.db, world.offerId)).toEqual({ available: 5, held: 0 });
    expect(await h.db.selectFrom('purchase_intents').select('id').where('user_id', '=', b.userId).execute()).toEqual([]);
  });

  it('is refused as OFFER_NOT_LIVE for a paused offer, and as INTENT_ALREADY_OPEN while one is open', async () => {
    const world = await newWorld(h);
    const b = await buyer();
    await intentOf(world, b);
    expect(await buyPost(h, world, b)).toEqual({ ok: false, reason: 'INTENT_ALREADY_OPEN' });
    await h.mutate('pauseOffer', 'mutation($input: PauseOfferInput!) { pauseOffer(input: $input) { offer { id } userErrors { field message code } } }', { offerId: world.offerGlobalId }, world.merchant.key);
    expect(await buyPost(h, world, await buyer())).toEqual({ ok: false, reason: 'OFFER_NOT_LIVE' });
    expect(await stockOf(h.db, world.offerId)).toEqual({ available: 4, held: 1 });
  });

  it('is refused as USER_LIMIT_REACHED once the buyer has perUserLimit purchases, and as SOLD_OUT when no unit is left', async () => {
    const world = await newWorld(h, { quantity: 2, perUserLimit: 1 });
    const first = await paidOrder(world);
    expect(await buyPost(h, world, first.buyer)).toEqual({ ok: false, reason: 'USER_LIMIT_REACHED' });
    await intentOf(world, await buyer());
    expect(await stockOf(h.db, world.offerId)).toEqual({ available: 0, held: 1 });
    expect(await buyPost(h, world, await buyer())).toEqual({ ok: false, reason: 'SOLD_OUT' });
    expect(await stockOf(h.db, world.offerId)).toEqual({ available: 0, held: 1 });
  });

  it('is refused as SPENDING_LIMIT_REACHED past the daily limit (charged and open intents of the UTC day count)', async () => {
    const b = await buyer({ dailyLimit: 3000 });
    const [a, c, d] = [await newWorld(h), await newWorld(h), await newWorld(h)];
    await paidOrder(a, b);
    await intentOf(c, b);
    expect(await buyPost(h, d, b)).toEqual({ ok: false, reason: 'SPENDING_LIMIT_REACHED' });
    expect(await stockOf(h.db, d.offerId)).toEqual({ available: 5, held: 0 });
  });
});

describe('the daily limit', () => {
  it('does not count a refunded order: nothing was spent', async () => {
    const b = await buyer({ dailyLimit: 3000 });
    const [a, c, d] = [await newWorld(h), await newWorld(h), await newWorld(h)];
    const refunded = await paidOrder(a, b);
    expect((await h.gql(REFUND, { input: { orderId: orderGid(refunded.orderId) } }, a.merchant.key)).data.refundOrder.userErrors).toEqual([]);
    await paidOrder(c, b);
    expect(await buyPost(h, d, b)).toMatchObject({ ok: true });
  });

  it('counts an order on the UTC day it was paid, whenever its purchase started', async () => {
    const b = await buyer({ dailyLimit: 3000 });
    const [a, c, d] = [await newWorld(h), await newWorld(h), await newWorld(h)];
    // Started just before midnight, paid after it: today's money.
    const late = await paidOrder(a, b);
    await sql`update purchase_intents set created_at = now() - interval '1 day' where id = ${late.intent.id}`.execute(h.db);
    await paidOrder(c, b);
    expect(await buyPost(h, d, b)).toEqual({ ok: false, reason: 'SPENDING_LIMIT_REACHED' });
  });

  it('counts a purchase still awaiting confirmation whenever it started: it may be paid today', async () => {
    const b = await buyer({ dailyLimit: 3000 });
    const [a, c, d] = [await newWorld(h), await newWorld(h), await newWorld(h)];
    const open = await intentOf(a, b);
    await sql`update purchase_intents set created_at = now() - interval '1 day' where id = ${open.id}`.execute(h.db);
    await paidOrder(c, b);
    expect(await buyPost(h, d, b)).toEqual({ ok: false, reason: 'SPENDING_LIMIT_REACHED' });
  });
});

describe('confirming', () => {
  it('in the app charges once: one order, one sandbox charge, a balanced CHARGE posting, a receipt, events and an ORDER_PLACED reply', async () => {
    const world = await newWorld(h, { quantity: 3 });
    const b = await buyer();
    const intent = await intentOf(world, b);
    const answer = await confirmInApp(b, intent.id, 'confirm-1');
    expect(answer.userErrors).toEqual([]);
    expect(answer.purchaseIntent).toMatchObject({ status: 'CHARGED', confirmedVia: 'APP', price: { amount: 1500, currency: 'USD' }, card: { last4: b.cardNumber.slice(-4) } });
    expect(answer.order).toMatchObject({ status: 'PAID', amount: { amount: 1500 }, offer: { id: world.offerGlobalId } });
    const orderId = dbId(answer.order.id);

    // Again, with and without the key: the same order, no second charge.
    expect((await confirmInApp(b, intent.id, 'confirm-1')).order.id).toBe(answer.order.id);
    expect((await confirmInApp(b, intent.id)).order.id).toBe(answer.order.id);
    expect(await settleIntent(deps(), intent.id)).toEqual({ status: 'CHARGED', orderId });

    expect(await chargesOf(intent.id)).toHaveLength(1);
    expect(await ordersOf(intent.id)).toHaveLength(1);
    expect(await stockOf(h.db, world.offerId)).toEqual({ available: 2, held: 0 });
    const ledger = await ledgerOf(orderId);
    expect(ledger.map((e) => [e.kind, e.account, Number(e.amount)]).sort()).toEqual([
      ['CHARGE', 'CARD_CHARGES', -1500],
      ['CHARGE', 'MERCHANT_PAYABLE', 1500],
    ]);
    for (const [, total] of await ledgerTotals(h.db)) expect(total).toBe(0);
    const [receipt] = await emailsAbout(orderId);
    expect(receipt).toMatchObject({ kind: 'ORDER_RECEIPT', recipient: b.email });
    expect(receipt!.body).toContain(`••${b.cardNumber.slice(-4)}`);
    expect(receipt!.subject).toContain('$15.00');
    expect((await eventsAbout(intent.id)).map((e) => e.type)).toEqual(['CREATED', 'CONFIRMED', 'CHARGED']);
    expect((await eventsAbout(orderId)).map((e) => [e.topic, e.type])).toEqual([['ORDER', 'PAID']]);
    expect((await repliesAbout(intent.id)).map((r) => r.kind)).toEqual(['CONFIRM_IN_APP', 'ORDER_PLACED']);
  });

  it('by post never charges a CONFIRM_IN_APP buyer: CONFIRM_IN_APP_ONLY, and nothing changes', async () => {
    const world = await newWorld(h);
    const b = await buyer();
    const intent = await intentOf(world, b);
    expect(await confirmPost(h, world, b)).toEqual({ ok: false, reason: 'CONFIRM_IN_APP_ONLY' });
    expect(await intentRow(intent.id)).toEqual(intent);
    expect(await h.db.selectFrom('queued_jobs').select('id').where('queue', '=', 'payments').where('key', '=', intent.id).execute()).toEqual([]);
    expect(await chargesOf(intent.id)).toEqual([]);
  });

  it('by post, for a CONFIRM_BY_POST buyer, confirms and queues the payment job that charges it', async () => {
    const world = await newWorld(h);
    const b = await buyer({ setting: 'CONFIRM_BY_POST' });
    const intent = await intentOf(world, b);
    const confirmed = await confirmPost(h, world, b);
    expect(confirmed).toMatchObject({ ok: true, intent: { status: 'CONFIRMED', confirmed_via: 'POST' } });
    const handler = paymentHandler(deps());
    // The job waits a little for the confirming request to settle first; run it as if later.
    const later = () => inMinutes(1);
    let round = { done: 0, dead: 0, retried: 0 };
    for (let i = 0; i < 5 && round.done === 0; i++) round = await workQueue(h.db, handler, { logger: deps().logger, maxAttempts: 3, backoff: PAYMENT_BACKOFF, now: later, limit: 100 });
    expect((await intentRow(intent.id)).status).toBe('CHARGED');
    expect(await ordersOf(intent.id)).toHaveLength(1);
    expect(await chargesOf(intent.id)).toHaveLength(1);
  });

  it('from another handle, after the window, or without an intent changes nothing and says why', async () => {
    const world = await newWorld(h, { confirmWindowMinutes: 5 });
    const b = await buyer({ setting: 'CONFIRM_BY_POST' });
    expect(await confirmPost(h, world, b)).toEqual({ ok: false, reason: 'NO_OPEN_INTENT' });
    const now = new Date();
    const intent = await intentOf(world, b, { now });
    const other = await insertSocialAccount(h.db, b.userId, 'INSTAGRAM');
    expect(await confirmPost(h, world, b, { socialAccountId: other.id })).toEqual({ ok: false, reason: 'NO_OPEN_INTENT' });
    expect(await confirmPost(h, world, b, { now: new Date(now.getTime() + 5 * 60_000 + 1) })).toEqual({ ok: false, reason: 'INTENT_EXPIRED' });
    expect(await intentRow(intent.id)).toEqual(intent);
    // Exactly at the end of the window still counts.
    expect(await confirmPost(h, world, b, { now: new Date(now.getTime() + 5 * 60_000) })).toMatchObject({ ok: true });
  });

  it('in the app after the window answers INTENT_EXPIRED; another user\'s intent is NOT_FOUND', async () => {
    const world = await newWorld(h);
    const b = await buyer();
    const intent = await intentOf(world, b, { now: inMinutes(-16) });
    expect(codes((await confirmInApp(b, intent.id)).userErrors)).toEqual([{ code: 'INTENT_EXPIRED', field: ['intentId'] }]);
    const stranger = await buyer();
    expect(codes((await confirmInApp(stranger, intent.id)).userErrors)).toEqual([{ code: 'NOT_FOUND', field: ['intentId'] }]);
    expect((await intentRow(intent.id)).status).toBe('AWAITING_CONFIRMATION');
  });
});

describe('the charge', () => {
  it('whose answer is lost (test card 4000 0000 0000 0077) is PENDING, and the retry with the same key finds the one charge', async () => {
    const world = await newWorld(h);
    const b = await buyer({ cardNumber: '4000000000000077' });
    const intent = await intentOf(world, b);
    const answer = await confirmInApp(b, intent.id);
    expect(answer.purchaseIntent.status).toBe('CONFIRMED');
    expect(answer.order).toBeNull();
    expect(await ordersOf(intent.id)).toEqual([]);
    const retried = await settleIntent(deps(), intent.id);
    expect(retried).toMatchObject({ status: 'CHARGED' });
    expect(await chargesOf(intent.id)).toMatchObject([{ status: 'APPROVED', attempts: 1 }]);
    expect(await ordersOf(intent.id)).toHaveLength(1);
  });

  it('that fails retryably (4000 0000 0000 0119) is approved on the retry: one charge, one order', async () => {
    const world = await newWorld(h);
    const b = await buyer({ cardNumber: '4000000000000119' });
    const intent = await intentOf(world, b);
    expect((await confirmInApp(b, intent.id)).order).toBeNull();
    expect(await settleIntent(deps(), intent.id)).toMatchObject({ status: 'CHARGED' });
    expect(await chargesOf(intent.id)).toMatchObject([{ status: 'APPROVED', attempts: 2 }]);
    expect(await ordersOf(intent.id)).toHaveLength(1);
  });

  it.each(['4000000000000341', '4000000000000002'])('declined (%s) leaves no order, releases the unit and says so', async (number) => {
    const world = await newWorld(h);
    const b = await buyer({ cardNumber: number, setting: 'CONFIRM_BY_POST' });
    const intent = await intentOf(world, b);
    expect(await confirmPost(h, world, b)).toMatchObject({ ok: true });
    const code = number.endsWith('0341') ? 'CARD_DECLINED' : 'GENERIC';
    expect(await settleIntent(deps(), intent.id)).toEqual({ status: 'DECLINED', code });
    expect(await intentRow(intent.id)).toMatchObject({ status: 'DECLINED', reason: `PAYMENT_DECLINED:${code}` });
    expect(await ordersOf(intent.id)).toEqual([]);
    expect(await stockOf(h.db, world.offerId)).toEqual({ available: 5, held: 0 });
    expect((await repliesAbout(intent.id)).map((r) => r.kind)).toEqual(['CONFIRM_PROMPT', 'PAYMENT_DECLINED']);
    expect((await emailsAbout(intent.id)).map((e) => e.kind)).toEqual(['PURCHASE_STARTED', 'PURCHASE_DECLINED']);
    expect((await eventsAbout(intent.id)).map((e) => e.type)).toEqual(['CREATED', 'CONFIRMED', 'DECLINED']);
    // Settling again changes nothing.
    expect(await settleIntent(deps(), intent.id)).toEqual({ status: 'DECLINED', code });
    expect(await stockOf(h.db, world.offerId)).toEqual({ available: 5, held: 0 });
  });

  it('that fails retryably on every attempt of the payment job ends DECLINED with PAYMENT_FAILED and releases the unit', async () => {
    const world = await newWorld(h);
    const b = await buyer({ setting: 'CONFIRM_BY_POST' });
    const intent = await intentOf(world, b);
    await confirmPost(h, world, b);
    await h.db.updateTable('queued_jobs').set({ max_attempts: 2 }).where('queue', '=', 'payments').where('key', '=', intent.id).execute();
    let calls = 0;
    const failing = { name: 'failing', charge: async () => (calls++, { status: 'RETRYABLE' as const, message: 'issuer unavailable' }), refund: async () => ({ status: 'RETRYABLE' as const, message: 'x' }) };
    const failingHandler = paymentHandler({ ...deps(), gateway: failing });
    // Only this test's job: jobs of other tests (and files, on the shared Postgres) are handed back untouched.
    const handler = {
      ...failingHandler,
      run: (job: Parameters<typeof failingHandler.run>[0]) =>
        (job.payload as { intentId: string }).intentId === intent.id ? failingHandler.run(job) : Promise.resolve({ outcome: 'retry' as const, error: 'another test', retryAfterMs: 0 }),
    };
    let at = inMinutes(1);
    for (let i = 0; i < 10 && (await intentRow(intent.id)).status === 'CONFIRMED'; i++) {
      at = inMinutes(60, at);
      await workQueue(h.db, handler, { logger: deps().logger, maxAttempts: 2, backoff: PAYMENT_BACKOFF, now: () => at, limit: 100 });
    }
    expect(calls).toBe(2);
    expect(await intentRow(intent.id)).toMatchObject({ status: 'DECLINED', reason: 'PAYMENT_FAILED' });
    expect(await stockOf(h.db, world.offerId)).toEqual({ available: 5, held: 0 });
  });
});

describe('expiry and cancellation', () => {
  it('expires exactly the intents past their window, each once, releasing exactly their units', async () => {
    const world = await newWorld(h, { quantity: 5 });
    const now = new Date();
    const due = await intentOf(world, await buyer(), { now: inMinutes(-20, now) });
    const open = await intentOf(world, await buyer(), { now });
    expect(await stockOf(h.db, world.offerId)).toEqual({ available: 3, held: 2 });
    expect(await expireDueIntents(h.db, now)).toBeGreaterThanOrEqual(1);
    expect(await intentRow(due.id)).toMatchObject({ status: 'EXPIRED', reason: 'NOT_CONFIRMED' });
    expect((await intentRow(open.id)).status).toBe('AWAITING_CONFIRMATION');
    expect(await stockOf(h.db, world.offerId)).toEqual({ available: 4, held: 1 });
    expect((await repliesAbout(due.id)).map((r) => r.kind)).toEqual(['CONFIRM_IN_APP', 'INTENT_EXPIRED']);
    // A second run (or a second instance) finds nothing more of these.
    await expireDueIntents(h.db, now);
    expect(await stockOf(h.db, world.offerId)).toEqual({ available: 4, held: 1 });
    expect((await eventsAbout(due.id)).map((e) => e.type)).toEqual(['CREATED', 'EXPIRED']);
  });

  it('cancelPurchaseIntent releases the unit once; a charged intent cannot be cancelled', async () => {
    const world = await newWorld(h);
    const b = await buyer();
    const intent = await intentOf(world, b);
    const first = await h.gql(CANCEL, { input: { intentId: intentGid(intent.id) } }, b.token);
    expect(first.data.cancelPurchaseIntent).toMatchObject({ purchaseIntent: { status: 'CANCELLED', reason: 'CANCELLED_BY_USER' }, userErrors: [] });
    const again = await h.gql(CANCEL, { input: { intentId: intentGid(intent.id) } }, b.token);
    expect(again.data.cancelPurchaseIntent.userErrors).toEqual([]);
    expect(await stockOf(h.db, world.offerId)).toEqual({ available: 5, held: 0 });
    const paid = await paidOrder(world, b);
    const refused = await h.gql(CANCEL, { input: { intentId: intentGid(paid.intent.id) } }, b.token);
    expect(codes(refused.data.cancelPurchaseIntent.userErrors)).toEqual([{ code: 'INTENT_NOT_OPEN', field: ['intentId'] }]);
  });

  it('a handle moved to another user cancels the first owner\'s open intents and releases their units', async () => {
    const [w1, w2] = [await newWorld(h), await newWorld(h)];
    const b = await buyer();
    const i1 = await intentOf(w1, b);
    const i2 = await intentOf(w2, b);
    const moved = await h.db.transaction().execute((trx) => cancelOpenIntentsOfAccount(trx, b.socialAccountId, 'HANDLE_MOVED', new Date()));
    expect(moved).toBe(2);
    for (const i of [i1, i2]) expect(await intentRow(i.id)).toMatchObject({ status: 'CANCELLED', reason: 'HANDLE_MOVED' });
    expect(await stockOf(h.db, w1.offerId)).toEqual({ available: 5, held: 0 });
    expect(await stockOf(h.db, w2.offerId)).toEqual({ available: 5, held: 0 });
    expect(await h.db.transaction().execute((trx) => cancelOpenIntentsOfAccount(trx, b.socialAccountId, 'HANDLE_MOVED', new Date()))).toBe(0);
  });

  it('turning hashtag buying OFF cancels the open intents', async () => {
    const world = await newWorld(h);
    const b = await buyer();
    const intent = await intentOf(world, b);
    await h.mutate(
      'updateHashtagSettings',
      'mutation($input: UpdateHashtagSettingsInput!) { updateHashtagSettings(input: $input) { hashtagSettings { hashtagBuying } userErrors { field message code } } }',
      { hashtagBuying: 'OFF' },
      b.token,
    );
    expect(await intentRow(intent.id)).toMatchObject({ status: 'CANCELLED', reason: 'HASHTAG_BUYING_OFF' });
    expect(await stockOf(h.db, world.offerId)).toEqual({ available: 5, held: 0 });
  });
});

describe('the merchant', () => {
  it('fulfils a paid order: the note goes to the buyer by e-mail and nowhere else', async () => {
    const world = await newWorld(h);
    const { orderId, buyer: b, intent } = await paidOrder(world);
    const note = 'Your code: GIFT-ZEBRA-KUMQUAT';
    const res = await h.gql(FULFIL, { input: { orderId: orderGid(orderId), note } }, world.merchant.key);
    expect(res.data.fulfillOrder).toMatchObject({ order: { status: 'FULFILLED' }, userErrors: [] });
    const mail = (await emailsAbout(orderId)).find((e) => e.kind === 'ORDER_FULFILLED')!;
    expect(mail.recipient).toBe(b.email);
    expect(mail.body).toContain(note);
    const elsewhere = JSON.stringify([
      await h.db.selectFrom('orders').selectAll().where('id', '=', orderId).execute(),
      await eventsAbout(orderId),
      await repliesAbout(intent.id),
      await h.db.selectFrom('queued_jobs').select('payload').execute(),
      await h.db.selectFrom('idempotency_keys').selectAll().execute(),
      logLines,
      h.logs,
    ]);
    expect(elsewhere).not.toContain('ZEBRA-KUMQUAT');
    const twice = await h.gql(FULFIL, { input: { orderId: orderGid(orderId), note } }, world.merchant.key);
    expect(codes(twice.data.fulfillOrder.userErrors)).toEqual([{ code: 'ORDER_NOT_PAID', field: ['orderId'] }]);
    const other = await h.newMerchant();
    const stranger = await h.gql(FULFIL, { input: { orderId: orderGid(orderId), note } }, other.key);
    expect(codes(stranger.data.fulfillOrder.userErrors)).toEqual([{ code: 'NOT_FOUND', field: ['orderId'] }]);
  });

  it('refunds once: the money goes back (balanced REFUND posting), the unit returns to stock if not fulfilled', async () => {
    const world = await newWorld(h, { quantity: 4 });
    const { orderId, intent } = await paidOrder(world);
    expect(await stockOf(h.db, world.offerId)).toEqual({ available: 3, held: 0 });
    const res = await h.gql(REFUND, { input: { orderId: orderGid(orderId) } }, world.merchant.key);
    expect(res.data.refundOrder).toMatchObject({ order: { status: 'REFUNDED' }, userErrors: [] });
    const again = await h.gql(REFUND, { input: { orderId: orderGid(orderId) } }, world.merchant.key);
    expect(codes(again.data.refundOrder.userErrors)).toEqual([{ code: 'ORDER_ALREADY_REFUNDED', field: ['orderId'] }]);
    expect(await stockOf(h.db, world.offerId)).toEqual({ available: 4, held: 0 });
    const ledger = await ledgerOf(orderId);
    expect(ledger.reduce((sum, e) => sum + Number(e.amount), 0)).toBe(0);
    expect(ledger.filter((e) => e.account === 'CARD_CHARGES').reduce((sum, e) => sum + Number(e.amount), 0)).toBe(0);
    expect(ledger.map((e) => e.kind).sort()).toEqual(['CHARGE', 'CHARGE', 'REFUND', 'REFUND']);
    expect(await h.db.selectFrom('sandbox_refunds').selectAll().where('idempotency_key', '=', `refund:${orderId}`).execute()).toHaveLength(1);
    expect((await emailsAbout(orderId)).map((e) => e.kind)).toEqual(['ORDER_RECEIPT', 'ORDER_REFUNDED']);
    expect((await eventsAbout(orderId)).map((e) => e.type)).toEqual(['PAID', 'REFUNDED']);
    expect((await intentRow(intent.id)).status).toBe('CHARGED');

    const fulfilled = await paidOrder(world);
    await h.gql(FULFIL, { input: { orderId: orderGid(fulfilled.orderId), note: 'code' } }, world.merchant.key);
    expect((await h.gql(REFUND, { input: { orderId: orderGid(fulfilled.orderId) } }, world.merchant.key)).data.refundOrder.order.status).toBe('REFUNDED');
    expect(await stockOf(h.db, world.offerId)).toEqual({ available: 3, held: 0 });
  });

  it('answers a refund replayed with its idempotency key as the first time, and refuses the key for another order before any money moves', async () => {
    const world = await newWorld(h, { quantity: 4 });
    const first = await paidOrder(world);
    const second = await paidOrder(world);
    const key = `refund-${first.orderId}`;
    const once = await h.gql(REFUND, { input: { orderId: orderGid(first.orderId), idempotencyKey: key } }, world.merchant.key);
    const replay = await h.gql(REFUND, { input: { orderId: orderGid(first.orderId), idempotencyKey: key } }, world.merchant.key);
    expect(replay.data.refundOrder).toEqual(once.data.refundOrder);
    expect(once.data.refundOrder).toMatchObject({ order: { status: 'REFUNDED' }, userErrors: [] });
    const misused = await h.gql(REFUND, { input: { orderId: orderGid(second.orderId), idempotencyKey: key } }, world.merchant.key);
    expect(codes(misused.data.refundOrder.userErrors)).toEqual([{ code: 'IDEMPOTENCY_KEY_REUSED', field: ['idempotencyKey'] }]);
    expect(await h.db.selectFrom('sandbox_refunds').select('id').where('idempotency_key', '=', `refund:${second.orderId}`).execute()).toEqual([]);
    expect(await h.db.selectFrom('orders').select('status').where('id', '=', second.orderId).executeTakeFirstOrThrow()).toEqual({ status: 'PAID' });
  });

  it('sees its orders without buyer data; the buyer sees its own; another merchant sees none', async () => {
    const world = await newWorld(h);
    const { orderId, buyer: b } = await paidOrder(world);
    const query = `{ merchantOrders(first: 100) { edges { node { id status amount { amount } card { last4 } purchaseIntent { id } offer { id } } } } }`;
    const mine = await h.gql(query, {}, world.merchant.key);
    expect(mine.data.merchantOrders.edges.map((e: { node: unknown }) => e.node)).toEqual([
      { id: orderGid(orderId), status: 'PAID', amount: { amount: 1500 }, card: null, purchaseIntent: null, offer: { id: world.offerGlobalId } },
    ]);
    const other = await h.newMerchant();
    expect((await h.gql(query, {}, other.key)).data.merchantOrders.edges).toEqual([]);
    expect((await h.gql(`{ node(id: "${orderGid(orderId)}") { id } }`, {}, other.key)).data.node).toBeNull();
    const viewer = await h.gql(
      '{ viewer { hashtagSettings { hashtagBuying dailyLimit } orders(first: 10) { edges { node { id card { last4 } } } } purchaseIntents(first: 10) { edges { node { status order { id } } } } } }',
      {},
      b.token,
    );
    expect(viewer.data.viewer).toEqual({
      hashtagSettings: { hashtagBuying: 'CONFIRM_IN_APP', dailyLimit: 50_000 },
      orders: { edges: [{ node: { id: orderGid(orderId), card: { last4: b.cardNumber.slice(-4) } } }] },
      purchaseIntents: { edges: [{ node: { status: 'CHARGED', order: { id: orderGid(orderId) } } }] },
    });
  });
});

describe('webhooks', () => {
  it("deliver a merchant the order and intent events of its offers, without the buyer, and nothing of another merchant's", async () => {
    const CREATE = `mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { endpoint { id } userErrors { code } } }`;
    const world = await newWorld(h);
    const other = await h.newMerchant();
    const endpointOf = async (key: string) => dbId((await h.gql(CREATE, { input: { url: 'http://127.0.0.1:9/hook' } }, key)).data.createWebhookEndpoint.endpoint.id);
    const [mine, theirs] = [await endpointOf(world.merchant.key), await endpointOf(other.key)];
    const { orderId, intent, buyer: b } = await paidOrder(world);
    // Rounds until both endpoints' cursors reach the sequenced head (the dispatcher sequences first).
    for (let i = 0; i < 50; i++) {
      await dispatchWebhooks({ db: h.db, config: h.config });
      const head = Number((await h.db.selectFrom('events').select((eb) => eb.fn.max('position').as('head')).executeTakeFirstOrThrow()).head);
      const cursors = await h.db.selectFrom('webhook_endpoints').select('cursor').where('id', 'in', [mine, theirs]).execute();
      if (cursors.every((r) => Number(r.cursor) >= head)) break;
    }
    const bodies = async (endpointId: string) =>
      (await h.db.selectFrom('webhook_deliveries').select(['event_type', 'body']).where('endpoint_id', '=', endpointId).execute()).filter((d) =>
        d.body.includes(encodeGlobalId('Order', orderId)) || d.body.includes(encodeGlobalId('PurchaseIntent', intent.id)),
      );
    const delivered = await bodies(mine);
    expect(delivered.map((d) => d.event_type).sort()).toEqual(['order.paid', 'purchase_intent.charged', 'purchase_intent.confirmed', 'purchase_intent.created']);
    const paid = JSON.parse(delivered.find((d) => d.event_type === 'order.paid')!.body);
    expect(paid.data).toMatchObject({ status: 'PAID', amount: 1500, currency: 'USD', offerId: world.offerGlobalId, purchaseIntentId: encodeGlobalId('PurchaseIntent', intent.id) });
    for (const d of delivered) {
      expect(d.body).not.toContain(b.userId);
      expect(d.body).not.toContain(b.email);
      expect(d.body).not.toContain(b.cardNumber.slice(-4) + '"');
    }
    expect(await bodies(theirs)).toEqual([]);
  });
});

describe('card numbers', () => {
  it('appear in no e-mail, event, reply, job payload or log line: at most ••last4', async () => {
    expect(numbers.size).toBeGreaterThan(5);
    // On Postgres the tables also hold other test files' rows (a partner's own transaction ids may
    // be long digit runs): every row is scanned for card numbers, this file's log lines also for
    // any run of 12 digits.
    const rows = [
      ...(await h.db.selectFrom('emails').select(['subject', 'body']).execute()).flatMap((e) => [e.subject, e.body]),
      ...(await h.db.selectFrom('events').select('data').execute()).map((e) => JSON.stringify(e.data)),
      ...(await h.db.selectFrom('social_replies').select('text').execute()).map((r) => r.text),
      ...(await h.db.selectFrom('queued_jobs').select('payload').execute()).map((j) => JSON.stringify(j.payload)),
    ];
    const logs = [...logLines, ...h.logs];
    expect(rows.length).toBeGreaterThan(50);
    // Ids (uuids, hex references) and log timestamps are not card numbers.
    const withoutIds = (raw: string) =>
      raw.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, 'ID').replace(/_sbx_[0-9a-f]{32}/g, 'REF').replace(/"time":\d+/g, 'TIME');
    for (const raw of [...rows, ...logs]) {
      expect(containsCardNumber(withoutIds(raw))).toBe(false);
      for (const number of numbers) expect(raw).not.toContain(number);
    }
    for (const raw of logs) expect(withoutIds(raw)).not.toMatch(/\d{12,}/);
  });
});
