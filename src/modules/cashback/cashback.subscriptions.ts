/**
 * Cashback as it changes, live and resumable from a cursor: the signed-in user's own
 * (`purchaseConfirmations`) and, without user data, a merchant's redemptions
 * (`merchantRedemptions`).
 */
import { GraphQLError } from 'graphql';
import type { CashbackRow, OfferRow } from '../../../db/types.js';
import type { Context } from '../../context.js';
import { eventFields } from '../../live/live.schema.js';
import type { SequencedEvent } from '../../outbox/outbox.repository.js';
import { eventStream } from '../../live/streams.js';
import { builder } from '../../schema/builder.js';
import { MoneyRef } from '../../schema/common.js';
import { OfferRef } from '../offers/offers.refs.js';
import { findVisibleOffersByIds } from '../offers/offers.service.js';
import { CashbackRef } from './cashback.refs.js';
import { CashbackChangeTypeRef, CashbackStatusRef } from './cashback.schema.js';
import { findUserCashbacksByIds } from './cashback.service.js';
import { CASHBACK_TOPIC } from './cashback.topics.js';

type ChangeType = (typeof CASHBACK_TOPIC.types)[number];

interface Confirmation {
  event: SequencedEvent;
  cashback: CashbackRow | null;
}
interface RedemptionEvent {
  event: SequencedEvent;
  offer: OfferRow | null;
}

const snapshot = (e: SequencedEvent) => CASHBACK_TOPIC.data(e);

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

function requireUser(ctx: Context): string {
  if (ctx.principal.kind === 'user') return ctx.principal.userId;
  throw new GraphQLError('purchaseConfirmations needs a signed-in user (a bearer user token).', { extensions: { code: 'UNAUTHENTICATED' } });
}

function requireMerchant(ctx: Context): string {
  if (ctx.principal.kind === 'merchant') return ctx.principal.merchantId;
  throw new GraphQLError('merchantRedemptions needs a merchant API key.', { extensions: { code: 'UNAUTHENTICATED' } });
}

builder.subscriptionFields((t) => ({
  purchaseConfirmations: t.field({
    type: PurchaseConfirmationRef,
    description: "The signed-in user's cashback as it changes (PENDING, CONFIRMED, REVERSED, CREDITED). With `after`, first replays what came after that cursor.",
    args: { after: t.arg.string({ required: false, description: 'Cursor of the last event received.' }) },
    subscribe: (_root, args, ctx) => {
      const userId = requireUser(ctx);
      return eventStream<Confirmation>(ctx, {
        filter: { topic: CASHBACK_TOPIC.name, userId },
        after: args.after,
        present: async (event) => {
          const [cashback] = await findUserCashbacksByIds(ctx.db, userId, [event.subject_id]);
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
        filter: { topic: CASHBACK_TOPIC.name, merchantId },
        after: args.after,
        present: async (event) => {
          const [offer] = await findVisibleOffersByIds(ctx.db, [CASHBACK_TOPIC.data(event).offerId], { all: false, merchantId });
          return { event, offer: offer ?? null };
        },
      });
    },
    resolve: (event) => event,
  }),
}));
