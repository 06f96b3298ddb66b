/**
 * Pure rules of the offer catalogue: the status an offer has at an instant, what may change
 * once it is published, and how its reward reads. No I/O here.
 */
import type { OfferRow } from '../../../db/types.js';
import { formatMoney } from '../../lib/money.js';

export type OfferStatus = 'DRAFT' | 'SCHEDULED' | 'LIVE' | 'PAUSED' | 'EXPIRED' | 'EXHAUSTED';

type StatusFields = Pick<OfferRow, 'state' | 'starts_at' | 'ends_at' | 'budget_remaining' | 'quantity_remaining'>;

/**
 * The stored lifecycle is DRAFT, PUBLISHED or PAUSED; time and money derive the rest at read time,
 * so no job has to flip an offer at midnight: past its end it is EXPIRED, with nothing left to
 * give it is EXHAUSTED, before its start SCHEDULED, otherwise LIVE.
 */
export function offerStatus(offer: StatusFields, now: Date): OfferStatus {
  if (offer.state === 'DRAFT') return 'DRAFT';
  if (now.getTime() >= offer.ends_at.getTime()) return 'EXPIRED';
  if (offer.state === 'PAUSED') return 'PAUSED';
  if ((offer.budget_remaining ?? offer.quantity_remaining) === 0) return 'EXHAUSTED';
  if (now.getTime() < offer.starts_at.getTime()) return 'SCHEDULED';
  return 'LIVE';
}

/** Fields a published offer may still change, and how: anything else would move the goalposts. */
export const CHANGEABLE_WHEN_PUBLISHED = ['title', 'description', 'endsAt', 'budget', 'quantity'] as const;

/** A one-line description of what the offer gives, e.g. "10% cashback up to $20.00". */
export function rewardSummary(
  offer: Pick<OfferRow, 'kind' | 'currency' | 'reward_type' | 'reward_basis_points' | 'reward_amount' | 'max_reward' | 'min_spend' | 'price'>,
): string {
  // No helper closure: built with keepNames, each closure made per call is also named by a call
  // (`__name`), which cost more than the formatting in the feed's profile.
  const { currency } = offer;
  if (offer.kind === 'PURCHASE') return `Buy for ${formatMoney({ amount: offer.price ?? 0, currency })}`;
  const base =
    offer.reward_type === 'PERCENT'
      ? `${(offer.reward_basis_points ?? 0) / 100}% cashback`
      : `${formatMoney({ amount: offer.reward_amount ?? 0, currency })} cashback`;
  const cap = offer.max_reward ? ` up to ${formatMoney({ amount: offer.max_reward, currency })}` : '';
  const min = offer.min_spend ? ` on ${formatMoney({ amount: offer.min_spend, currency })} or more` : '';
  return base + cap + min;
}

/**
 * The confirm hashtag of a buy hashtag when the merchant gives none: `#BuyX` → `#ConfirmX`,
 * `Buy` in any case, the rest as written (`#buyKindle` → `#ConfirmKindle`). `Buy` counts as a
 * prefix only where it is one: followed by something that is not a lower-case letter
 * (`#BuyKindle`, `#Buy_25`), or in an all-lower-case tag (`#buykindle` → `#Confirmkindle`); so
 * `#BuyersClub` → `#ConfirmBuyersClub`. Any other tag gets `Confirm` in front
 * (`#GiftCard` → `#ConfirmGiftCard`). The result never normalises to the buy hashtag.
 */
export function confirmHashtagFor(buyHashtag: string): string {
  const body = buyHashtag.normalize('NFKC').replace(/^#+/u, '');
  const rest = body.slice(3);
  const buyPrefix =
    body.slice(0, 3).toLowerCase() === 'buy' && rest !== '' && (!/^\p{Ll}/u.test(rest) || body === body.toLowerCase());
  return `#Confirm${buyPrefix ? rest : body}`;
}
