/**
 * Buying by hashtag, after the post: purchase intents (created by a buy post, confirmed by a post
 * or in the app, expired, cancelled), their charge through the payment gateway, and the orders it
 * creates (fulfilled or refunded by the merchant). Owns the rules and authorization of the orders
 * module; every change writes its state, stock move, ledger posting, events, e-mails and replies in
 * one transaction.
 *
 * Money moves only in `settleIntent`, outside any transaction, with the intent's id as the gateway's
 * idempotency key: however often it runs (the request that confirmed, the `payments` queue's
 * retries, a racing copy), the card is charged once and one order exists, because the charge is
 * idempotent at the gateway and the order is written only by the transaction that moves the
 * intent from CONFIRMED (a conditional update).
 *
 * Lock order, the same everywhere: the user's settings row, then intents, then the offer row.
 */
import type { Kysely, Transaction } from 'kysely';
import type { DB, HashtagBuying, HashtagSettingsRow, OfferRow, OrderRow, PurchaseIntentRow, QueuedJobRow, SocialPlatform } from '../../../db/types.js';
import type { Config } from '../../config.js';
import type { Context } from '../../context.js';
import { principalKey, requireRole } from '../../lib/authorization.js';
import { fail, notFound } from '../../lib/errors.js';
import { idempotent, idempotentCommand, refuseReusedKey, rowsById, type WithIdempotencyKey } from '../../lib/idempotency.js';
import { parseGlobalId } from '../../lib/ids.js';
import { MAX_MINOR_UNITS, type Money } from '../../lib/money.js';
import { decodeCursor, encodeCursor, toPage, type Page } from '../../lib/pagination.js';
import { inRetryingTransaction } from '../../lib/retry.js';
import type { Logger } from '../../logger.js';
import { insertEvents } from '../../outbox/outbox.repository.js';
import type { Security } from '../../security.js';
import { enqueue, type QueueHandler } from '../../jobs/queue.js';
import { cardForCharge, chargeableCardOfUser } from '../cards/cards.service.js';
import { insertEmails } from '../emails/emails.service.js';
import { insertLedgerEntries, orderPosting } from '../ledger/ledger.js';
import { DEFAULT_CONFIRM_WINDOW_MINUTES, holdOfferUnit, isOfferLive, releaseOfferUnit, restockOfferUnit, sellHeldOfferUnit } from '../offers/offers.service.js';
import { createPaymentGateway, type PaymentGateway } from '../payments/payments.service.js';
import { queueReply } from '../replies/replies.service.js';
import { buyAllowedBy, confirmAllowedBy, transitionIntent, withinDailyLimit } from './intents.rules.js';
import {
  countPurchasesOfOffer,
  findIntentById,
  findIntentByBuyPost as findIntentByBuyPostRow,
  findIntentFacts,
  findOrderByIntent,
  findOrdersByIds,
  findOrdersByIntents,
  findSettings,
  findUserIntentsByIds,
  hasOpenIntent,
  insertIntent,
  insertOrder,
  listOrders,
  listUserIntents,
  lockAwaitingIntents,
  lockDueIntents,
  lockIntent,
  lockLatestIntentOf,
  lockOrder,
  lockSettings,
  moveIntent,
  moveOrder,
  sumSpentInWindow,
  updateSettings,
  type IntentFacts,
} from './orders.repository.js';
import {
  composeDeclinedEmail,
  composeFulfilledEmail,
  composePurchaseStartedEmail,
  composeReceiptEmail,
  composeRefundedEmail,
  DEFAULT_DAILY_LIMIT,
  DEFAULT_HASHTAG_BUYING,
  intentExpiry,
  parseReason,
  storedReason,
  utcDay,
  type IntentReason,
  type OrderFacts,
} from './orders.rules.js';
import { ORDER_TOPIC, PURCHASE_INTENT_TOPIC } from './orders.topics.js';

/** The durable queue that charges confirmed intents: one job per intent, keyed by its id. */
export const PAYMENTS_QUEUE = 'payments';

/** Attempts of a payment job before it gives up (see paymentHandler for what then happens). */
export const PAYMENT_MAX_ATTEMPTS = 10;

/** Between attempts: 2 s doubling to 5 minutes, with jitter (about 25 minutes over all attempts). */
export const PAYMENT_BACKOFF = { baseMs: 2_000, capMs: 5 * 60_000, jitter: 0.5 };

/**
 * The payment job runs this long after the confirmation: the confirming request (or ingest)
 * settles at once after its commit, and the job is the safety net when that process died first.
 */
export const PAYMENT_JOB_DELAY_MS = 10_000;

export interface PaymentJobPayload {
  intentId: string;
}

export interface SettleDependencies {
  db: Kysely<DB>;
  config: Config;
  security: Security;
  logger: Logger;
  /** A gateway to use instead of the one PAYMENT_GATEWAY names (tests). */
  gateway?: PaymentGateway;
}

export type IntentRefusal =
  | 'NO_CARD_LINKED'
  | 'SOLD_OUT'
  | 'OFFER_NOT_LIVE'
  | 'USER_LIMIT_REACHED'
  | 'SPENDING_LIMIT_REACHED'
  | 'HASHTAG_BUYING_OFF'
  | 'INTENT_ALREADY_OPEN';

export type ConfirmRefusal = 'NO_OPEN_INTENT' | 'INTENT_EXPIRED' | 'CONFIRM_IN_APP_ONLY' | 'HASHTAG_BUYING_OFF';

export type SettleOutcome =
  | { status: 'CHARGED'; orderId: string }
  | { status: 'DECLINED'; code: string }
  /** Not settled yet: the gateway failed retryably or gave no answer; retry with the same key. */
  | { status: 'PENDING'; outcome?: 'RETRYABLE' | 'UNKNOWN' };

/** The buyer's settings as they apply (the defaults while no row exists). */
export interface HashtagSettings {
  userId: string;
  buying: HashtagBuying;
  /** Minor units per UTC day and currency; null: no limit. */
  dailyLimit: number | null;
  updatedAt: Date | null;
}

const settingsOf = (userId: string, row: HashtagSettingsRow | undefined): HashtagSettings =>
  row
    ? { userId, buying: row.buying, dailyLimit: row.daily_limit === null ? null : Number(row.daily_limit), updatedAt: row.updated_at }
    : { userId, buying: DEFAULT_HASHTAG_BUYING, dailyLimit: DEFAULT_DAILY_LIMIT, updatedAt: null };

const DEFAULTS = { buying: DEFAULT_HASHTAG_BUYING, dailyLimit: DEFAULT_DAILY_LIMIT };

// Gateways hold no state of a request: one per database handle is enough.
const gateways = new WeakMap<Kysely<DB>, PaymentGateway>();
function gatewayOf(deps: SettleDependencies): PaymentGateway {
  if (deps.gateway) return deps.gateway;
  let gateway = gateways.get(deps.db);
  if (!gateway) {
    gateway = createPaymentGateway(deps.config.paymentGateway, { db: deps.db });
    gateways.set(deps.db, gateway);
  }
  return gateway;
}

const priceOf = (intent: Pick<PurchaseIntentRow, 'price' | 'currency'>): Money => ({ amount: Number(intent.price), currency: intent.currency });

// ---------------------------------------------------------------- events, e-mails, replies

type IntentEventType = (typeof PURCHASE_INTENT_TOPIC.types)[number];

function intentEvent(type: IntentEventType, intent: PurchaseIntentRow) {
  const { reason, declineCode } = parseReason(intent.reason);
  return PURCHASE_INTENT_TOPIC.event(
    type,
    intent.id,
    { userId: intent.user_id, merchantId: intent.merchant_id },
    {
      status: intent.status,
      offerId: intent.offer_id,
      amount: Number(intent.price),
      currency: intent.currency,
      reason,
      declineCode,
      confirmedVia: intent.confirmed_via,
      expiresAt: intent.expires_at.toISOString(),
    },
  );
}

function orderEvent(type: (typeof ORDER_TOPIC.types)[number], order: OrderRow) {
  return ORDER_TOPIC.event(
    type,
    order.id,
    { userId: order.user_id, merchantId: order.merchant_id },
    { status: order.status, offerId: order.offer_id, purchaseIntentId: order.intent_id, amount: Number(order.amount), currency: order.currency },
  );
}

async function factsOf(trx: Transaction<DB>, intentId: string): Promise<IntentFacts> {
  const facts = await findIntentFacts(trx, intentId);
  if (!facts) throw new Error(`purchase intent ${intentId} has no facts`);
  return facts;
}

const orderFacts = (facts: IntentFacts, intent: Pick<PurchaseIntentRow, 'price' | 'currency'>): OrderFacts => ({
  displayName: facts.display_name,
  merchantName: facts.merchant_name,
  offerTitle: facts.offer_title,
  price: priceOf(intent),
  cardLast4: facts.card_last4,
});

type EmailKindOfOrders = 'PURCHASE_STARTED' | 'PURCHASE_DECLINED' | 'ORDER_RECEIPT' | 'ORDER_FULFILLED' | 'ORDER_REFUNDED';

async function email(
  trx: Transaction<DB>,
  kind: EmailKindOfOrders,
  subject: { type: 'PurchaseIntent' | 'Order'; id: string },
  userId: string,
  facts: IntentFacts,
  text: { subject: string; body: string },
): Promise<void> {
  await insertEmails(trx, [{ user_id: userId, kind, subject_type: subject.type, subject_id: subject.id, recipient: facts.email, ...text }]);
}

type ReplyKind = 'CONFIRM_PROMPT' | 'CONFIRM_IN_APP' | 'ORDER_PLACED' | 'PAYMENT_DECLINED' | 'INTENT_EXPIRED';

/**
 * A public reply, only for an intent that came from a post: to the confirm post when there is one
 * (the order placed, the decline), else to the buy post. Public facts only: handle, item, price.
 */
async function reply(trx: Transaction<DB>, intent: PurchaseIntentRow, kind: ReplyKind, facts: IntentFacts, handle = facts.handle): Promise<void> {
  if (!intent.partner_id || !intent.platform || !intent.buy_post_id || !handle) return;
  const toConfirmPost = (kind === 'ORDER_PLACED' || kind === 'PAYMENT_DECLINED') && intent.confirm_post_id;
  await queueReply(trx, {
    partnerId: intent.partner_id,
    platform: intent.platform,
    inReplyToPostId: toConfirmPost ? intent.confirm_post_id! : intent.buy_post_id,
    kind,
    subjectType: 'PurchaseIntent',
    subjectId: intent.id,
    facts: {
      handle,
      offerTitle: facts.offer_title,
      price: priceOf(intent),
      confirmHashtag: facts.confirm_hashtag ?? undefined,
      windowMinutes: facts.confirm_window_minutes ?? DEFAULT_CONFIRM_WINDOW_MINUTES,
      buyHashtag: facts.buy_hashtag ?? undefined,
    },
  });
}

/** Ends an open intent, giving its unit back: expiry, cancellation, a decline. Undefined when it had moved on. */
async function endIntent(
  trx: Transaction<DB>,
  intent: PurchaseIntentRow,
  to: { status: 'EXPIRED' | 'CANCELLED' | 'DECLINED'; reason: IntentReason; declineCode?: string; now: Date },
): Promise<PurchaseIntentRow | undefined> {
  const from = to.status === 'DECLINED' ? (['CONFIRMED'] as const) : (['AWAITING_CONFIRMATION'] as const);
  const moved = await moveIntent(trx, intent.id, [...from], {
    status: to.status,
    reason: storedReason(to.reason, to.declineCode),
    settledAt: to.now,
    now: to.now,
  });
  if (!moved) return undefined;
  await releaseOfferUnit(trx, moved.offer_id);
  await insertEvents(trx, [intentEvent(to.status, moved)]);
  return moved;
}

// ---------------------------------------------------------------- from posts (the social module)

/**
 * A buy post from a verified handle: creates an intent holding one unit, in the caller's
 * transaction, or says why not. The user's settings row is locked first, so the per-user and the
 * daily limits count one intent after another however many posts arrive at once; the unit is one
 * conditional UPDATE, so the stock is never oversold.
 */
export async function startIntentFromPost(
  trx: Transaction<DB>,
  input: {
    offer: OfferRow;
    userId: string;
    socialAccountId: string;
    partnerId: string;
    platform: SocialPlatform;
    buyPostId: string;
    handle: string;
    now: Date;
  },
): Promise<{ ok: true; intent: PurchaseIntentRow } | { ok: false; reason: IntentRefusal }> {
  const { offer, userId, now } = input;
  const refuse = (reason: IntentRefusal) => ({ ok: false as const, reason });
  const settings = settingsOf(userId, await lockSettings(trx, userId, DEFAULTS));
  if (!buyAllowedBy(settings.buying)) return refuse('HASHTAG_BUYING_OFF');
  const card = await chargeableCardOfUser(trx, userId, now);
  if (!card) return refuse('NO_CARD_LINKED');
  // Live but for its stock: an offer whose units are all held or sold answers SOLD_OUT below.
  const liveButForStock = isOfferLive(offer.quantity_remaining === 0 ? { ...offer, quantity_remaining: 1 } : offer, now);
  if (offer.kind !== 'PURCHASE' || offer.price === null || !liveButForStock) return refuse('OFFER_NOT_LIVE');
  const price = Number(offer.price);
  if (offer.per_user_limit !== null && (await countPurchasesOfOffer(trx, userId, offer.id)) >= offer.per_user_limit) {
    return refuse('USER_LIMIT_REACHED');
  }
  if (await hasOpenIntent(trx, userId, offer.id)) return refuse('INTENT_ALREADY_OPEN');
  const day = utcDay(now);
  if (!withinDailyLimit(await sumSpentInWindow(trx, userId, offer.currency, day.start, day.end), price, settings.dailyLimit)) {
    return refuse('SPENDING_LIMIT_REACHED');
  }
  if (!(await holdOfferUnit(trx, offer.id))) return refuse('SOLD_OUT');
  const intent = await insertIntent(trx, {
    offer_id: offer.id,
    merchant_id: offer.merchant_id,
    user_id: userId,
    card_id: card.id,
    social_account_id: input.socialAccountId,
    partner_id: input.partnerId,
    platform: input.platform,
    buy_post_id: input.buyPostId,
    price,
    currency: offer.currency,
    expires_at: intentExpiry(now, offer.confirm_window_minutes ?? DEFAULT_CONFIRM_WINDOW_MINUTES),
    created_at: now,
    updated_at: now,
  });
  if (!intent) {
    // Cannot happen while the settings lock is held (the check above saw none); the index is the backstop.
    await releaseOfferUnit(trx, offer.id);
    return refuse('INTENT_ALREADY_OPEN');
  }
  const facts = await factsOf(trx, intent.id);
  await insertEvents(trx, [intentEvent('CREATED', intent)]);
  await email(
    trx,
    'PURCHASE_STARTED',
    { type: 'PurchaseIntent', id: intent.id },
    userId,
    facts,
    composePurchaseStartedEmail({
      ...orderFacts(facts, intent),
      platform: input.platform,
      handle: input.handle,
      expiresAt: intent.expires_at,
      setting: settings.buying,
      confirmHashtag: facts.confirm_hashtag,
    }),
  );
  await reply(trx, intent, confirmAllowedBy(settings.buying, 'POST') ? 'CONFIRM_PROMPT' : 'CONFIRM_IN_APP', facts, input.handle);
  return { ok: true, intent };
}

async function queuePayment(trx: Transaction<DB>, intent: PurchaseIntentRow, now: Date): Promise<void> {
  await enqueue(trx, PAYMENTS_QUEUE, {
    key: intent.id,
    payload: { intentId: intent.id } satisfies PaymentJobPayload,
    runAt: new Date(now.getTime() + PAYMENT_JOB_DELAY_MS),
    maxAttempts: PAYMENT_MAX_ATTEMPTS,
  });
}

/**
 * A confirm post from the handle that bought, in the caller's transaction: the intent turns
 * CONFIRMED and its payment job is queued with it; the caller settles it after commit
 * (`settleIntent`). A user whose setting is CONFIRM_IN_APP is never charged by a post.
 */
export async function confirmIntentFromPost(
  trx: Transaction<DB>,
  input: { userId: string; socialAccountId: string; offerId: string; confirmPostId: string; now: Date },
): Promise<{ ok: true; intent: PurchaseIntentRow } | { ok: false; reason: ConfirmRefusal }> {
  const { now } = input;
  const refuse = (reason: ConfirmRefusal) => ({ ok: false as const, reason });
  const intent = await lockLatestIntentOf(trx, input.userId, input.offerId);
  if (!intent || intent.social_account_id !== input.socialAccountId) return refuse('NO_OPEN_INTENT');
  const step = transitionIntent({ status: intent.status, expiresAt: intent.expires_at }, { type: 'CONFIRM', at: now, via: 'POST' });
  // Late, whether or not the expiry job got there first; nothing changes (the job releases the unit).
  if (!step.ok) return refuse(step.reason === 'INTENT_EXPIRED' ? 'INTENT_EXPIRED' : 'NO_OPEN_INTENT');
  const settings = settingsOf(input.userId, await findSettings(trx, input.userId));
  if (settings.buying === 'OFF') return refuse('HASHTAG_BUYING_OFF');
  if (!confirmAllowedBy(settings.buying, 'POST')) return refuse('CONFIRM_IN_APP_ONLY');
  const confirmed = await moveIntent(trx, intent.id, ['AWAITING_CONFIRMATION'], {
    status: 'CONFIRMED',
    confirmedVia: 'POST',
    confirmPostId: input.confirmPostId,
    confirmedAt: now,
    now,
  });
  if (!confirmed) return refuse('NO_OPEN_INTENT');
  await insertEvents(trx, [intentEvent('CONFIRMED', confirmed)]);
  await queuePayment(trx, confirmed, now);
  return { ok: true, intent: confirmed };
}

/**
 * Cancels the open intents that came from a social account (the handle was proven by another user,
 * or unlinked), releasing their units; in the caller's transaction. Returns how many.
 */
export async function cancelOpenIntentsOfAccount(trx: Transaction<DB>, socialAccountId: string, reason: 'HANDLE_MOVED' | 'UNLINKED', now: Date): Promise<number> {
  let cancelled = 0;
  for (const intent of await lockAwaitingIntents(trx, { socialAccountId })) {
    if (await endIntent(trx, intent, { status: 'CANCELLED', reason: reason === 'UNLINKED' ? 'HANDLE_UNLINKED' : 'HANDLE_MOVED', now })) cancelled++;
  }
  return cancelled;
}

/** The intent a buy post created (a replayed or edited post finds it here). */
export function findIntentByBuyPost(db: Kysely<DB>, partnerId: string, platform: SocialPlatform, buyPostId: string): Promise<PurchaseIntentRow | undefined> {
  return findIntentByBuyPostRow(db, partnerId, platform, buyPostId);
}

// ---------------------------------------------------------------- the charge

/**
 * Charges a CONFIRMED intent and records the outcome; outside any transaction (the gateway call
 * must not hold locks). Safe to call any number of times, at once or one after another: the
 * gateway's idempotency key is the intent id (one charge), and only the transaction that moves
 * the intent from CONFIRMED writes the order, the ledger posting, the e-mail and the events.
 * An intent already settled answers how it ended without calling the gateway.
 */
export async function settleIntent(deps: SettleDependencies, intentId: string): Promise<SettleOutcome> {
  const { db, logger } = deps;
  const intent = await findIntentById(db, intentId);
  if (!intent) throw new Error(`purchase intent ${intentId} does not exist`);
  const ended = await settledAs(db, intent);
  if (ended) return ended;
  if (intent.status !== 'CONFIRMED') throw new Error(`purchase intent ${intentId} is ${intent.status}, not CONFIRMED: nothing to charge`);

  const card = await cardForCharge(db, deps.security, intent.user_id, intent.card_id);
  if (!card) {
    // The buyer unlinked the card after confirming: nothing can be charged on it.
    return decline(deps, intent, 'PAYMENT_DECLINED', 'CARD_UNLINKED');
  }
  const facts = await findIntentFacts(db, intent.id);
  const outcome = await gatewayOf(deps).charge({
    idempotencyKey: intent.id,
    card,
    amount: Number(intent.price),
    currency: intent.currency,
    description: `${facts?.merchant_name ?? 'hashback'}: ${facts?.offer_title ?? 'purchase'}`.slice(0, 200),
  });
  switch (outcome.status) {
    case 'APPROVED':
      return charged(deps, intent, outcome.reference, facts);
    case 'DECLINED':
      return decline(deps, intent, 'PAYMENT_DECLINED', outcome.code);
    case 'RETRYABLE':
    case 'UNKNOWN':
      logger.warn({ intentId, outcome: outcome.status }, 'payment not settled yet; retried with the same idempotency key');
      return { status: 'PENDING', outcome: outcome.status };
  }
}

/** How an intent that is no longer CONFIRMED ended, if it was settled (charged or declined). */
async function settledAs(db: Kysely<DB>, intent: PurchaseIntentRow): Promise<SettleOutcome | undefined> {
  if (intent.status === 'CHARGED') {
    const order = await findOrderByIntent(db, intent.id);
    if (!order) throw new Error(`charged purchase intent ${intent.id} has no order`);
    return { status: 'CHARGED', orderId: order.id };
  }
  if (intent.status === 'DECLINED') return { status: 'DECLINED', code: parseReason(intent.reason).declineCode ?? parseReason(intent.reason).reason ?? 'DECLINED' };
  return undefined;
}

async function charged(deps: SettleDependencies, intent: PurchaseIntentRow, reference: string, known?: IntentFacts): Promise<SettleOutcome> {
  return inRetryingTransaction(deps.db, async (trx) => {
    const now = new Date();
    const moved = await moveIntent(trx, intent.id, ['CONFIRMED'], { status: 'CHARGED', settledAt: now, now });
    if (!moved) {
      // A racing settlement of the same intent (same charge) got there first.
      const current = await findIntentById(trx, intent.id);
      const ended = current && (await settledAs(trx, current));
      if (!ended) throw new Error(`purchase intent ${intent.id} left CONFIRMED without being settled`);
      return ended;
    }
    const order = await insertOrder(trx, {
      intent_id: moved.id,
      offer_id: moved.offer_id,
      merchant_id: moved.merchant_id,
      user_id: moved.user_id,
      card_id: moved.card_id,
      amount: Number(moved.price),
      currency: moved.currency,
      payment_reference: reference,
      created_at: now,
      updated_at: now,
    });
    if (!order) throw new Error(`purchase intent ${intent.id} already has an order`);
    await sellHeldOfferUnit(trx, moved.offer_id);
    await insertLedgerEntries(trx, orderPosting('CHARGE', order, Number(order.amount)));
    await insertEvents(trx, [intentEvent('CHARGED', moved), orderEvent('PAID', order)]);
    // The names and the card read before the charge: they did not change since.
    const facts = known ?? (await factsOf(trx, moved.id));
    await email(trx, 'ORDER_RECEIPT', { type: 'Order', id: order.id }, order.user_id, facts, composeReceiptEmail({ ...orderFacts(facts, moved), paidAt: now }));
    await reply(trx, moved, 'ORDER_PLACED', facts);
    deps.logger.info({ intentId: moved.id, orderId: order.id }, 'purchase charged; order paid');
    return { status: 'CHARGED' as const, orderId: order.id };
  });
}

async function decline(deps: SettleDependencies, intent: PurchaseIntentRow, reason: 'PAYMENT_DECLINED' | 'PAYMENT_FAILED', code?: string): Promise<SettleOutcome> {
  return inRetryingTransaction(deps.db, (trx) => declineIn(trx, deps.logger, intent, reason, code));
}

async function declineIn(trx: Transaction<DB>, logger: Logger, intent: PurchaseIntentRow, reason: 'PAYMENT_DECLINED' | 'PAYMENT_FAILED', code?: string): Promise<SettleOutcome> {
  const now = new Date();
  const moved = await endIntent(trx, intent, { status: 'DECLINED', reason, declineCode: code, now });
  if (!moved) {
    const current = await findIntentById(trx, intent.id);
    const ended = current && (await settledAs(trx, current));
    if (!ended) throw new Error(`purchase intent ${intent.id} left CONFIRMED without being settled`);
    return ended;
  }
  const facts = await factsOf(trx, moved.id);
  await email(trx, 'PURCHASE_DECLINED', { type: 'PurchaseIntent', id: moved.id }, moved.user_id, facts, composeDeclinedEmail(orderFacts(facts, moved)));
  await reply(trx, moved, 'PAYMENT_DECLINED', facts);
  logger.info({ intentId: moved.id, reason, code }, 'purchase declined; unit released');
  return { status: 'DECLINED', code: code ?? reason };
}

/**
 * The `payments` queue: settles one intent per job. CHARGED or DECLINED ends the job; PENDING
 * (the gateway failed retryably or did not answer) tries again after the backoff with the same
 * idempotency key. When every attempt is spent: if the last answer was RETRYABLE (nothing was
 * charged), the intent is DECLINED with reason PAYMENT_FAILED and its unit released; if it was
 * UNKNOWN or the attempt failed (a charge may exist), the intent stays CONFIRMED, holding its unit,
 * and is logged as an error for reconciliation: calling settleIntent again is safe and learns the
 * outcome from the gateway.
 */
export function paymentHandler(deps: SettleDependencies): QueueHandler {
  // What run() saw, for record() in the settling transaction (keyed by job and lease).
  const last = new Map<string, SettleOutcome | 'ERROR'>();
  const keyOf = (job: QueuedJobRow) => `${job.id}:${job.lease_token}`;
  const intentOf = (job: QueuedJobRow) => (job.payload as unknown as PaymentJobPayload).intentId;
  return {
    queue: PAYMENTS_QUEUE,
    logFields: (job) => ({ intentId: intentOf(job) }),
    async run(job) {
      const intent = await findIntentById(deps.db, intentOf(job));
      if (!intent) return { outcome: 'dead', error: 'The purchase intent does not exist.' };
      if (intent.status !== 'CONFIRMED' && intent.status !== 'CHARGED' && intent.status !== 'DECLINED') {
        return { outcome: 'dead', error: `The purchase intent is ${intent.status}: nothing to charge.` };
      }
      let result: SettleOutcome;
      try {
        result = await settleIntent(deps, intent.id);
      } catch (error) {
        last.set(keyOf(job), 'ERROR');
        throw error;
      }
      last.set(keyOf(job), result);
      if (result.status !== 'PENDING') return { outcome: 'done' };
      return { outcome: 'failed', error: `The payment gateway answered ${result.outcome ?? 'PENDING'}; retrying with the same idempotency key.` };
    },
    async record(trx, job, settlement) {
      const result = last.get(keyOf(job));
      last.delete(keyOf(job));
      if (settlement.status !== 'DEAD') return;
      const intentId = intentOf(job);
      if (result !== 'ERROR' && result?.status === 'PENDING' && result.outcome === 'RETRYABLE') {
        // The gateway said nothing was charged, and no one will ask it again with this key.
        const intent = await lockIntent(trx, intentId);
        if (intent?.status === 'CONFIRMED') await declineIn(trx, deps.logger, intent, 'PAYMENT_FAILED');
        return;
      }
      deps.logger.error({ intentId }, 'payment outcome unknown after every attempt: the intent stays CONFIRMED; settle it again to learn the outcome');
    },
  };
}

// ---------------------------------------------------------------- expiry job

const EXPIRY_BATCH = 200;

/**
 * Intents awaiting confirmation past their window turn EXPIRED and give their unit back, each
 * once: the rows are locked with SKIP LOCKED and moved by a conditional update, so two instances
 * running the job never expire one twice. Returns how many expired.
 */
export async function expireDueIntents(db: Kysely<DB>, now: Date): Promise<number> {
  let total = 0;
  for (;;) {
    const expired = await inRetryingTransaction(db, async (trx) => {
      let count = 0;
      for (const intent of await lockDueIntents(trx, now, EXPIRY_BATCH)) {
        const step = transitionIntent({ status: intent.status, expiresAt: intent.expires_at }, { type: 'EXPIRE', at: now });
        if (!step.ok) continue;
        const moved = await endIntent(trx, intent, { status: 'EXPIRED', reason: 'NOT_CONFIRMED', now });
        if (!moved) continue;
        count++;
        await reply(trx, moved, 'INTENT_EXPIRED', await factsOf(trx, moved.id));
      }
      return count;
    });
    total += expired;
    if (expired < EXPIRY_BATCH) return total;
  }
}

// ---------------------------------------------------------------- in the app (the signed-in buyer)

/** A user its own intents, admins all; nobody else. */
export function loadVisibleIntents(ctx: Context, ids: readonly string[]): Promise<PurchaseIntentRow[]> {
  const p = ctx.principal;
  if (p.kind === 'user') return findUserIntentsByIds(ctx.db, p.userId, ids);
  if (p.kind === 'admin') return findUserIntentsByIds(ctx.db, null, ids);
  return Promise.resolve([]);
}

/** A user its own orders, a merchant the orders of its offers, admins all. */
export function loadVisibleOrders(ctx: Context, ids: readonly string[]): Promise<OrderRow[]> {
  const p = ctx.principal;
  if (p.kind === 'user') return findOrdersByIds(ctx.db, { userId: p.userId }, ids);
  if (p.kind === 'merchant') return findOrdersByIds(ctx.db, { merchantId: p.merchantId }, ids);
  if (p.kind === 'admin') return findOrdersByIds(ctx.db, { all: true }, ids);
  return Promise.resolve([]);
}

/** The orders of intents (null where an intent has none), for the intent's `order` field. */
export async function ordersOfIntents(ctx: Context, intentIds: readonly string[]): Promise<(OrderRow | null)[]> {
  const byIntent = new Map((await findOrdersByIntents(ctx.db, intentIds)).map((o) => [o.intent_id, o]));
  return intentIds.map((id) => byIntent.get(id) ?? null);
}

const settleDepsOf = (ctx: Context): SettleDependencies => ({ db: ctx.db, config: ctx.config, security: ctx.security, logger: ctx.logger });

const intentReplay = (userId: string) =>
  rowsById<{ intent: PurchaseIntentRow }>({ intent: async (trx, id) => (await findUserIntentsByIds(trx, userId, [id]))[0] });

/**
 * Confirms one of the caller's intents in the app (the safe channel: allowed with CONFIRM_IN_APP
 * and CONFIRM_BY_POST), then charges it at once after the commit. The answer holds the order when
 * the charge went through; a charge still pending is finished by the `payments` queue.
 */
export async function confirmPurchaseIntent(
  ctx: Context,
  input: { intentId: string; idempotencyKey?: string | null },
): Promise<{ intent: PurchaseIntentRow; order: OrderRow | null }> {
  const { userId } = requireRole(ctx.principal, 'user');
  const id = parseGlobalId(input.intentId, 'PurchaseIntent', ['intentId']);
  const { intent } = await idempotentCommand(
    ctx,
    { operation: 'confirmPurchaseIntent', key: input.idempotencyKey, request: { id } },
    async (trx) => {
      const now = new Date();
      const intent = await lockIntent(trx, id, userId);
      if (!intent) notFound('PurchaseIntent', ['intentId']);
      // Confirming twice is harmless: the second answers the intent as it is.
      if (intent.status === 'CONFIRMED' || intent.status === 'CHARGED') return { intent };
      const step = transitionIntent({ status: intent.status, expiresAt: intent.expires_at }, { type: 'CONFIRM', at: now, via: 'APP' });
      if (!step.ok && step.reason === 'INTENT_EXPIRED') fail('INTENT_EXPIRED', 'The confirm window is over; the unit was released.', ['intentId']);
      if (!step.ok) fail('INTENT_NOT_OPEN', `The purchase intent is ${intent.status.toLowerCase().replace('_', ' ')}: it cannot be confirmed.`, ['intentId']);
      const settings = settingsOf(userId, await findSettings(trx, userId));
      if (!confirmAllowedBy(settings.buying, 'APP')) fail('HASHTAG_BUYING_OFF', 'Hashtag buying is off: turn it on (updateHashtagSettings) to buy.', ['intentId']);
      const confirmed = await moveIntent(trx, intent.id, ['AWAITING_CONFIRMATION'], { status: 'CONFIRMED', confirmedVia: 'APP', confirmedAt: now, now });
      if (!confirmed) fail('INTENT_NOT_OPEN', 'The purchase intent is no longer awaiting confirmation.', ['intentId']);
      await insertEvents(trx, [intentEvent('CONFIRMED', confirmed)]);
      await queuePayment(trx, confirmed, now);
      return { intent: confirmed };
    },
    intentReplay(userId),
  );
  if (intent.status === 'CONFIRMED') await settleIntent(settleDepsOf(ctx), intent.id);
  const current = (await findUserIntentsByIds(ctx.db, userId, [intent.id]))[0] ?? intent;
  return { intent: current, order: (await findOrderByIntent(ctx.db, current.id)) ?? null };
}

/** Cancels one of the caller's intents awaiting confirmation; its unit goes back to stock. */
export async function cancelPurchaseIntent(ctx: Context, input: { intentId: string; idempotencyKey?: string | null }): Promise<{ intent: PurchaseIntentRow }> {
  const { userId } = requireRole(ctx.principal, 'user');
  const id = parseGlobalId(input.intentId, 'PurchaseIntent', ['intentId']);
  return idempotentCommand(
    ctx,
    { operation: 'cancelPurchaseIntent', key: input.idempotencyKey, request: { id } },
    async (trx) => {
      const intent = await lockIntent(trx, id, userId);
      if (!intent) notFound('PurchaseIntent', ['intentId']);
      if (intent.status === 'CANCELLED') return { intent };
      const step = transitionIntent({ status: intent.status, expiresAt: intent.expires_at }, { type: 'CANCEL', reason: 'USER' });
      if (!step.ok) fail('INTENT_NOT_OPEN', `The purchase intent is ${intent.status.toLowerCase().replace('_', ' ')}: only one awaiting confirmation can be cancelled.`, ['intentId']);
      const cancelled = await endIntent(trx, intent, { status: 'CANCELLED', reason: 'CANCELLED_BY_USER', now: new Date() });
      if (!cancelled) fail('INTENT_NOT_OPEN', 'The purchase intent is no longer awaiting confirmation.', ['intentId']);
      return { intent: cancelled };
    },
    intentReplay(userId),
  );
}

export async function hashtagSettingsOf(ctx: Context, userId: string): Promise<HashtagSettings> {
  return settingsOf(userId, await findSettings(ctx.db, userId));
}

/**
 * Changes how the caller's hashtag purchases are confirmed and its daily limit. Turning buying OFF
 * cancels the intents awaiting confirmation (their units go back to stock).
 */
export async function updateHashtagSettings(
  ctx: Context,
  input: { hashtagBuying?: HashtagBuying | null; dailyLimit?: number | null; idempotencyKey?: string | null },
): Promise<{ settings: HashtagSettings }> {
  const { userId } = requireRole(ctx.principal, 'user');
  const dailyLimit = input.dailyLimit ?? undefined;
  if (dailyLimit !== undefined && (!Number.isSafeInteger(dailyLimit) || dailyLimit < 0 || dailyLimit > MAX_MINOR_UNITS)) {
    fail('OUT_OF_RANGE', `dailyLimit must be from 0 to ${MAX_MINOR_UNITS} minor units.`, ['dailyLimit']);
  }
  const buying = input.hashtagBuying ?? undefined;
  return idempotentCommand(ctx, { operation: 'updateHashtagSettings', key: input.idempotencyKey, request: { buying, dailyLimit } }, async (trx) => {
    const now = new Date();
    await lockSettings(trx, userId, DEFAULTS);
    const row = await updateSettings(trx, userId, { buying, dailyLimit }, now);
    if (row.buying === 'OFF') {
      for (const intent of await lockAwaitingIntents(trx, { userId })) await endIntent(trx, intent, { status: 'CANCELLED', reason: 'HASHTAG_BUYING_OFF', now });
    }
    return { settings: settingsOf(userId, row) };
  });
}

const keysetCursor = (row: { created_at: Date; id: string }) => encodeCursor([row.created_at.toISOString(), row.id]);
const afterOf = (after: string | null | undefined) => (after ? decodeCursor(after, ['date', 'uuid'] as const) : null);

export async function listPurchaseIntentsOfUser(ctx: Context, userId: string, args: { first: number; after?: string | null }): Promise<Page<PurchaseIntentRow>> {
  const rows = await listUserIntents(ctx.db, userId, { limit: args.first + 1, after: afterOf(args.after) });
  return toPage(rows, args.first, args.after, keysetCursor);
}

export async function listOrdersOfUser(ctx: Context, userId: string, args: { first: number; after?: string | null }): Promise<Page<OrderRow>> {
  const rows = await listOrders(ctx.db, { userId }, { limit: args.first + 1, after: afterOf(args.after) });
  return toPage(rows, args.first, args.after, keysetCursor);
}

// ---------------------------------------------------------------- the merchant

export async function listMerchantOrders(ctx: Context, args: { first: number; after?: string | null }): Promise<Page<OrderRow>> {
  // Anyone but a merchant key sees no orders here (not an error that tells roles apart).
  if (ctx.principal.kind !== 'merchant') return toPage<OrderRow>([], args.first, args.after, keysetCursor);
  const { merchantId } = ctx.principal;
  const rows = await listOrders(ctx.db, { merchantId }, { limit: args.first + 1, after: afterOf(args.after) });
  return toPage(rows, args.first, args.after, keysetCursor);
}

const MAX_NOTE_LENGTH = 2000;

const orderReplay = (merchantId: string) =>
  rowsById<{ order: OrderRow }>({ order: async (trx, id) => (await findOrdersByIds(trx, { merchantId }, [id]))[0] });

/**
 * The merchant fulfilled a paid order. The note (e.g. a gift card code) reaches the buyer in the
 * ORDER_FULFILLED e-mail and nowhere else: not in the order, its event, a log line or a reply.
 */
export async function fulfillOrder(ctx: Context, input: { orderId: string; note: string; idempotencyKey?: string | null }): Promise<{ order: OrderRow }> {
  const { merchantId } = requireRole(ctx.principal, 'merchant');
  const id = parseGlobalId(input.orderId, 'Order', ['orderId']);
  const note = input.note.trim();
  if (note.length < 1 || note.length > MAX_NOTE_LENGTH) fail('INVALID_LENGTH', `note must be 1 to ${MAX_NOTE_LENGTH} characters.`, ['note']);
  return idempotentCommand(
    ctx,
    // The note's hash, not the note, is what the key's record keeps.
    { operation: 'fulfillOrder', key: input.idempotencyKey, request: { id, note } },
    async (trx) => {
      const order = await lockOrder(trx, id, merchantId);
      if (!order) notFound('Order', ['orderId']);
      if (order.status !== 'PAID') fail('ORDER_NOT_PAID', `The order is ${order.status.toLowerCase()}: only a paid order can be fulfilled.`, ['orderId']);
      const fulfilled = await moveOrder(trx, order.id, ['PAID'], { status: 'FULFILLED', now: new Date() });
      if (!fulfilled) fail('ORDER_NOT_PAID', 'The order is no longer paid.', ['orderId']);
      const intent = (await findIntentById(trx, order.intent_id))!;
      const facts = await factsOf(trx, intent.id);
      await insertEvents(trx, [orderEvent('FULFILLED', fulfilled)]);
      await email(trx, 'ORDER_FULFILLED', { type: 'Order', id: order.id }, order.user_id, facts, composeFulfilledEmail({ ...orderFacts(facts, intent), note }));
      return { order: fulfilled };
    },
    orderReplay(merchantId),
  );
}

/**
 * The merchant refunds a paid or fulfilled order, once: the gateway refund's idempotency key is
 * `refund:<orderId>` (two refunds at once are one refund at the gateway), and only the
 * transaction that moves the order to REFUNDED writes the REFUND posting, the e-mail and the
 * event. The unit goes back to stock only when it was not fulfilled (a delivered gift card code
 * cannot be sold again).
 */
export async function refundOrder(ctx: Context, input: { orderId: string } & WithIdempotencyKey): Promise<{ order: OrderRow }> {
  const { merchantId } = requireRole(ctx.principal, 'merchant');
  const id = parseGlobalId(input.orderId, 'Order', ['orderId']);
  const scope = { principal: principalKey(ctx.principal), operation: 'refundOrder', key: input.idempotencyKey, request: { id } };
  // The gateway is called before the transaction: a key misused for another order is refused
  // before any money moves; a replay reaches the gateway's own replay and then the first answer.
  await refuseReusedKey(ctx.db, scope);
  const [order] = await findOrdersByIds(ctx.db, { merchantId }, [id]);
  if (!order) notFound('Order', ['orderId']);
  if (order.status === 'REFUNDED' && !input.idempotencyKey) fail('ORDER_ALREADY_REFUNDED', 'The order was already refunded.', ['orderId']);
  const outcome = await gatewayOf(settleDepsOf(ctx)).refund({
    idempotencyKey: `refund:${order.id}`,
    chargeReference: order.payment_reference,
    amount: Number(order.amount),
    currency: order.currency,
  });
  if (outcome.status === 'DECLINED') fail('REFUND_DECLINED', `The payment gateway declined the refund (${outcome.code}).`, ['orderId']);
  if (outcome.status !== 'APPROVED') fail('PAYMENT_GATEWAY_UNAVAILABLE', 'The payment gateway did not confirm the refund; try again (it will not be refunded twice).', ['orderId']);
  const refundReference = outcome.reference;
  const reload = async (trx: Transaction<DB>, orderId: string) => (await findOrdersByIds(trx, { merchantId }, [orderId]))[0];
  return inRetryingTransaction(ctx.db, (trx) => idempotent(trx, scope, () => refundIn(trx), { save: (a) => a.order.id, load: async (t, orderId) => ({ order: (await reload(t, orderId))! }) }));

  async function refundIn(trx: Transaction<DB>): Promise<{ order: OrderRow }> {
    const now = new Date();
    const locked = await lockOrder(trx, id, merchantId);
    if (!locked) notFound('Order', ['orderId']);
    if (locked.status === 'REFUNDED') fail('ORDER_ALREADY_REFUNDED', 'The order was already refunded.', ['orderId']);
    const refunded = await moveOrder(trx, locked.id, ['PAID', 'FULFILLED'], { status: 'REFUNDED', refundReference, now });
    if (!refunded) fail('ORDER_ALREADY_REFUNDED', 'The order was already refunded.', ['orderId']);
    if (locked.status === 'PAID') await restockOfferUnit(trx, locked.offer_id);
    await insertLedgerEntries(trx, orderPosting('REFUND', refunded, Number(refunded.amount)));
    const intent = (await findIntentById(trx, refunded.intent_id))!;
    const facts = await factsOf(trx, intent.id);
    await insertEvents(trx, [orderEvent('REFUNDED', refunded)]);
    await email(trx, 'ORDER_REFUNDED', { type: 'Order', id: refunded.id }, refunded.user_id, facts, composeRefundedEmail(orderFacts(facts, intent)));
    ctx.logger.info({ orderId: refunded.id, restocked: locked.status === 'PAID' }, 'order refunded');
    return { order: refunded };
  }
}
