/**
 * Offers: a merchant drafts, publishes, pauses and resumes its offers; everyone reads the public
 * catalogue. Each command runs in one transaction that locks the offer row it changes.
 */
import { z } from 'zod';
import type { DB, NewOffer, OfferRow, OfferUpdate } from '../../../db/types.js';
import type { Kysely, Transaction } from 'kysely';
import type { Context } from '../../context.js';
import { insertEvents } from '../../outbox/outbox.repository.js';
import { offerEvent } from './offers.topics.js';
import { requireRole, visibilityOf } from '../../lib/authorization.js';
import { DomainError, fail, notFound, type UserError } from '../../lib/errors.js';
import { idempotentCommand, rowsById, type WithIdempotencyKey } from '../../lib/idempotency.js';
import { decodeGlobalId, parseGlobalId } from '../../lib/ids.js';
import { decodeCursor, encodeCursor, toPage, type Page } from '../../lib/pagination.js';
import { countryCode, currencyCode, dateTime, intRange, minorUnits, parseInput, text } from '../../lib/validation.js';
import { findMerchantLocationIds } from '../locations/locations.service.js';
import { findMerchantById } from '../merchants/merchants.service.js';
import {
  countOfferLocations,
  findLiveOfferWithHashtag,
  moveOfferStock,
  findOfferForUpdate,
  findVisibleOffersByIds,
  insertOffer,
  listMerchantOffers,
  listPublicOffers,
  lockHashtag,
  markOfferTransitionsAnnounced,
  OFFER_ORDERS,
  replaceOfferLocations,
  updateOfferRow,
  type FeedColumns,
  type OfferFilter,
  type OfferOrder,
} from './offers.repository.js';
import { CHANGEABLE_WHEN_PUBLISHED, confirmHashtagFor, offerStatus } from './offers.rules.js';

const DAYS = ['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY', 'SUNDAY'] as const;
export type DayOfWeek = (typeof DAYS)[number];
/** ISO day numbers as stored: Monday 1 … Sunday 7. */
export const dayNumber = (day: DayOfWeek) => DAYS.indexOf(day) + 1;
export const dayName = (n: number): DayOfWeek => DAYS[n - 1]!;

const uniqueList = <T extends z.ZodType>(item: T, max: number) =>
  z
    .array(item)
    .min(1, 'must list at least one value')
    .max(max, `must list at most ${max} values`)
    .refine((list) => new Set(list).size === list.length, 'must not repeat a value');

/** A hashtag as merchants type it: stored with its "#", compared case-insensitively. */
const hashtagField = () =>
  z
    .string()
    .trim()
    .regex(/^#?[A-Za-z][A-Za-z0-9_]{1,49}$/, 'must be a hashtag of 2 to 50 letters, digits or underscores, starting with a letter')
    .transform((h) => (h.startsWith('#') ? h : `#${h}`))
    .nullish();

/** How long a buyer has to confirm a purchase when the offer does not say. */
export const DEFAULT_CONFIRM_WINDOW_MINUTES = 15;

/** Every rule field of an offer, with the rules that tie them together. */
const offerFields = z
  .object({
    kind: z.enum(['CASHBACK', 'PURCHASE']),
    title: text(1, 120),
    description: z.string().trim().max(2000, 'must be at most 2000 characters').default(''),
    currency: currencyCode(),
    rewardType: z.enum(['PERCENT', 'FIXED']).nullish(),
    rewardBasisPoints: intRange(1, 10_000).nullish(),
    rewardAmount: minorUnits(1).nullish(),
    maxReward: minorUnits(1).nullish(),
    minSpend: minorUnits(0).nullish(),
    startsAt: dateTime(),
    endsAt: dateTime(),
    daysOfWeek: z
      .array(z.enum(DAYS))
      .max(7)
      .refine((l) => new Set(l).size === l.length, 'must not repeat a day')
      .default([]),
    channels: uniqueList(z.enum(['IN_STORE', 'ONLINE']), 2),
    countries: uniqueList(countryCode(), 50),
    activationRequired: z.boolean().default(false),
    perUserLimit: intRange(1, 1000).nullish(),
    budget: minorUnits(1).nullish(),
    returnPeriodDays: intRange(0, 365).default(0),
    price: minorUnits(1).nullish(),
    quantity: intRange(1, 10_000_000).nullish(),
    hashtag: hashtagField(),
    confirmHashtag: hashtagField(),
    confirmWindowMinutes: intRange(1, 60).nullish(),
    activationHashtag: hashtagField(),
    locationIds: z.array(z.string()).max(100, 'must list at most 100 locations').default([]),
  })
  .superRefine((o, ctx) => {
    const issue = (path: string, message: string, code?: string) =>
      ctx.addIssue({ code: 'custom', path: [path], message, ...(code ? { params: { code } } : {}) });
    const absent = (fields: (keyof typeof o)[], why: string) => {
      for (const f of fields) if (o[f] !== null && o[f] !== undefined) issue(f, why);
    };
    if (o.endsAt.getTime() <= o.startsAt.getTime()) issue('endsAt', 'must be after startsAt', 'INVALID_DATE_RANGE');
    if (o.kind === 'CASHBACK') {
      absent(['price', 'quantity', 'hashtag', 'confirmHashtag', 'confirmWindowMinutes'], 'is only for PURCHASE offers');
      if (!o.rewardType) issue('rewardType', 'is required for a CASHBACK offer');
      if (o.rewardType === 'PERCENT') {
        if (o.rewardBasisPoints == null) issue('rewardBasisPoints', 'is required for a PERCENT reward');
        absent(['rewardAmount'], 'is only for a FIXED reward');
      }
      if (o.rewardType === 'FIXED') {
        if (o.rewardAmount == null) issue('rewardAmount', 'is required for a FIXED reward');
        absent(['rewardBasisPoints', 'maxReward'], 'is only for a PERCENT reward');
      }
      if (o.budget == null) issue('budget', 'is required for a CASHBACK offer');
    } else {
      absent(
        ['rewardType', 'rewardBasisPoints', 'rewardAmount', 'maxReward', 'minSpend', 'budget', 'activationHashtag'],
        'is only for CASHBACK offers',
      );
      if (o.price == null) issue('price', 'is required for a PURCHASE offer');
      if (o.quantity == null) issue('quantity', 'is required for a PURCHASE offer');
      if (o.hashtag == null) issue('hashtag', 'is required for a PURCHASE offer');
      if (o.hashtag && o.confirmHashtag && o.hashtag.toLowerCase() === o.confirmHashtag.toLowerCase()) {
        issue('confirmHashtag', 'must differ from the buy hashtag');
      }
    }
  });

type OfferFieldsInput = z.input<typeof offerFields>;
type OfferFields = z.output<typeof offerFields>;

function toColumns(o: OfferFields): Omit<NewOffer, 'merchant_id'> {
  return {
    kind: o.kind,
    title: o.title,
    description: o.description,
    currency: o.currency,
    reward_type: o.rewardType ?? null,
    reward_basis_points: o.rewardBasisPoints ?? null,
    reward_amount: o.rewardAmount ?? null,
    max_reward: o.maxReward ?? null,
    min_spend: o.minSpend ?? null,
    starts_at: o.startsAt,
    ends_at: o.endsAt,
    days_of_week: o.daysOfWeek.map(dayNumber),
    channels: o.channels,
    countries: o.countries,
    activation_required: o.activationRequired,
    per_user_limit: o.perUserLimit ?? null,
    budget: o.budget ?? null,
    budget_remaining: o.budget ?? null,
    return_period_days: o.returnPeriodDays,
    price: o.price ?? null,
    quantity: o.quantity ?? null,
    quantity_remaining: o.quantity ?? null,
    hashtag: o.hashtag ?? null,
    confirm_hashtag: o.kind === 'PURCHASE' && o.hashtag ? (o.confirmHashtag ?? confirmHashtagFor(o.hashtag)) : null,
    confirm_window_minutes: o.kind === 'PURCHASE' ? (o.confirmWindowMinutes ?? DEFAULT_CONFIRM_WINDOW_MINUTES) : null,
    activation_hashtag: o.activationHashtag ?? null,
  };
}

/** An offer row as offer fields, so an edit can be validated as a whole. */
function toFields(row: OfferRow, locationIds: string[]): OfferFieldsInput {
  return {
    kind: row.kind,
    title: row.title,
    description: row.description,
    currency: row.currency,
    rewardType: row.reward_type,
    rewardBasisPoints: row.reward_basis_points,
    rewardAmount: row.reward_amount,
    maxReward: row.max_reward,
    minSpend: row.min_spend,
    startsAt: row.starts_at,
    endsAt: row.ends_at,
    daysOfWeek: row.days_of_week.map(dayName),
    channels: row.channels,
    countries: row.countries,
    activationRequired: row.activation_required,
    perUserLimit: row.per_user_limit,
    budget: row.budget,
    returnPeriodDays: row.return_period_days,
    price: row.price,
    quantity: row.quantity,
    hashtag: row.hashtag,
    confirmHashtag: row.confirm_hashtag,
    confirmWindowMinutes: row.confirm_window_minutes,
    activationHashtag: row.activation_hashtag,
    locationIds,
  };
}

/** Global location ids → the merchant's own location ids; another merchant's is not found. */
async function resolveLocationIds(trx: Transaction<DB>, merchantId: string, globalIds: string[]): Promise<string[]> {
  const ids = globalIds.map((g, i) => parseGlobalId(g, 'Location', ['locationIds', String(i)]));
  const unique = [...new Set(ids)];
  const owned = new Set(await findMerchantLocationIds(trx, merchantId, unique));
  const errors: UserError[] = ids.flatMap((id, i) =>
    owned.has(id) ? [] : [{ code: 'NOT_FOUND' as const, message: 'Location not found.', field: ['locationIds', String(i)] }],
  );
  if (errors.length > 0) throw new DomainError(errors);
  return unique;
}

/** Loads an offer of the calling merchant, locked for the rest of the transaction. */
async function lockOwnOffer(trx: Transaction<DB>, merchantId: string, offerGlobalId: string): Promise<OfferRow> {
  const id = parseGlobalId(offerGlobalId, 'Offer', ['offerId']);
  const offer = await findOfferForUpdate(trx, id);
  if (!offer || offer.merchant_id !== merchantId) notFound('Offer', ['offerId']);
  return offer;
}

export type CreateOfferInput = Omit<OfferFieldsInput, 'startsAt' | 'channels' | 'countries'> & {
  startsAt?: Date | null;
  channels?: OfferFieldsInput['channels'] | null;
  countries?: OfferFieldsInput['countries'] | null;
};

/** A replay answers the same offer, read again (as it is now). */
const offerReplay = rowsById<{ offer: OfferRow }>({ offer: findOfferForUpdate });

export async function createOffer(ctx: Context, input: CreateOfferInput & WithIdempotencyKey): Promise<{ offer: OfferRow }> {
  const { idempotencyKey, ...request } = input;
  const { merchantId } = requireRole(ctx.principal, 'merchant');
  const merchant = await findMerchantById(ctx.db, merchantId);
  if (!merchant) notFound('Merchant');
  const fields = parseInput(offerFields, {
    ...input,
    startsAt: input.startsAt ?? new Date(),
    channels: input.channels ?? ['IN_STORE', 'ONLINE'],
    countries: input.countries ?? [merchant.country],
  });
  return idempotentCommand(
    ctx,
    { operation: 'createOffer', key: idempotencyKey, request },
    async (trx) => {
      const locationIds = await resolveLocationIds(trx, merchantId, fields.locationIds);
      const offer = await insertOffer(trx, { ...toColumns(fields), merchant_id: merchantId }, locationIds);
      await insertEvents(trx, [offerEvent(offer, 'CREATED')]);
      ctx.logger.info({ offerId: offer.id }, 'offer created');
      return { offer };
    },
    offerReplay,
  );
}

export type UpdateOfferInput = { offerId: string } & { [K in keyof OfferFieldsInput]?: OfferFieldsInput[K] | null } & {
  kind?: never;
};

export async function updateOffer(ctx: Context, input: UpdateOfferInput & WithIdempotencyKey): Promise<{ offer: OfferRow }> {
  const { merchantId } = requireRole(ctx.principal, 'merchant');
  const { offerId, idempotencyKey, ...changes } = input;
  const given = Object.fromEntries(Object.entries(changes).filter(([, v]) => v !== undefined)) as Partial<OfferFieldsInput>;
  const command = { operation: 'updateOffer', key: idempotencyKey, request: { offerId, ...given } };
  const offer = await idempotentCommand(ctx, command, async (trx) => {
    const current = await lockOwnOffer(trx, merchantId, offerId);
    if (current.state === 'DRAFT') {
      const locationIds = given.locationIds !== undefined ? given.locationIds : null;
      const merged = parseInput(offerFields, { ...toFields(current, []), ...given, locationIds: locationIds ?? [] });
      // A draft has no reservations: its whole budget and stock remain.
      const row = await updateOfferRow(trx, current.id, toColumns(merged));
      if (locationIds) await replaceOfferLocations(trx, current.id, await resolveLocationIds(trx, merchantId, merged.locationIds));
      await insertEvents(trx, [offerEvent(row, 'UPDATED')]);
      return { offer: row };
    }
    const row = await updatePublishedOffer(trx, current, given);
    await insertEvents(trx, [offerEvent(row, 'UPDATED')]);
    return { offer: row };
  }, offerReplay);
  return offer;
}

/** Once published, only what cannot hurt a consumer who already saved the offer may change. */
async function updatePublishedOffer(trx: Transaction<DB>, current: OfferRow, given: Partial<OfferFieldsInput>): Promise<OfferRow> {
  const locked = Object.keys(given).filter((k) => !(CHANGEABLE_WHEN_PUBLISHED as readonly string[]).includes(k));
  if (locked.length > 0) {
    throw new DomainError(
      locked.map((k) => ({ code: 'FIELD_LOCKED' as const, message: `${k} cannot change once the offer is published`, field: [k] })),
    );
  }
  const published = z.object({
    title: offerFields.shape.title.optional(),
    description: offerFields.shape.description.optional(),
    endsAt: dateTime()
      .refine((d) => d.getTime() >= current.ends_at.getTime(), { message: 'can only move later once the offer is published', params: { code: 'INVALID_DATE_RANGE' } })
      .optional(),
    budget: minorUnits(current.budget ?? 1)
      .refine(() => current.kind === 'CASHBACK', 'is only for CASHBACK offers')
      .optional(),
    quantity: intRange(current.quantity ?? 1, 10_000_000)
      .refine(() => current.kind === 'PURCHASE', 'is only for PURCHASE offers')
      .optional(),
  });
  const data = parseInput(published, given);
  const patch: OfferUpdate = {};
  if (data.title !== undefined) patch.title = data.title;
  if (data.description !== undefined) patch.description = data.description;
  if (data.endsAt !== undefined) patch.ends_at = data.endsAt;
  return updateOfferRow(trx, current.id, patch, {
    budget: data.budget !== undefined ? data.budget - (current.budget ?? 0) : 0,
    quantity: data.quantity !== undefined ? data.quantity - (current.quantity ?? 0) : 0,
  });
}

export async function publishOffer(ctx: Context, input: { offerId: string } & WithIdempotencyKey): Promise<{ offer: OfferRow }> {
  const { merchantId } = requireRole(ctx.principal, 'merchant');
  const command = { operation: 'publishOffer', key: input.idempotencyKey, request: { offerId: input.offerId } };
  const { offer } = await idempotentCommand(ctx, command, async (trx) => {
    const current = await lockOwnOffer(trx, merchantId, input.offerId);
    if (current.state !== 'DRAFT') fail('INVALID_STATE', 'The offer is already published.', ['offerId']);
    const merchant = await findMerchantById(trx, merchantId);
    if (merchant?.status !== 'APPROVED') {
      fail('MERCHANT_NOT_APPROVED', 'Offers can be published once the merchant is approved.', ['offerId']);
    }
    const now = new Date();
    if (current.ends_at.getTime() <= now.getTime()) fail('INVALID_DATE_RANGE', 'The offer has already ended: move endsAt later first.', ['offerId']);
    if ((await countOfferLocations(trx, current.id)) === 0) {
      fail('OFFER_HAS_NO_LOCATIONS', 'Add at least one location (locationIds) before publishing.', ['offerId']);
    }
    // No two live offers answer to one hashtag, whichever role it has in each (buy, confirm, activation).
    const tags = [current.hashtag, current.confirm_hashtag, current.activation_hashtag].filter((t): t is string => !!t);
    for (const tag of [...new Set(tags.map((t) => t.toLowerCase()))].sort()) await lockHashtag(trx, tag);
    for (const tag of tags) {
      if (await findLiveOfferWithHashtag(trx, tag, current.id, now)) fail('HASHTAG_TAKEN', `${tag} is used by another live offer.`, ['offerId']);
    }
    // An offer already in its window goes live now: the transitions job must not announce it again.
    const live = current.starts_at.getTime() <= now.getTime();
    const row = await updateOfferRow(trx, current.id, { state: 'PUBLISHED', published_at: now, announced_live: live });
    await insertEvents(trx, [offerEvent(row, 'PUBLISHED')]);
    return { offer: row };
  }, offerReplay);
  ctx.logger.info({ offerId: offer.id }, 'offer published');
  return { offer };
}

async function moveOffer(ctx: Context, input: { offerId: string } & WithIdempotencyKey, to: 'PAUSED' | 'PUBLISHED'): Promise<{ offer: OfferRow }> {
  const { merchantId } = requireRole(ctx.principal, 'merchant');
  const operation = to === 'PAUSED' ? 'pauseOffer' : 'resumeOffer';
  return idempotentCommand(ctx, { operation, key: input.idempotencyKey, request: { offerId: input.offerId } }, async (trx) => {
    const current = await lockOwnOffer(trx, merchantId, input.offerId);
    if (current.state === to) return { offer: current }; // repeating the command is harmless
    const status = offerStatus(current, new Date());
    const from = to === 'PAUSED' ? ['SCHEDULED', 'LIVE', 'EXHAUSTED'] : ['PAUSED'];
    if (!from.includes(status)) {
      fail('INVALID_STATE', `A ${status} offer cannot be ${to === 'PAUSED' ? 'paused' : 'resumed'}.`, ['offerId']);
    }
    const row = await updateOfferRow(trx, current.id, { state: to });
    await insertEvents(trx, [offerEvent(row, to === 'PAUSED' ? 'PAUSED' : 'RESUMED')]);
    return { offer: row };
  }, offerReplay);
}

export const pauseOffer = (ctx: Context, input: { offerId: string } & WithIdempotencyKey) => moveOffer(ctx, input, 'PAUSED');
export const resumeOffer = (ctx: Context, input: { offerId: string } & WithIdempotencyKey) => moveOffer(ctx, input, 'PUBLISHED');

export function loadVisibleOffers(ctx: Context, ids: readonly string[]): Promise<OfferRow[]> {
  return findVisibleOffersByIds(ctx.db, ids, visibilityOf(ctx.principal));
}

function offerCursor(order: OfferOrder) {
  return (o: OfferRow) => encodeCursor([OFFER_ORDERS[order].key(o), o.id]);
}

export interface OfferFilterInput extends Omit<OfferFilter, 'merchantId'> {
  merchantId?: string | null;
}

/**
 * The public feed, reading the given columns: each row holds those (with its id and sort key), and
 * `merchantReadWith` gives the merchant read with it, holding the merchant columns asked for.
 */
export async function listOffers(
  ctx: Context,
  args: { first: number; after?: string | null; filter?: OfferFilterInput | null; orderBy?: OfferOrder | null },
  columns: FeedColumns = { offer: 'all', merchant: 'all', cursors: true },
): Promise<Page<OfferRow>> {
  const order = args.orderBy ?? 'NEWEST';
  const { merchantId, ...filter } = args.filter ?? {};
  let merchant: string | null = null;
  if (merchantId) {
    const decoded = decodeGlobalId(merchantId);
    // An id that names no merchant matches no offer.
    if (!decoded || decoded.typename !== 'Merchant') return toPage([], args.first, args.after, () => '');
    merchant = decoded.id;
  }
  const after = args.after
    ? decodeCursor(args.after, order === 'BEST_REWARD' ? (['int', 'uuid'] as const) : (['date', 'uuid'] as const))
    : null;
  const rows = await listPublicOffers(ctx.db, {
    filter: { ...filter, merchantId: merchant, search: filter.search?.trim() || null },
    order,
    now: new Date(),
    limit: args.first + 1,
    after,
    columns,
  });
  return toPage(rows, args.first, args.after, offerCursor(order));
}

export async function listOffersOfMerchant(
  ctx: Context,
  merchantId: string,
  args: { first: number; after?: string | null },
): Promise<Page<OfferRow>> {
  const after = args.after ? decodeCursor(args.after, ['date', 'uuid'] as const) : null;
  const rows = await listMerchantOffers(ctx.db, merchantId, visibilityOf(ctx.principal), { limit: args.first + 1, after });
  return toPage(rows, args.first, args.after, offerCursor('NEWEST'));
}

/**
 * The job: announces offers that went live or ended since the last round, each once however many
 * instances run it (the flag and the event are one statement).
 */
export function announceOfferTransitions(db: Kysely<DB>, now: Date): Promise<number> {
  return markOfferTransitionsAnnounced(db, now);
}

/** What other modules read or lock through this one (they never import its repository). */
export { findOfferForUpdate, findVisibleOffersByIds, lockOffers } from './offers.repository.js';

/**
 * Moves offers' remaining budgets by the given deltas: a reservation when cashback is granted
 * (negative), a release when it is reversed (positive). The caller holds the offers' locks.
 */
export { applyBudgetDeltas as moveBudgets } from './offers.repository.js';

/** Whether the offer is LIVE now (published, approved merchant assumed by the caller, in its window, not paused or sold out). */
export const isOfferLive = (offer: OfferRow, now: Date): boolean => offerStatus(offer, now) === 'LIVE';

/** Holds one available unit of a PURCHASE offer for an intent; false when none is available. */
export const holdOfferUnit = (trx: Transaction<DB>, offerId: string) => moveOfferStock(trx, offerId, 'HOLD');
/** Gives a held unit back to the available stock (intent expired, cancelled or declined). */
export const releaseOfferUnit = async (trx: Transaction<DB>, offerId: string): Promise<void> => void (await moveOfferStock(trx, offerId, 'RELEASE'));
/** A held unit was paid for: it leaves the stock. */
export const sellHeldOfferUnit = async (trx: Transaction<DB>, offerId: string): Promise<void> => void (await moveOfferStock(trx, offerId, 'SELL'));
/** A sold unit came back (an order refunded before it was fulfilled). */
export const restockOfferUnit = async (trx: Transaction<DB>, offerId: string): Promise<void> => void (await moveOfferStock(trx, offerId, 'RESTOCK'));

export { findPublishedOffersByHashtags, merchantReadWith, nextOfferTransition, type FeedColumns } from './offers.repository.js';
