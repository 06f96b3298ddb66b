/**
 * Offer types, the public catalogue queries and the merchant mutations of an offer's life.
 */
import { z } from 'zod';
import type { FieldNode, GraphQLResolveInfo } from 'graphql';
import type { OfferRow } from '../../../db/types.js';
import { idOfType } from '../../lib/ids.js';
import { money } from '../../lib/money.js';
import { builder } from '../../schema/builder.js';
import type { UserError } from '../../lib/errors.js';
import type { SchemaTypes } from '../../schema/builder.js';
import { idempotencyKeyField, MoneyRef, pageArgs, userErrorsField, withUserErrors, type PayloadFieldBuilder } from '../../schema/common.js';
import { LocationRef } from '../locations/locations.refs.js';
import { MerchantRef } from '../merchants/merchants.refs.js';
import { OfferRef } from './offers.refs.js';
import { PostRef } from '../posts/posts.refs.js';
import { ChannelRef } from '../locations/locations.schema.js';
import { merchantColumnsOf, OfferConnectionRef } from '../merchants/merchants.schema.js';
import { columnsOf, Selection } from '../../schema/selection.js';
import { loadLocationsOfOffers } from '../locations/locations.service.js';
import { loadPostsOfOffers } from '../posts/posts.service.js';
import { offerStatus, rewardSummary } from './offers.rules.js';
import {
  createOffer,
  dayName,
  listOffers,
  merchantReadWith,
  pauseOffer,
  publishOffer,
  resumeOffer,
  updateOffer,
  type FeedColumns,
  type UpdateOfferInput,
} from './offers.service.js';

export const OfferKindRef = builder.enumType('OfferKind', {
  description: 'What an offer is.',
  values: {
    CASHBACK: { description: 'Card-linked: a purchase with a linked card earns a reward.' },
    PURCHASE: { description: 'Bought by hashtag: a post with the hashtag buys it with the linked card.' },
  },
});

const OfferStatusRef = builder.enumType('OfferStatus', {
  description: 'Where an offer is in its life, as of the moment it is read.',
  values: {
    DRAFT: { description: 'Being prepared; only its merchant sees it.' },
    SCHEDULED: { description: 'Published, starts later.' },
    LIVE: { description: 'Published and running now.' },
    PAUSED: { description: 'Stopped by its merchant for now.' },
    EXPIRED: { description: 'Past its end.' },
    EXHAUSTED: { description: 'Its budget or stock is used up.' },
  },
});

const RewardTypeRef = builder.enumType('RewardType', {
  description: 'How a cashback reward is computed.',
  values: {
    PERCENT: { description: 'A share of the amount in basis points (1000 = 10%), rounded down, optionally capped by maxReward.' },
    FIXED: { description: 'A fixed amount of money.' },
  },
});

const DayOfWeekRef = builder.enumType('DayOfWeek', {
  description: "A day of the week, in the location's time zone.",
  values: {
    MONDAY: { description: 'Monday.' },
    TUESDAY: { description: 'Tuesday.' },
    WEDNESDAY: { description: 'Wednesday.' },
    THURSDAY: { description: 'Thursday.' },
    FRIDAY: { description: 'Friday.' },
    SATURDAY: { description: 'Saturday.' },
    SUNDAY: { description: 'Sunday.' },
  },
});

const OfferOrderRef = builder.enumType('OfferOrder', {
  description: 'How to sort the offer list.',
  values: {
    NEWEST: { description: 'Most recently created first.' },
    ENDING_SOON: { description: 'Soonest end first.' },
    BEST_REWARD: {
      description:
        'Highest reward rate first: a percentage as such, a fixed reward as its share of the minimum spend (100% without one); purchase offers last.',
    },
  },
});

/** A money column of the offer in the offer's currency, or null. */
const offerMoney = (amount: number | null, offer: OfferRow) => (amount === null ? null : money(amount, offer.currency));

OfferRef.implement({
  description: "A merchant's promise: cashback on card purchases, or a product bought by hashtag.",
  fields: (t) => {
    const moneyField = (column: keyof OfferRow & ('reward_amount' | 'max_reward' | 'min_spend' | 'budget' | 'budget_remaining' | 'price'), description: string) =>
      t.field({ type: MoneyRef, nullable: true, description, resolve: (o) => offerMoney(o[column], o) });
    return {
      merchant: t.field({
        type: MerchantRef,
        description: 'The merchant that offers it.',
        // The feed reads an offer's merchant with it (public offers belong to approved merchants,
        // whom every caller may see); other rows load it by id.
        resolve: (o) => merchantReadWith(o) ?? o.merchant_id,
      }),
      kind: t.expose('kind', { type: OfferKindRef, description: 'Cashback or purchase.' }),
      status: t.field({
        type: OfferStatusRef,
        description: 'Status at the time of reading.',
        resolve: (o) => offerStatus(o, new Date()),
      }),
      title: t.exposeString('title', { description: 'Headline, e.g. "10% back on coffee".' }),
      description: t.exposeString('description', { description: 'Details and terms.' }),
      rewardSummary: t.string({ description: 'The reward in words, e.g. "10% cashback up to $20.00".', resolve: (o) => rewardSummary(o) }),
      currency: t.exposeString('currency', { description: 'ISO 4217 currency of every amount of the offer; other currencies do not qualify.' }),
      rewardType: t.expose('reward_type', { type: RewardTypeRef, nullable: true, description: 'How the reward is computed (cashback offers).' }),
      rewardBasisPoints: t.exposeInt('reward_basis_points', { nullable: true, description: 'Percentage reward in basis points, 1 to 10000 (1000 = 10%).' }),
      rewardAmount: moneyField('reward_amount', 'Fixed reward per qualifying purchase.'),
      maxReward: moneyField('max_reward', 'Cap of a percentage reward per purchase.'),
      minSpend: moneyField('min_spend', 'Smallest purchase that qualifies.'),
      startsAt: t.expose('starts_at', { type: 'DateTime', description: 'Start of the window.' }),
      endsAt: t.expose('ends_at', { type: 'DateTime', description: 'End of the window (exclusive).' }),
      daysOfWeek: t.field({
        type: [DayOfWeekRef],
        description: "Days the offer applies, in the location's time zone; empty means every day.",
        resolve: (o) => o.days_of_week.map(dayName),
      }),
      channels: t.expose('channels', { type: [ChannelRef], description: 'Channels where purchases qualify.' }),
      countries: t.exposeStringList('countries', { description: 'ISO 3166-1 alpha-2 countries where the offer applies.' }),
      activationRequired: t.exposeBoolean('activation_required', { description: 'Whether a consumer must tap "Get Offer" before buying.' }),
      perUserLimit: t.exposeInt('per_user_limit', { nullable: true, description: 'Rewarded purchases per consumer; null means no limit.' }),
      budget: moneyField('budget', 'Total reward money of the offer (cashback offers).'),
      budgetRemaining: moneyField('budget_remaining', 'Reward money not yet reserved; at zero the offer is EXHAUSTED.'),
      returnPeriodDays: t.exposeInt('return_period_days', { description: 'Days cashback is held for returns before it is credited.' }),
      price: moneyField('price', 'Price of a purchase offer.'),
      quantity: t.exposeInt('quantity', { nullable: true, description: 'Stock of a purchase offer.' }),
      quantityRemaining: t.exposeInt('quantity_remaining', { nullable: true, description: 'Stock left; at zero the offer is EXHAUSTED.' }),
      quantityHeld: t.exposeInt('quantity_held', {
        description: 'Units held by purchase intents awaiting confirmation or payment: they return to the stock if the buyer does not confirm in time, cancels or is declined.',
      }),
      hashtag: t.exposeString('hashtag', { nullable: true, description: 'Hashtag that buys a purchase offer, e.g. "#BuyGiftCard25".' }),
      confirmHashtag: t.exposeString('confirm_hashtag', { nullable: true, description: 'Hashtag that confirms a purchase started with `hashtag`, e.g. "#ConfirmGiftCard25".' }),
      confirmWindowMinutes: t.exposeInt('confirm_window_minutes', { nullable: true, description: 'Minutes a buyer has to confirm a purchase (purchase offers).' }),
      activationHashtag: t.exposeString('activation_hashtag', { nullable: true, description: 'Hashtag whose post from a verified handle activates a cashback offer ("Get Offer" by post).' }),
      locations: t.loadableList({
        type: LocationRef,
        description: 'Locations where the offer applies.',
        load: (ids: string[], ctx) => loadLocationsOfOffers(ctx, ids),
        resolve: (o) => o.id,
      }),
      posts: t.loadableList({
        type: PostRef,
        description: 'Social posts carrying the offer.',
        load: (ids: string[], ctx) => loadPostsOfOffers(ctx, ids),
        resolve: (o) => o.id,
      }),
      publishedAt: t.expose('published_at', { type: 'DateTime', nullable: true, description: 'When it was published.' }),
      createdAt: t.expose('created_at', { type: 'DateTime', description: 'When it was created.' }),
      updatedAt: t.expose('updated_at', { type: 'DateTime', description: 'When it last changed.' }),
    };
  },
});

/**
 * The columns each field of Offer reads, so the feed reads only what its page asks for. A field
 * that is not listed here (one another module adds, or a new one) makes the page read every
 * column. `test/selected-columns.test.ts` checks every field against a whole row.
 */
const OFFER_FIELD_COLUMNS: Readonly<Record<string, readonly (keyof OfferRow)[]>> = {
  id: ['id'],
  merchant: ['merchant_id'],
  kind: ['kind'],
  status: ['state', 'starts_at', 'ends_at', 'budget_remaining', 'quantity_remaining'],
  title: ['title'],
  description: ['description'],
  rewardSummary: ['kind', 'currency', 'reward_type', 'reward_basis_points', 'reward_amount', 'max_reward', 'min_spend', 'price'],
  currency: ['currency'],
  rewardType: ['reward_type'],
  rewardBasisPoints: ['reward_basis_points'],
  rewardAmount: ['reward_amount', 'currency'],
  maxReward: ['max_reward', 'currency'],
  minSpend: ['min_spend', 'currency'],
  startsAt: ['starts_at'],
  endsAt: ['ends_at'],
  daysOfWeek: ['days_of_week'],
  channels: ['channels'],
  countries: ['countries'],
  activationRequired: ['activation_required'],
  perUserLimit: ['per_user_limit'],
  budget: ['budget', 'currency'],
  budgetRemaining: ['budget_remaining', 'currency'],
  returnPeriodDays: ['return_period_days'],
  price: ['price', 'currency'],
  quantity: ['quantity'],
  quantityRemaining: ['quantity_remaining'],
  quantityHeld: ['quantity_held'],
  hashtag: ['hashtag'],
  confirmHashtag: ['confirm_hashtag'],
  confirmWindowMinutes: ['confirm_window_minutes'],
  activationHashtag: ['activation_hashtag'],
  locations: ['id'],
  posts: ['id'],
  publishedAt: ['published_at'],
  createdAt: ['created_at'],
  updatedAt: ['updated_at'],
};

/**
 * The columns a feed page reads, from what the operation selects below `edges { node }` and whether
 * it reads cursors (`edges { cursor }`, `pageInfo { startCursor endCursor }`): worked out
 * once per field of a document. Kept only for a field selected once (a field selected twice under
 * one name can be merged differently as its `@include`s vary).
 */
function feedColumns(info: GraphQLResolveInfo): FeedColumns {
  const single = info.fieldNodes.length === 1 ? info.fieldNodes[0] : undefined;
  const known = single && feedColumnsOfField.get(single);
  if (known) return known;
  const page = Selection.of(info);
  const edges = page.below('edges');
  const node = edges.below('node');
  const pageInfo = page.below('pageInfo');
  const columns: FeedColumns = {
    offer: columnsOf(node, OFFER_FIELD_COLUMNS, []) ?? 'all',
    merchant: node.has('merchant') ? (merchantColumnsOf(node.below('merchant')) ?? 'all') : [],
    cursors: edges.has('cursor') || pageInfo.has('startCursor') || pageInfo.has('endCursor'),
  };
  if (single) feedColumnsOfField.set(single, columns);
  return columns;
}
const feedColumnsOfField = new WeakMap<FieldNode, FeedColumns>();

const OfferFilterRef = builder.inputType('OfferFilter', {
  description: 'Narrows the offer list; every given condition must hold.',
  fields: (t) => ({
    merchantId: t.id({ required: false, description: 'Only offers of this merchant.' }),
    kind: t.field({ type: OfferKindRef, required: false, description: 'Only offers of this kind.' }),
    channel: t.field({ type: ChannelRef, required: false, description: 'Only offers valid in this channel.' }),
    country: t.string({ required: false, description: 'Only offers valid in this ISO 3166-1 alpha-2 country.' }),
    liveAt: t.field({ type: 'DateTime', required: false, description: 'Only offers whose window contains this instant.' }),
    search: t.string({
      required: false,
      description: 'Words in the title, description or merchant name (up to 100 characters).',
      validate: z.string().max(100, 'search must be at most 100 characters'),
    }),
  }),
});

builder.queryFields((t) => ({
  offers: t.field({
    type: OfferConnectionRef,
    description: 'Public offers: published by approved merchants, not ended, with budget or stock left.',
    args: {
      ...pageArgs,
      filter: t.arg({ type: OfferFilterRef, required: false, description: 'Conditions the offers must meet.' }),
      orderBy: t.arg({ type: OfferOrderRef, required: false, defaultValue: 'NEWEST', description: 'Sort order (default NEWEST).' }),
    },
    resolve: (_root, args, ctx, info) => listOffers(ctx, args, feedColumns(info)),
  }),
  offer: t.field({
    type: OfferRef,
    nullable: true,
    description: 'An offer by global id, in any status once published; null when not found or not visible.',
    args: { id: t.arg.id({ required: true, description: 'Global id of the offer.' }) },
    resolve: (_root, { id }) => idOfType(id, 'Offer'),
  }),
}));

const offerPayload = (name: string) => ({
  description: `Result of ${name}.`,
  outputFields: (t: PayloadFieldBuilder<{ offer?: OfferRow; userErrors: UserError[] }>) => ({
    offer: t.expose('offer', { type: OfferRef, nullable: true, description: 'The offer after the change.' }),
    userErrors: userErrorsField(t),
  }),
});

/** Input fields shared by createOffer and updateOffer; `required` says which createOffer needs. */
const offerInputFields = (
  t: PothosSchemaTypes.InputFieldBuilder<PothosSchemaTypes.ExtendDefaultTypes<SchemaTypes>, 'InputObject'>,
  creating: boolean,
) => ({
  title: t.string({ required: creating, description: 'Headline, 1 to 120 characters.' }),
  description: t.string({ required: false, description: 'Details and terms, up to 2000 characters.' }),
  currency: t.string({ required: creating, description: 'ISO 4217 currency of every amount.' }),
  rewardType: t.field({ type: RewardTypeRef, required: false, description: 'PERCENT or FIXED (cashback offers).' }),
  rewardBasisPoints: t.int({ required: false, description: 'Percentage in basis points, 1 to 10000 (PERCENT).' }),
  rewardAmount: t.int({ required: false, description: 'Reward in minor units (FIXED).' }),
  maxReward: t.int({ required: false, description: 'Cap per purchase in minor units (PERCENT).' }),
  minSpend: t.int({ required: false, description: 'Smallest qualifying purchase in minor units.' }),
  startsAt: t.field({ type: 'DateTime', required: false, description: 'Start of the window (default: now).' }),
  endsAt: t.field({ type: 'DateTime', required: creating, description: 'End of the window, after startsAt.' }),
  daysOfWeek: t.field({ type: [DayOfWeekRef], required: false, description: 'Days it applies; empty or absent means every day.' }),
  channels: t.field({ type: [ChannelRef], required: false, description: 'Channels (default: both).' }),
  countries: t.stringList({ required: false, description: "Countries (default: the merchant's country)." }),
  activationRequired: t.boolean({ required: false, description: 'Consumers must tap "Get Offer" first (default false).' }),
  perUserLimit: t.int({ required: false, description: 'Rewarded purchases (CASHBACK) or units bought (PURCHASE) per consumer, 1 to 1000.' }),
  budget: t.int({ required: false, description: 'Total reward money in minor units (required for cashback).' }),
  returnPeriodDays: t.int({ required: false, description: 'Days cashback is held for returns, 0 to 365 (default 0).' }),
  price: t.int({ required: false, description: 'Price in minor units (PURCHASE).' }),
  quantity: t.int({ required: false, description: 'Stock (PURCHASE).' }),
  hashtag: t.string({ required: false, description: 'Hashtag that buys it, e.g. "#BuyGiftCard25" (PURCHASE).' }),
  confirmHashtag: t.string({ required: false, description: 'Hashtag that confirms a purchase (PURCHASE; default: #BuyX gives #ConfirmX).' }),
  confirmWindowMinutes: t.int({ required: false, description: 'Minutes to confirm a purchase, 1 to 60 (PURCHASE; default 15).' }),
  activationHashtag: t.string({ required: false, description: 'Hashtag that activates it when posted from a verified handle (CASHBACK).' }),
  locationIds: t.idList({ required: false, description: 'Your locations where it applies; at least one before publishing.' }),
});

builder.relayMutationField(
  'createOffer',
  {
    description: 'Input of createOffer. Amounts are integer minor units of `currency`.',
    inputFields: (t) => ({
      kind: t.field({ type: OfferKindRef, required: true, description: 'Cashback or purchase; cannot change later.' }),
      ...offerInputFields(t, true),
      idempotencyKey: idempotencyKeyField(t),
    }),
  },
  {
    description: 'Drafts a new offer for the calling merchant (merchant key).',
    resolve: (_root, { input }, ctx) => withUserErrors(() => createOffer(ctx, input as Parameters<typeof createOffer>[1])),
  },
  offerPayload('createOffer'),
);

builder.relayMutationField(
  'updateOffer',
  {
    description: 'Input of updateOffer: only the fields given change. Once published, only title, description, a later endsAt, a larger budget or a larger quantity.',
    inputFields: (t) => ({
      offerId: t.id({ required: true, description: 'Global id of one of your offers.' }),
      ...offerInputFields(t, false),
      idempotencyKey: idempotencyKeyField(t),
    }),
  },
  {
    description: 'Changes one of your offers (merchant key).',
    resolve: (_root, { input }, ctx) => withUserErrors(() => updateOffer(ctx, input as UpdateOfferInput)),
  },
  offerPayload('updateOffer'),
);

for (const [name, run, description] of [
  ['publishOffer', publishOffer, 'Publishes a draft: SCHEDULED or LIVE by its window. Needs an approved merchant and at least one location.'],
  ['pauseOffer', pauseOffer, 'Pauses a published offer: no new rewards until resumed.'],
  ['resumeOffer', resumeOffer, 'Resumes a paused offer.'],
] as const) {
  builder.relayMutationField(
    name,
    {
      description: `Input of ${name}.`,
      inputFields: (t) => ({ offerId: t.id({ required: true, description: 'Global id of one of your offers.' }), idempotencyKey: idempotencyKeyField(t) }),
    },
    { description: `${description} (merchant key)`, resolve: (_root, { input }, ctx) => withUserErrors(() => run(ctx, input)) },
    offerPayload(name),
  );
}
