/**
 * Hashtag orders in the API: the buyer's settings, intents and orders (`viewer`), confirming or
 * cancelling an intent in the app, and the merchant's orders (`merchantOrders`, fulfil, refund).
 * A merchant sees an order's offer, amount, status and dates: never the buyer, an e-mail or a card.
 */
import { createContextCache } from '@pothos/core';
import DataLoader from 'dataloader';
import type { HashtagBuying, OrderRow, PurchaseIntentRow } from '../../../db/types.js';
import type { Context } from '../../context.js';
import type { UserError } from '../../lib/errors.js';
import { builder } from '../../schema/builder.js';
import { idempotencyKeyField, MoneyRef, pageArgs, userErrorsField, withUserErrors, type PayloadFieldBuilder } from '../../schema/common.js';
import { CardRef } from '../cards/cards.refs.js';
import { MerchantRef } from '../merchants/merchants.refs.js';
import { OfferRef } from '../offers/offers.refs.js';
import { UserRef } from '../users/users.refs.js';
import { OrderRef, PurchaseIntentRef } from './orders.refs.js';
import { INTENT_REASONS, parseReason, type IntentReason } from './orders.rules.js';
import {
  cancelPurchaseIntent,
  confirmPurchaseIntent,
  fulfillOrder,
  hashtagSettingsOf,
  listMerchantOrders,
  listOrdersOfUser,
  listPurchaseIntentsOfUser,
  ordersOfIntents,
  refundOrder,
  updateHashtagSettings,
  type HashtagSettings,
} from './orders.service.js';

export const PurchaseIntentStatusRef = builder.enumType('PurchaseIntentStatus', {
  description: 'Where a purchase intent is: AWAITING_CONFIRMATION → CONFIRMED → CHARGED, or DECLINED, EXPIRED, CANCELLED.',
  values: {
    AWAITING_CONFIRMATION: { description: 'A buy post started it; one unit is held until it is confirmed or its window ends.' },
    CONFIRMED: { description: 'Confirmed by post or in the app; the charge is in progress (the unit stays held).' },
    CHARGED: { description: 'The card was charged and the order exists (the unit is sold).' },
    DECLINED: { description: 'The charge was declined (see reason and declineCode); the unit went back to stock.' },
    EXPIRED: { description: 'Not confirmed in time; the unit went back to stock.' },
    CANCELLED: { description: 'Cancelled by the buyer, or its handle moved or was unlinked; the unit went back to stock.' },
  },
});

const PurchaseIntentReasonRef = builder.enumType('PurchaseIntentReason', {
  description: 'Why a purchase intent ended as it did.',
  values: Object.fromEntries(Object.entries(INTENT_REASONS).map(([k, description]) => [k, { description }])) as Record<IntentReason, { description: string }>,
});

const ConfirmationChannelRef = builder.enumType('ConfirmationChannel', {
  description: 'How a purchase intent was confirmed.',
  values: {
    POST: { description: 'A post with the confirm hashtag from the handle that bought.' },
    APP: { description: 'confirmPurchaseIntent in the app.' },
  },
});

export const HashtagBuyingRef = builder.enumType('HashtagBuying', {
  description: 'Whether and how a user buys by hashtag.',
  values: {
    OFF: { description: 'Buy posts are refused (HASHTAG_BUYING_OFF); turning it off cancels the intents awaiting confirmation.' },
    CONFIRM_BY_POST: { description: 'A post with the confirm hashtag, or the app, confirms a purchase.' },
    CONFIRM_IN_APP: {
      description: 'Only the app confirms a purchase: a post alone can never charge the card (the default, so a hijacked social account cannot spend).',
    },
  },
});

export const OrderStatusRef = builder.enumType('OrderStatus', {
  description: 'Where an order is: PAID → FULFILLED, or REFUNDED.',
  values: {
    PAID: { description: 'The card was charged; the merchant has to fulfil it.' },
    FULFILLED: { description: 'The merchant fulfilled it (its note went to the buyer by e-mail).' },
    REFUNDED: { description: 'The merchant refunded it; the money went back to the card.' },
  },
});

const money = (amount: number, currency: string) => ({ amount: Number(amount), currency });

const orderOfIntentLoader = createContextCache(
  (ctx: Context) => new DataLoader<string, OrderRow | null>((ids) => ordersOfIntents(ctx, ids)),
);

PurchaseIntentRef.implement({
  description: 'A purchase a buy post started: it holds one unit of the offer until it is confirmed, expires or is cancelled. Visible to its buyer only.',
  fields: (t) => ({
    status: t.expose('status', { type: PurchaseIntentStatusRef, description: 'Where it is.' }),
    reason: t.field({ type: PurchaseIntentReasonRef, nullable: true, description: 'Why it ended (DECLINED, EXPIRED, CANCELLED); null otherwise.', resolve: (i) => parseReason(i.reason).reason }),
    declineCode: t.string({ nullable: true, description: "The gateway's decline code (e.g. INSUFFICIENT_FUNDS) of a DECLINED intent.", resolve: (i) => parseReason(i.reason).declineCode }),
    price: t.field({ type: MoneyRef, description: 'The price to be charged (the offer price when the intent was created).', resolve: (i) => money(i.price, i.currency) }),
    offer: t.field({ type: OfferRef, nullable: true, description: 'The offer being bought.', resolve: (i) => i.offer_id }),
    merchant: t.field({ type: MerchantRef, nullable: true, description: 'The merchant selling it.', resolve: (i) => i.merchant_id }),
    card: t.field({ type: CardRef, nullable: true, description: 'The card that is (or was) charged.', resolve: (i) => i.card_id }),
    confirmedVia: t.field({ type: ConfirmationChannelRef, nullable: true, description: 'How it was confirmed, once confirmed.', resolve: (i) => i.confirmed_via }),
    expiresAt: t.expose('expires_at', { type: 'DateTime', description: 'The end of the confirm window (inclusive).' }),
    confirmedAt: t.expose('confirmed_at', { type: 'DateTime', nullable: true, description: 'When it was confirmed.' }),
    settledAt: t.expose('settled_at', { type: 'DateTime', nullable: true, description: 'When it ended (charged, declined, expired or cancelled).' }),
    createdAt: t.expose('created_at', { type: 'DateTime', description: 'When the buy post created it.' }),
    order: t.field({ type: OrderRef, nullable: true, description: 'The order, once charged.', resolve: (i, _args, ctx) => orderOfIntentLoader(ctx).load(i.id) }),
  }),
});

OrderRef.implement({
  description: "A paid hashtag purchase. Visible to its buyer, to the offer's merchant (no buyer, e-mail or card data) and to admins.",
  fields: (t) => ({
    status: t.expose('status', { type: OrderStatusRef, description: 'Where it is.' }),
    amount: t.field({ type: MoneyRef, description: 'What was charged.', resolve: (o) => money(o.amount, o.currency) }),
    offer: t.field({ type: OfferRef, nullable: true, description: 'The offer bought.', resolve: (o) => o.offer_id }),
    merchant: t.field({ type: MerchantRef, nullable: true, description: 'The merchant.', resolve: (o) => o.merchant_id }),
    purchaseIntent: t.field({ type: PurchaseIntentRef, nullable: true, description: 'The intent it came from (for the buyer; null for the merchant).', resolve: (o) => o.intent_id }),
    card: t.field({ type: CardRef, nullable: true, description: 'The card charged (for the buyer; null for the merchant).', resolve: (o) => o.card_id }),
    paidAt: t.expose('created_at', { type: 'DateTime', description: 'When the card was charged.' }),
    fulfilledAt: t.expose('fulfilled_at', { type: 'DateTime', nullable: true, description: 'When the merchant fulfilled it.' }),
    refundedAt: t.expose('refunded_at', { type: 'DateTime', nullable: true, description: 'When the merchant refunded it.' }),
    updatedAt: t.expose('updated_at', { type: 'DateTime', description: 'When it last changed.' }),
  }),
});

const HashtagSettingsRef = builder.objectRef<HashtagSettings>('HashtagSettings').implement({
  description: "How the user's hashtag purchases are confirmed, and how much they may spend a day.",
  fields: (t) => ({
    hashtagBuying: t.field({ type: HashtagBuyingRef, description: 'Whether and how purchases are confirmed.', resolve: (s) => s.buying }),
    dailyLimit: t.int({
      nullable: true,
      description: 'Most a UTC day of charged and open purchases may add up to, in minor units of each currency; null: no limit.',
      resolve: (s) => s.dailyLimit,
    }),
    updatedAt: t.field({ type: 'DateTime', nullable: true, description: 'When the user last changed them; null while they are the defaults.', resolve: (s) => s.updatedAt }),
  }),
});

const PurchaseIntentConnectionRef = builder.connectionObject(
  { type: PurchaseIntentRef, name: 'PurchaseIntentConnection', description: 'A page of purchase intents, newest first.' },
  { description: 'A purchase intent in a page.' },
);

const OrderConnectionRef = builder.connectionObject(
  { type: OrderRef, name: 'OrderConnection', description: 'A page of orders, newest first.' },
  { description: 'An order in a page.' },
);

builder.objectFields(UserRef, (t) => ({
  hashtagSettings: t.field({
    type: HashtagSettingsRef,
    description: 'How hashtag purchases are confirmed and the daily limit (the defaults until changed: CONFIRM_IN_APP, 50,000 minor units).',
    resolve: (user, _args, ctx) => hashtagSettingsOf(ctx, user.id),
  }),
  purchaseIntents: t.field({
    type: PurchaseIntentConnectionRef,
    description: 'Purchases started by buy posts, newest first.',
    args: pageArgs,
    resolve: (user, args, ctx) => listPurchaseIntentsOfUser(ctx, user.id, args),
  }),
  orders: t.field({
    type: OrderConnectionRef,
    description: 'Paid hashtag purchases, newest first.',
    args: pageArgs,
    resolve: (user, args, ctx) => listOrdersOfUser(ctx, user.id, args),
  }),
}));

builder.queryField('merchantOrders', (t) =>
  t.field({
    type: OrderConnectionRef,
    description: "The calling merchant's orders (merchant key; empty for anyone else), newest first: offer, amount, status and dates; no buyer, e-mail or card data.",
    args: pageArgs,
    resolve: (_root, args, ctx) => listMerchantOrders(ctx, args),
  }),
);

const intentPayload = (name: string) => ({
  description: `Result of ${name}.`,
  outputFields: (t: PayloadFieldBuilder<{ intent?: PurchaseIntentRow; order?: OrderRow | null; userErrors: UserError[] }>) => ({
    purchaseIntent: t.field({ type: PurchaseIntentRef, nullable: true, description: 'The intent after the change.', resolve: (p) => p.intent ?? null }),
    order: t.field({ type: OrderRef, nullable: true, description: 'The order, when the intent is charged.', resolve: (p) => p.order ?? null }),
    userErrors: userErrorsField(t),
  }),
});

const intentIdField = { description: 'Global id of one of your purchase intents.' };

builder.relayMutationField(
  'confirmPurchaseIntent',
  {
    description: 'Input of confirmPurchaseIntent.',
    inputFields: (t) => ({ intentId: t.id({ required: true, ...intentIdField }), idempotencyKey: idempotencyKeyField(t) }),
  },
  {
    description:
      'Confirms one of your purchase intents in the app (allowed with CONFIRM_IN_APP and CONFIRM_BY_POST) and charges your card at once: the answer holds the order when the charge went through. Confirming twice is harmless; the card is charged once.',
    resolve: (_root, { input }, ctx) => withUserErrors(() => confirmPurchaseIntent(ctx, { ...input, intentId: String(input.intentId) })),
  },
  intentPayload('confirmPurchaseIntent'),
);

builder.relayMutationField(
  'cancelPurchaseIntent',
  {
    description: 'Input of cancelPurchaseIntent.',
    inputFields: (t) => ({ intentId: t.id({ required: true, ...intentIdField }), idempotencyKey: idempotencyKeyField(t) }),
  },
  {
    description: 'Cancels one of your purchase intents awaiting confirmation ("not you?"): nothing is charged and its unit goes back to stock.',
    resolve: (_root, { input }, ctx) => withUserErrors(() => cancelPurchaseIntent(ctx, { ...input, intentId: String(input.intentId) })),
  },
  intentPayload('cancelPurchaseIntent'),
);

builder.relayMutationField(
  'updateHashtagSettings',
  {
    description: 'Input of updateHashtagSettings: the fields given change.',
    inputFields: (t) => ({
      hashtagBuying: t.field({ type: HashtagBuyingRef, required: false, description: 'Whether and how purchases are confirmed.' }),
      dailyLimit: t.int({ required: false, description: 'Most a UTC day of purchases may add up to, in minor units of each currency (0 to 1,000,000,000).' }),
      idempotencyKey: idempotencyKeyField(t),
    }),
  },
  {
    description: "Changes the signed-in user's hashtag settings. OFF cancels the intents awaiting confirmation.",
    resolve: (_root, { input }, ctx) =>
      withUserErrors(() => updateHashtagSettings(ctx, { ...input, hashtagBuying: (input.hashtagBuying ?? null) as HashtagBuying | null })),
  },
  {
    description: 'Result of updateHashtagSettings.',
    outputFields: (t) => ({
      hashtagSettings: t.field({ type: HashtagSettingsRef, nullable: true, description: 'The settings after the change.', resolve: (p) => p.settings ?? null }),
      userErrors: userErrorsField(t),
    }),
  },
);

const orderPayload = (name: string) => ({
  description: `Result of ${name}.`,
  outputFields: (t: PayloadFieldBuilder<{ order?: OrderRow; userErrors: UserError[] }>) => ({
    order: t.field({ type: OrderRef, nullable: true, description: 'The order after the change.', resolve: (p) => p.order ?? null }),
    userErrors: userErrorsField(t),
  }),
});

const orderIdField = { description: "Global id of one of the merchant's orders." };

builder.relayMutationField(
  'fulfillOrder',
  {
    description: 'Input of fulfillOrder.',
    inputFields: (t) => ({
      orderId: t.id({ required: true, ...orderIdField }),
      note: t.string({
        required: true,
        description: 'For the buyer, 1 to 2,000 characters (e.g. a gift card code): sent by e-mail only, stored nowhere else.',
      }),
      idempotencyKey: idempotencyKeyField(t),
    }),
  },
  {
    description: 'The merchant fulfilled a paid order (merchant key): PAID → FULFILLED, and the note goes to the buyer by e-mail.',
    resolve: (_root, { input }, ctx) => withUserErrors(() => fulfillOrder(ctx, { ...input, orderId: String(input.orderId) })),
  },
  orderPayload('fulfillOrder'),
);

builder.relayMutationField(
  'refundOrder',
  {
    description: 'Input of refundOrder. The gateway refunds an order once, however often this is called.',
    inputFields: (t) => ({ orderId: t.id({ required: true, ...orderIdField }), idempotencyKey: idempotencyKeyField(t) }),
  },
  {
    description:
      'Refunds a paid or fulfilled order in full through the payment gateway (merchant key), once; the unit goes back to stock when the order was not fulfilled.',
    resolve: (_root, { input }, ctx) => withUserErrors(() => refundOrder(ctx, { orderId: String(input.orderId), idempotencyKey: input.idempotencyKey })),
  },
  orderPayload('refundOrder'),
);
