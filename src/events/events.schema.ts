/**
 * Subscriptions: the public offer feed, the signed-in user's purchase confirmations and a
 * merchant's redemptions. The last two resume from a cursor.
 */
import { GraphQLError } from 'graphql';
import type { CashbackRow, OfferKind, OfferRow } from '../../db/types.js';
import type { Context } from '../context.js';
import { PUBLIC_VISIBILITY } from '../lib/authorization.js';
import { idOfType } from '../lib/ids.js';
import { findUserCashbacksByIds } from '../modules/cashback/cashback.service.js';
import { CashbackChangeTypeRef, CashbackStatusRef } from '../modules/cashback/cashback.schema.js';
import { findVisibleOffersByIds } from '../modules/offers/offers.service.js';
import { OfferKindRef } from '../modules/offers/offers.schema.js';
import { builder } from '../schema/builder.js';
import { MoneyRef, type PayloadFieldBuilder } from '../schema/common.js';
import { CashbackRef } from '../modules/cashback/cashback.refs.js';
import { OfferRef } from '../modules/offers/offers.refs.js';
import { headPosition, type SequencedEvent } from './events.repository.js';
import { eventCursor, eventStream } from './streams.js';

type ChangeType = 'PENDING' | 'CONFIRMED' | 'REVERSED' | 'CREDITED';
interface Snapshot {
  status: CashbackRow['status'];
  amount: number;
  currency: string;
}

interface Confirmation {
  event: SequencedEvent;
  cashback: CashbackRow | null;
}
interface RedemptionEvent {
  event: SequencedEvent;
  offer: OfferRow | null;
}
interface OfferFeedEvent {
  event: SequencedEvent;
  offer: OfferRow;
}

const snapshot = (e: SequencedEvent) => e.data as unknown as Snapshot;
/** `cursor` and `at`, the fields every event type has. */
const eventFields = <T extends { event: SequencedEvent }>(t: PayloadFieldBuilder<T>) => ({
  cursor: t.string({ description: 'Position of the event: pass it as `after` to resume right after it.', resolve: (p) => eventCursor(p.event.position) }),
  at: t.field({ type: 'DateTime', description: 'When the change was committed.', resolve: (p) => p.event.created_at }),
});

const PurchaseConfirmationRef = builder.objectRef<Confirmation>('PurchaseConfirmation').implement({
  description: "A change of the signed-in user's cashback.",
  fields: (t) => ({
    type: t.field({ type: CashbackChangeTypeRef, description: 'What happened.', resolve: (p) => p.event.type as ChangeType }),
    status: t.field({ type: CashbackStatusRef, description: 'Status right after the change.', resolve: (p) => snapshot(p.event).status }),
    amount: t.field({ type: MoneyRef, description: 'Amount right after the change.', resolve: (p) => ({ amount: snapshot(p.event).amount, currency: snapshot(p.event).currency }) }),
    cashback: t.field({ type: CashbackRef, nullable: true, description: 'The cashback as it is now.', resolve: (p) => p.cashback }),
    ...eventFields(t),
  }),
});

const RedemptionRef = builder.objectRef<RedemptionEvent>('Redemption').implement({
  description: "A change of cashback on one of the merchant's offers. No user data.",
  fields: (t) => ({
    type: t.field({ type: CashbackChangeTypeRef, description: 'What happened.', resolve: (p) => p.event.type as ChangeType }),
    amount: t.field({ type: MoneyRef, description: 'Reward right after the change.', resolve: (p) => ({ amount: snapshot(p.event).amount, currency: snapshot(p.event).currency }) }),
    offer: t.field({ type: OfferRef, nullable: true, description: 'The offer.', resolve: (p) => p.offer }),
    ...eventFields(t),
  }),
});

const OfferEventTypeRef = builder.enumType('OfferEventType', {
  description: 'What happened to an offer.',
  values: {
    CREATED: { description: 'Created (as a draft: only its merchant sees it).' },
    UPDATED: { description: 'Changed by its merchant.' },
    PUBLISHED: { description: 'Published.' },
    PAUSED: { description: 'Paused by its merchant.' },
    RESUMED: { description: 'Resumed after a pause.' },
    LIVE: { description: 'Reached its start.' },
    EXPIRED: { description: 'Reached its end.' },
    EXHAUSTED: { description: 'Spent its whole budget.' },
  },
});

const OfferFeedEventRef = builder.objectRef<OfferFeedEvent>('OfferFeedEvent').implement({
  description: 'A change of a public offer.',
  fields: (t) => ({
    type: t.field({ type: OfferEventTypeRef, description: 'What happened.', resolve: (p) => p.event.type as never }),
    offer: t.field({ type: OfferRef, description: 'The offer as it is now.', resolve: (p) => p.offer }),
    ...eventFields(t),
  }),
});

const OfferFeedFilterRef = builder.inputType('OfferFeedFilter', {
  description: 'Which offers to follow.',
  fields: (t) => ({
    merchantId: t.id({ required: false, description: 'Only this merchant.' }),
    country: t.string({ required: false, description: 'Only offers valid in this ISO 3166-1 alpha-2 country.' }),
    kind: t.field({ type: OfferKindRef, required: false, description: 'Only this kind.' }),
  }),
});

/**
 * The public offer behind an event, read once per event for every subscriber of this instance
 * (kept per relay: positions are only unique within one database).
 */
const publicOffers = new WeakMap<object, Map<number, Promise<OfferRow | undefined>>>();
function publicOfferAt(ctx: Context, event: SequencedEvent): Promise<OfferRow | undefined> {
  let byPosition = publicOffers.get(ctx.events!);
  if (!byPosition) publicOffers.set(ctx.events!, (byPosition = new Map()));
  let offer = byPosition.get(event.position);
  if (!offer) {
    offer = findVisibleOffersByIds(ctx.db, [event.offer_id!], PUBLIC_VISIBILITY).then((rows) => rows[0]);
    byPosition.set(event.position, offer);
    if (byPosition.size > 1000) byPosition.delete(byPosition.keys().next().value!);
  }
  return offer;
}

function requireUser(ctx: Context): string {
  if (ctx.principal.kind === 'user') return ctx.principal.userId;
  throw new GraphQLError('purchaseConfirmations needs a signed-in user (a bearer user token).', { extensions: { code: 'UNAUTHENTICATED' } });
}

function requireMerchant(ctx: Context): string {
  if (ctx.principal.kind === 'merchant') return ctx.principal.merchantId;
  throw new GraphQLError('merchantRedemptions needs a merchant API key.', { extensions: { code: 'UNAUTHENTICATED' } });
}

builder.queryField('eventCursor', (t) =>
  t.string({
    description:
      'Where the event log stands now, as a cursor. Subscribe to purchaseConfirmations or merchantRedemptions with `after:` it to receive everything from this moment on, however long the subscription takes to register.',
    resolve: async (_root, _args, ctx) => eventCursor(await headPosition(ctx.db)),
  }),
);

builder.subscriptionFields((t) => ({
  offerFeed: t.field({
    type: OfferFeedEventRef,
    description: 'Live changes of public offers (published by approved merchants). Anyone may follow it.',
    args: { filter: t.arg({ type: OfferFeedFilterRef, required: false, description: 'Which offers to follow.' }) },
    subscribe: (_root, args, ctx) => {
      const merchantId = args.filter?.merchantId ? (idOfType(args.filter.merchantId, 'Merchant') ?? 'none') : undefined;
      const country = args.filter?.country ?? null;
      const kind = (args.filter?.kind as OfferKind | null | undefined) ?? null;
      return eventStream<OfferFeedEvent>(ctx, {
        filter: { topic: 'OFFER', merchantId },
        present: async (event) => {
          if (!event.offer_id || event.type === 'CREATED') return null;
          const offer = await publicOfferAt(ctx, event);
          if (!offer || (country && !offer.countries.includes(country)) || (kind && offer.kind !== kind)) return null;
          return { event, offer };
        },
      });
    },
    resolve: (event) => event,
  }),
  purchaseConfirmations: t.field({
    type: PurchaseConfirmationRef,
    description: "The signed-in user's cashback as it changes (PENDING, CONFIRMED, REVERSED, CREDITED). With `after`, first replays what came after that cursor.",
    args: { after: t.arg.string({ required: false, description: 'Cursor of the last event received.' }) },
    subscribe: (_root, args, ctx) => {
      const userId = requireUser(ctx);
      return eventStream<Confirmation>(ctx, {
        filter: { topic: 'CASHBACK', userId },
        after: args.after,
        present: async (event) => {
          const [cashback] = await findUserCashbacksByIds(ctx.db, userId, [event.cashback_id!]);
          return { event, cashback: cashback ?? null };
        },
      });
    },
    resolve: (event) => event,
  }),
  merchantRedemptions: t.field({
    type: RedemptionRef,
    description: "Redemptions of the merchant's offers as they change. With `after`, first replays what came after that cursor.",
    args: { after: t.arg.string({ required: false, description: 'Cursor of the last event received.' }) },
    subscribe: (_root, args, ctx) => {
      const merchantId = requireMerchant(ctx);
      return eventStream<RedemptionEvent>(ctx, {
        filter: { topic: 'CASHBACK', merchantId },
        after: args.after,
        present: async (event) => {
          const [offer] = await findVisibleOffersByIds(ctx.db, [event.offer_id!], { all: false, merchantId });
          return { event, offer: offer ?? null };
        },
      });
    },
    resolve: (event) => event,
  }),
}));
