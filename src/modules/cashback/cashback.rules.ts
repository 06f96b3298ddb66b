/**
 * The cashback engine's pure rules (DESIGN §1): whether an offer rewards a purchase and how much,
 * which offer wins, how a reward shrinks when part of the purchase is refunded. No I/O, no clock:
 * every instant is an argument. Amounts are integers of minor units; rewards round down.
 */
import type { Channel, OfferRow } from '../../../db/types.js';

/** Why a transaction earned nothing. The first eleven are DESIGN §1's; the last two are refunds'. */
export const TRANSACTION_REASONS = {
  CARD_NOT_LINKED: 'The card is not linked to any user.',
  UNKNOWN_LOCATION: 'The network and merchant id match no location.',
  NO_LIVE_OFFER: 'No offer of the merchant was live at that location when the purchase happened.',
  NOT_ACTIVATED: 'The offer needs "Get Offer" before the purchase, and the user had not activated it.',
  BELOW_MIN_SPEND: "The amount is below the offer's minimum spend (or too small to earn a minor unit).",
  OUTSIDE_SCHEDULE: "The purchase fell on a day of the week the offer does not run (location's time zone).",
  CHANNEL_NOT_ELIGIBLE: "The location's channel (in store or online) is not one the offer covers.",
  COUNTRY_NOT_ELIGIBLE: "The location's country is not one the offer covers.",
  CURRENCY_MISMATCH: "The transaction's currency is not the offer's (or, for a refund, the purchase's).",
  USER_LIMIT_REACHED: 'The user already earned the most rewards this offer allows per user.',
  BUDGET_EXHAUSTED: "The offer's budget is spent.",
  ORIGINAL_NOT_FOUND: 'A refund names a purchase this partner never sent.',
  NO_CASHBACK: 'A refund names a purchase that has no cashback left to reverse.',
} as const;

export type TransactionReason = keyof typeof TRANSACTION_REASONS;

/**
 * Order in which an offer's conditions are checked. When no offer qualifies, the reason given is
 * the one of the offer that got furthest: it tells the user what was closest to working.
 */
const CHECK_ORDER: readonly TransactionReason[] = [
  'NO_LIVE_OFFER',
  'CHANNEL_NOT_ELIGIBLE',
  'COUNTRY_NOT_ELIGIBLE',
  'CURRENCY_MISMATCH',
  'OUTSIDE_SCHEDULE',
  'NOT_ACTIVATED',
  'BELOW_MIN_SPEND',
  'USER_LIMIT_REACHED',
  'BUDGET_EXHAUSTED',
];

export type OfferTerms = Pick<
  OfferRow,
  | 'id'
  | 'created_at'
  | 'currency'
  | 'reward_type'
  | 'reward_basis_points'
  | 'reward_amount'
  | 'max_reward'
  | 'min_spend'
  | 'starts_at'
  | 'ends_at'
  | 'days_of_week'
  | 'channels'
  | 'countries'
  | 'activation_required'
  | 'per_user_limit'
>;

/** What the engine knows about a purchase when it weighs one offer. */
export interface PurchaseFacts {
  amount: number;
  currency: string;
  occurredAt: Date;
  channel: Channel;
  country: string;
  /** IANA time zone of the location: days of the week are the location's. */
  timezone: string;
  /** When the user activated this offer, if ever. */
  activatedAt: Date | null;
  /** Rewards this user already holds on this offer (not reversed). */
  rewardsHeld: number;
}

export type Evaluation = { qualified: true; reward: number } | { qualified: false; reason: TransactionReason };

/**
 * The reward an offer gives on `amount`, ignoring budget: a percentage rounded down to the minor
 * unit and capped at maxReward, or the fixed reward. Below the minimum spend it is 0.
 */
export function rewardFor(
  offer: Pick<OfferTerms, 'reward_type' | 'reward_basis_points' | 'reward_amount' | 'max_reward' | 'min_spend'>,
  amount: number,
): number {
  if (amount <= 0 || amount < (offer.min_spend ?? 0)) return 0;
  if (offer.reward_type === 'FIXED') return offer.reward_amount ?? 0;
  // amount ≤ 1e9 and basis points ≤ 1e4: the product stays far below 2^53, so this is exact.
  const percent = Math.floor((amount * (offer.reward_basis_points ?? 0)) / 10_000);
  return offer.max_reward == null ? percent : Math.min(percent, offer.max_reward);
}

const WEEKDAYS: Record<string, number> = { Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6, Sun: 7 };
const weekdayFormats = new Map<string, Intl.DateTimeFormat>();

/** ISO day of the week (1 = Monday … 7 = Sunday) of an instant in a time zone. */
export function weekdayIn(instant: Date, timezone: string): number {
  let format = weekdayFormats.get(timezone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', { timeZone: timezone, weekday: 'short' });
    weekdayFormats.set(timezone, format);
  }
  return WEEKDAYS[format.format(instant)]!;
}

/** Weighs one offer against a purchase, budget aside (see chooseOffer). */
export function evaluateOffer(offer: OfferTerms, purchase: PurchaseFacts): Evaluation {
  const no = (reason: TransactionReason): Evaluation => ({ qualified: false, reason });
  const t = purchase.occurredAt.getTime();
  if (t < offer.starts_at.getTime() || t >= offer.ends_at.getTime()) return no('NO_LIVE_OFFER');
  if (!offer.channels.includes(purchase.channel)) return no('CHANNEL_NOT_ELIGIBLE');
  if (!offer.countries.includes(purchase.country)) return no('COUNTRY_NOT_ELIGIBLE');
  if (purchase.currency !== offer.currency) return no('CURRENCY_MISMATCH');
  if (offer.days_of_week.length > 0 && !offer.days_of_week.includes(weekdayIn(purchase.occurredAt, purchase.timezone))) {
    return no('OUTSIDE_SCHEDULE');
  }
  if (offer.activation_required && (purchase.activatedAt === null || purchase.activatedAt.getTime() > t)) {
    return no('NOT_ACTIVATED');
  }
  const reward = rewardFor(offer, purchase.amount);
  if (reward === 0) return no('BELOW_MIN_SPEND');
  if (offer.per_user_limit != null && purchase.rewardsHeld >= offer.per_user_limit) return no('USER_LIMIT_REACHED');
  return { qualified: true, reward };
}

export interface Candidate<O extends OfferTerms = OfferTerms> {
  offer: O;
  evaluation: Evaluation;
  /** What is left of the offer's budget now. */
  budgetRemaining: number;
}

export type Choice<O extends OfferTerms = OfferTerms> =
  | { qualified: true; offer: O; reward: number; limitedByBudget: boolean }
  | { qualified: false; reason: TransactionReason };

const newerFirst = (a: OfferTerms, b: OfferTerms) =>
  b.created_at.getTime() - a.created_at.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);

/**
 * One reward per transaction: the highest reward after cutting each to what its budget has left
 * wins, the newest offer on a tie. With no qualifying offer, the reason of the offer that got
 * furthest through the checks (newest on a tie); with no offer at all, NO_LIVE_OFFER.
 */
export function chooseOffer<O extends OfferTerms>(candidates: readonly Candidate<O>[]): Choice<O> {
  let best: { offer: O; reward: number; limitedByBudget: boolean } | null = null;
  let closest: { offer: O; reason: TransactionReason; depth: number } | null = null;
  for (const { offer, evaluation, budgetRemaining } of candidates) {
    let reason: TransactionReason | null = null;
    if (evaluation.qualified) {
      const reward = Math.min(evaluation.reward, Math.max(budgetRemaining, 0));
      if (reward > 0) {
        if (!best || reward > best.reward || (reward === best.reward && newerFirst(offer, best.offer) < 0)) {
          best = { offer, reward, limitedByBudget: reward < evaluation.reward };
        }
        continue;
      }
      reason = 'BUDGET_EXHAUSTED';
    } else {
      reason = evaluation.reason;
    }
    const depth = CHECK_ORDER.indexOf(reason);
    if (!closest || depth > closest.depth || (depth === closest.depth && newerFirst(offer, closest.offer) < 0)) {
      closest = { offer, reason, depth };
    }
  }
  if (best) return { qualified: true, ...best };
  return { qualified: false, reason: closest?.reason ?? 'NO_LIVE_OFFER' };
}

/**
 * The reward left after refunds: the granted reward in proportion to what remains of the
 * purchase, rounded down; nothing when what remains is below the minimum spend.
 */
export function rewardAfterRefund(granted: number, purchaseAmount: number, refundedAmount: number, minSpend: number | null): number {
  const remaining = Math.max(purchaseAmount - refundedAmount, 0);
  if (remaining === 0 || remaining < (minSpend ?? 0)) return 0;
  // granted ≤ 1e9 and remaining ≤ 1e9: use BigInt so the product is exact beyond 2^53.
  return Number((BigInt(granted) * BigInt(remaining)) / BigInt(purchaseAmount));
}

/** When confirmed cashback becomes a statement credit: the offer's return period after the purchase. */
export function expectedCreditAt(occurredAt: Date, returnPeriodDays: number): Date {
  return new Date(occurredAt.getTime() + returnPeriodDays * 24 * 60 * 60 * 1000);
}
