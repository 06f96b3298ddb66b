/**
 * Orders and purchase intents as they change, live and resumable from a cursor: the signed-in
 * buyer's (`orderUpdates`, `purchaseIntentUpdates`) and a merchant's orders without buyer data
 * (`merchantOrders`).
 */
import { GraphQLError } from 'graphql';
import type { OrderRow, PurchaseIntentRow } from '../../../db/types.js';
import type { Context } from '../../context.js';
import { eventFields } from '../../live/live.schema.js';
import { eventStream } from '../../live/streams.js';
import type { SequencedEvent } from '../../outbox/outbox.repository.js';
import { builder } from '../../schema/builder.js';
import { OrderRef, PurchaseIntentRef } from './orders.refs.js';
import { OrderStatusRef, PurchaseIntentStatusRef } from './orders.schema.js';
import { loadVisibleIntents, loadVisibleOrders } from './orders.service.js';
import { ORDER_TOPIC, PURCHASE_INTENT_TOPIC } from './orders.topics.js';

interface OrderChange {
  event: SequencedEvent;
  order: OrderRow | null;
}
interface IntentChange {
  event: SequencedEvent;
  intent: PurchaseIntentRow | null;
}

const OrderEventTypeRef = builder.enumType('OrderEventType', {
  description: 'What happened to an order.',
  values: {
    PAID: { description: 'The card was charged; the order exists.' },
    FULFILLED: { description: 'The merchant fulfilled it.' },
    REFUNDED: { description: 'The merchant refunded it.' },
  },
});

const PurchaseIntentEventTypeRef = builder.enumType('PurchaseIntentEventType', {
  description: 'What happened to a purchase intent.',
  values: {
    CREATED: { description: 'A buy post created it (one unit held).' },
    CONFIRMED: { description: 'Confirmed by post or in the app; the charge follows.' },
    CHARGED: { description: 'The card was charged; the order exists.' },
    DECLINED: { description: 'The charge was declined; the unit went back to stock.' },
    EXPIRED: { description: 'Not confirmed in time; the unit went back to stock.' },
    CANCELLED: { description: 'Cancelled; the unit went back to stock.' },
  },
});

const OrderChangeRef = builder.objectRef<OrderChange>('OrderChange').implement({
  description: 'A change of an order: for its buyer, or for its merchant (who sees no buyer data).',
  fields: (t) => ({
    type: t.field({ type: OrderEventTypeRef, description: 'What happened.', resolve: (c) => c.event.type as (typeof ORDER_TOPIC.types)[number] }),
    status: t.field({ type: OrderStatusRef, description: 'Status right after the change.', resolve: (c) => ORDER_TOPIC.data(c.event).status }),
    order: t.field({ type: OrderRef, nullable: true, description: 'The order as it is now.', resolve: (c) => c.order }),
    ...eventFields(t),
  }),
});

const PurchaseIntentChangeRef = builder.objectRef<IntentChange>('PurchaseIntentChange').implement({
  description: "A change of one of the signed-in user's purchase intents.",
  fields: (t) => ({
    type: t.field({ type: PurchaseIntentEventTypeRef, description: 'What happened.', resolve: (c) => c.event.type as (typeof PURCHASE_INTENT_TOPIC.types)[number] }),
    status: t.field({ type: PurchaseIntentStatusRef, description: 'Status right after the change.', resolve: (c) => PURCHASE_INTENT_TOPIC.data(c.event).status }),
    purchaseIntent: t.field({ type: PurchaseIntentRef, nullable: true, description: 'The intent as it is now.', resolve: (c) => c.intent }),
    ...eventFields(t),
  }),
});

function requireUser(ctx: Context, field: string): string {
  if (ctx.principal.kind === 'user') return ctx.principal.userId;
  throw new GraphQLError(`${field} needs a signed-in user (a bearer user token).`, { extensions: { code: 'UNAUTHENTICATED' } });
}

function requireMerchant(ctx: Context): string {
  if (ctx.principal.kind === 'merchant') return ctx.principal.merchantId;
  throw new GraphQLError('merchantOrders needs a merchant API key.', { extensions: { code: 'UNAUTHENTICATED' } });
}

const afterArg = { description: 'Cursor of the last event received.' };

builder.subscriptionFields((t) => ({
  orderUpdates: t.field({
    type: OrderChangeRef,
    description: "The signed-in user's orders as they change (PAID, FULFILLED, REFUNDED). With `after`, first replays what came after that cursor.",
    args: { after: t.arg.string({ required: false, ...afterArg }) },
    subscribe: (_root, args, ctx) => {
      const userId = requireUser(ctx, 'orderUpdates');
      return eventStream<OrderChange>(ctx, {
        filter: { topic: ORDER_TOPIC.name, userId },
        after: args.after,
        present: async (event) => ({ event, order: (await loadVisibleOrders(ctx, [event.subject_id]))[0] ?? null }),
      });
    },
    resolve: (change) => change,
  }),
  purchaseIntentUpdates: t.field({
    type: PurchaseIntentChangeRef,
    description:
      "The signed-in user's purchase intents as they change (created by a buy post, confirmed, charged, declined, expired, cancelled). With `after`, first replays what came after that cursor.",
    args: { after: t.arg.string({ required: false, ...afterArg }) },
    subscribe: (_root, args, ctx) => {
      const userId = requireUser(ctx, 'purchaseIntentUpdates');
      return eventStream<IntentChange>(ctx, {
        filter: { topic: PURCHASE_INTENT_TOPIC.name, userId },
        after: args.after,
        present: async (event) => ({ event, intent: (await loadVisibleIntents(ctx, [event.subject_id]))[0] ?? null }),
      });
    },
    resolve: (change) => change,
  }),
  merchantOrders: t.field({
    type: OrderChangeRef,
    description: "Orders of the merchant's offers as they change (merchant key; no buyer data). With `after`, first replays what came after that cursor.",
    args: { after: t.arg.string({ required: false, ...afterArg }) },
    subscribe: (_root, args, ctx) => {
      const merchantId = requireMerchant(ctx);
      return eventStream<OrderChange>(ctx, {
        filter: { topic: ORDER_TOPIC.name, merchantId },
        after: args.after,
        present: async (event) => ({ event, order: (await loadVisibleOrders(ctx, [event.subject_id]))[0] ?? null }),
      });
    },
    resolve: (change) => change,
  }),
}));
