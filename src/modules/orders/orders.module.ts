/**
 * Declares the orders module: hashtag settings, purchase intents and orders (DESIGN "Buy by
 * hashtag"); the `payments` queue that charges confirmed intents through the payment gateway, and
 * the job that expires intents nobody confirmed in time.
 */
import { queueJob } from '../../jobs/queue.js';
import { defineModule } from '../module.js';
import { expireDueIntents, PAYMENT_BACKOFF, PAYMENT_MAX_ATTEMPTS, paymentHandler, PAYMENTS_QUEUE } from './orders.service.js';
import { ORDER_TOPIC, PURCHASE_INTENT_TOPIC } from './orders.topics.js';
import './orders.schema.js';
import './orders.subscriptions.js';

const ERROR_CODES = {
  INTENT_EXPIRED: 'The purchase intent was not confirmed within its confirm window; its unit went back to stock.',
  INTENT_NOT_OPEN: 'The purchase intent is no longer awaiting confirmation (confirmed, charged, declined, expired or cancelled).',
  HASHTAG_BUYING_OFF: 'Hashtag buying is off for this user (updateHashtagSettings turns it on).',
  ORDER_NOT_PAID: 'Only a paid order can be fulfilled (it is fulfilled or refunded already).',
  ORDER_ALREADY_REFUNDED: 'The order was already refunded; an order is refunded once.',
  REFUND_DECLINED: 'The payment gateway declined the refund.',
  PAYMENT_GATEWAY_UNAVAILABLE: 'The payment gateway did not answer; try again (the same operation never moves money twice).',
} as const;

declare module '../../lib/errors.js' {
  interface ErrorCodeRegistry extends Record<keyof typeof ERROR_CODES, true> {}
}

export const ordersModule = defineModule({
  name: 'orders',
  errorCodes: ERROR_CODES,
  topics: [PURCHASE_INTENT_TOPIC, ORDER_TOPIC],
  queues: [PAYMENTS_QUEUE],
  jobs: ({ db, config, logger, security }) => [
    { name: 'expire-purchase-intents', run: (now) => expireDueIntents(db, now) },
    queueJob(db, paymentHandler({ db, config, logger, security }), { maxAttempts: PAYMENT_MAX_ATTEMPTS, backoff: PAYMENT_BACKOFF, logger, limit: 20, leaseMs: 5 * 60_000 }),
  ],
});
