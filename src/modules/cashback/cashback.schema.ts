/**
 * Cashback as the user sees it (a timeline with history and totals) and as the merchant sees
 * it (per-offer redemption figures, never who redeemed).
 */
import { createContextCache } from '@pothos/core';
import DataLoader from 'dataloader';
import type { CashbackChangeRow, OfferRow } from '../../../db/types.js';
import type { Context } from '../../context.js';
import { builder } from '../../schema/builder.js';
import { MoneyRef, pageArgs } from '../../schema/common.js';
import { CashbackRef } from './cashback.refs.js';
import { MerchantRef } from '../merchants/merchants.refs.js';
import { OfferRef } from '../offers/offers.refs.js';
import { UserRef } from '../users/users.refs.js';
import { CASHBACK_REASONS, type CashbackReason } from './cashback-work.js';
import { cardLast4Of, cashbackTotalsOf, changesOf, listCashbackOfUser, redemptionFigures, type CashbackTotals, type RedemptionFigures } from './cashback.service.js';

export const CashbackStatusRef = builder.enumType('CashbackStatus', {
  description: 'Where cashback is in its life: PENDING → CONFIRMED → CREDITED, or REVERSED.',
  values: {
    PENDING: { description: 'Earned on a card authorisation; waits for the clearing.' },
    CONFIRMED: { description: 'The purchase cleared; credited after the offer\'s return period.' },
    CREDITED: { description: 'Paid onto the card as a statement credit.' },
    REVERSED: { description: 'Taken back in full (refund, expiry, or a clearing below the minimum spend).' },
  },
});

export const CashbackChangeTypeRef = builder.enumType('CashbackChangeType', {
  description: 'What happened to cashback at one point of its history.',
  values: {
    PENDING: { description: 'Created on an auth.' },
    CONFIRMED: { description: 'Confirmed by the clearing (the amount may have been recomputed).' },
    REVERSED: { description: 'Reduced in part or reversed in full.' },
    CREDITED: { description: 'Credited onto the card.' },
  },
});

const CashbackReasonRef = builder.enumType('CashbackReason', {
  description: 'Why cashback is smaller than the offer promised, or gone.',
  values: Object.fromEntries(Object.entries(CASHBACK_REASONS).map(([k, description]) => [k, { description }])) as Record<
    CashbackReason,
    { description: string }
  >,
});

const historyLoader = createContextCache((ctx: Context) => new DataLoader<string, CashbackChangeRow[]>((ids) => changesOf(ctx, ids)));

const money = (amount: number, currency: string) => ({ amount, currency });

const CashbackChangeRef = builder.objectRef<CashbackChangeRow & { currency: string }>('CashbackChange').implement({
  description: 'One change of cashback, oldest first.',
  fields: (t) => ({
    type: t.expose('type', { type: CashbackChangeTypeRef, description: 'What happened.' }),
    status: t.expose('status', { type: CashbackStatusRef, description: 'Status after the change.' }),
    amount: t.field({ type: MoneyRef, description: 'Amount after the change.', resolve: (c) => money(c.amount, c.currency) }),
    reason: t.field({ type: CashbackReasonRef, nullable: true, description: 'Why, when it shrank.', resolve: (c) => c.reason as CashbackReason | null }),
    at: t.expose('at', { type: 'DateTime', description: 'When.' }),
  }),
});

CashbackRef.implement({
  description: 'The reward a purchase earned. Visible to its user, to the partner that sent the purchase, and to admins.',
  fields: (t) => ({
    status: t.expose('status', { type: CashbackStatusRef, description: 'Where it is in its life.' }),
    amount: t.field({ type: MoneyRef, description: 'The reward now.', resolve: (c) => money(c.amount, c.currency) }),
    purchaseAmount: t.field({ type: MoneyRef, description: 'The purchase it rewards (the cleared amount once cleared).', resolve: (c) => money(c.purchase_amount, c.currency) }),
    refundedAmount: t.field({ type: MoneyRef, description: 'How much of the purchase was refunded.', resolve: (c) => money(c.refunded_amount, c.currency) }),
    creditedAmount: t.field({ type: MoneyRef, description: 'How much was paid onto the card.', resolve: (c) => money(c.credited_amount, c.currency) }),
    clawbackAmount: t.field({ type: MoneyRef, description: 'Owed back after a refund of credited cashback.', resolve: (c) => money(c.clawback_amount, c.currency) }),
    reason: t.field({ type: CashbackReasonRef, nullable: true, description: 'Why it is smaller than promised, or gone.', resolve: (c) => c.reason as CashbackReason | null }),
    offer: t.field({ type: OfferRef, nullable: true, description: 'The offer that gave it.', resolve: (c) => c.offer_id }),
    merchant: t.field({ type: MerchantRef, nullable: true, description: 'The merchant of the purchase.', resolve: (c) => c.merchant_id }),
    cardLast4: t.loadable({
      type: 'String',
      nullable: true,
      description: 'Last four digits of the card used.',
      load: (ids: string[], ctx) => cardLast4Of(ctx, ids),
      resolve: (c) => c.card_id,
    }),
    history: t.field({
      type: [CashbackChangeRef],
      description: 'Every change, oldest first.',
      resolve: async (c, _args, ctx) => (await historyLoader(ctx).load(c.id)).map((change) => ({ ...change, currency: c.currency })),
    }),
    occurredAt: t.expose('occurred_at', { type: 'DateTime', description: 'When the purchase happened.' }),
    expectedCreditAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When it is expected on the card (the purchase plus the return period); null once credited or reversed.',
      resolve: (c) => (c.status === 'PENDING' || c.status === 'CONFIRMED' ? c.expected_credit_at : null),
    }),
    createdAt: t.expose('created_at', { type: 'DateTime', description: 'When it was earned.' }),
  }),
});

const CashbackConnectionRef = builder.connectionObject(
  { type: CashbackRef, name: 'CashbackConnection', description: 'A page of cashback.' },
  { description: 'Cashback in a page.' },
);

const CashbackTotalsRef = builder.objectRef<CashbackTotals>('CashbackTotals').implement({
  description: "The user's cashback in one currency, by status.",
  fields: (t) => ({
    currency: t.exposeString('currency', { description: 'ISO 4217 currency.' }),
    pending: t.expose('pending', { type: MoneyRef, description: 'Earned on auths, not yet cleared.' }),
    confirmed: t.expose('confirmed', { type: MoneyRef, description: 'Confirmed, waiting to be credited.' }),
    credited: t.expose('credited', { type: MoneyRef, description: 'Paid onto cards.' }),
  }),
});

builder.objectFields(UserRef, (t) => ({
  cashback: t.field({
    type: CashbackConnectionRef,
    description: 'Cashback earned, newest first: a timeline of statuses, amounts and reasons.',
    args: {
      ...pageArgs,
      status: t.arg({ type: CashbackStatusRef, required: false, description: 'Only cashback in this status.' }),
    },
    resolve: (user, args, ctx) => listCashbackOfUser(ctx, user.id, args),
  }),
  cashbackTotals: t.field({
    type: [CashbackTotalsRef],
    description: 'Totals per currency (reversed cashback counts nowhere).',
    resolve: (user, _args, ctx) => cashbackTotalsOf(ctx, user.id),
  }),
}));

// One loader per request for an offer's figures, shared by its three fields.
const figuresLoader = createContextCache(
  (ctx: Context) => new DataLoader<OfferRow, RedemptionFigures | null, string>((offers) => redemptionFigures(ctx, offers), { cacheKeyFn: (o) => o.id }),
);

builder.objectFields(OfferRef, (t) => ({
  redemptionCount: t.int({
    nullable: true,
    description: "Purchases rewarded by the offer (not reversed). For the offer's merchant and admins; null for others.",
    resolve: async (offer, _args, ctx) => (await figuresLoader(ctx).load(offer))?.count ?? null,
  }),
  rewardsTotal: t.field({
    type: MoneyRef,
    nullable: true,
    description: "Cashback the offer has given (not reversed). For the offer's merchant and admins; null for others.",
    resolve: async (offer, _args, ctx) => (await figuresLoader(ctx).load(offer))?.rewards ?? null,
  }),
}));
