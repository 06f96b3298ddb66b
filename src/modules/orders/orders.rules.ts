/**
 * Pure rules of hashtag orders: the defaults of a buyer's settings, the UTC day the daily limit
 * counts, how an intent's reason is stored and read back, and what the e-mails say. No I/O: the
 * text is composed in the transaction of the change it tells about and stored as sent.
 *
 * E-mails name the merchant, the item, the price and the card by its last four digits, never a
 * card number; public replies are composed by the replies module from public facts only.
 */
import { formatMoney, type Money } from '../../lib/money.js';
import type { HashtagBuyingSetting } from './intents.rules.js';

/** A new account's setting: a post alone can never charge (the app confirms). */
export const DEFAULT_HASHTAG_BUYING: HashtagBuyingSetting = 'CONFIRM_IN_APP';

/**
 * A new account's daily limit: 50,000 minor units ($500.00 in USD) a UTC day per currency, so a
 * hijacked account that gets past every other guard still cannot spend more than that in a day.
 */
export const DEFAULT_DAILY_LIMIT = 50_000;

/** The UTC day `now` falls in, [start, end): the window the daily limit counts. */
export function utcDay(now: Date): { start: Date; end: Date } {
  const start = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
  return { start, end: new Date(start.getTime() + 24 * 60 * 60 * 1000) };
}

/** When an intent created at `now` stops accepting a confirmation (the window is inclusive). */
export function intentExpiry(now: Date, confirmWindowMinutes: number): Date {
  return new Date(now.getTime() + confirmWindowMinutes * 60_000);
}

/** Why an intent ended where it did (the `reason` of a DECLINED, EXPIRED or CANCELLED intent). */
export const INTENT_REASONS = {
  PAYMENT_DECLINED: 'The card issuer declined the charge (see declineCode).',
  PAYMENT_FAILED: 'The payment gateway failed on every attempt without charging the card.',
  NOT_CONFIRMED: 'Not confirmed within the confirm window; the unit went back to stock.',
  CANCELLED_BY_USER: 'The buyer cancelled it.',
  HANDLE_MOVED: 'The social handle it came from was proven by another user.',
  HANDLE_UNLINKED: 'The buyer unlinked the social handle it came from.',
  HASHTAG_BUYING_OFF: 'The buyer turned hashtag buying off.',
} as const;

export type IntentReason = keyof typeof INTENT_REASONS;

/**
 * The stored form of a reason: the reason, and for a decline the gateway's code after a colon
 * (`PAYMENT_DECLINED:INSUFFICIENT_FUNDS`), so the one column keeps both.
 */
export function storedReason(reason: IntentReason, declineCode?: string): string {
  return reason === 'PAYMENT_DECLINED' && declineCode ? `${reason}:${declineCode}` : reason;
}

/** The reason and decline code of a stored reason; unknown text reads as no reason. */
export function parseReason(stored: string | null): { reason: IntentReason | null; declineCode: string | null } {
  if (!stored) return { reason: null, declineCode: null };
  const [reason, code] = stored.split(':', 2) as [string, string | undefined];
  return reason in INTENT_REASONS ? { reason: reason as IntentReason, declineCode: code ?? null } : { reason: null, declineCode: null };
}

const platformName = (platform: string) => (platform === 'X' ? 'X' : platform === 'INSTAGRAM' ? 'Instagram' : platform);
const TIME = new Intl.DateTimeFormat('en-US', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' });
const time = (d: Date) => `${TIME.format(d)} UTC`;
const sign = ['', '— hashback'];

export interface PurchaseStartedFacts {
  displayName: string;
  merchantName: string;
  offerTitle: string;
  price: Money;
  cardLast4: string;
  platform: string;
  handle: string;
  expiresAt: Date;
  setting: HashtagBuyingSetting;
  /** The hashtag that confirms by post (CONFIRM_BY_POST only). */
  confirmHashtag: string | null;
}

/** "You started a purchase … not you? cancel it", for every intent. */
export function composePurchaseStartedEmail(f: PurchaseStartedFacts): { subject: string; body: string } {
  const price = formatMoney(f.price);
  const howToConfirm =
    f.setting === 'CONFIRM_BY_POST' && f.confirmHashtag
      ? `To buy, post ${f.confirmHashtag} from @${f.handle} or confirm in the hashback app before ${time(f.expiresAt)}.`
      : `To buy, confirm it in the hashback app (confirmPurchaseIntent) before ${time(f.expiresAt)}. A post alone cannot charge your card: your setting is "confirm in the app".`;
  return {
    subject: `You started a purchase at ${f.merchantName}: ${f.offerTitle} for ${price}`,
    body: [
      `Hi ${f.displayName},`,
      '',
      `@${f.handle} on ${platformName(f.platform)} asked to buy ${f.offerTitle} from ${f.merchantName} for ${price}, on your card ••${f.cardLast4}.`,
      'Nothing is charged until the purchase is confirmed; one unit is held for you meanwhile.',
      howToConfirm,
      '',
      'Not you? Cancel it in the app (cancelPurchaseIntent): nothing is charged and the unit is released.',
      'You can also turn hashtag buying off or lower your daily limit (updateHashtagSettings).',
      ...sign,
    ].join('\n'),
  };
}

export interface OrderFacts {
  displayName: string;
  merchantName: string;
  offerTitle: string;
  price: Money;
  cardLast4: string;
}

/** The receipt of a paid order. */
export function composeReceiptEmail(f: OrderFacts & { paidAt: Date }): { subject: string; body: string } {
  const price = formatMoney(f.price);
  return {
    subject: `Your receipt from ${f.merchantName}: ${f.offerTitle}, ${price}`,
    body: [
      `Hi ${f.displayName},`,
      '',
      `You bought ${f.offerTitle} from ${f.merchantName} for ${price}.`,
      `Charged to your card ••${f.cardLast4} on ${time(f.paidAt)}.`,
      `${f.merchantName} will fulfil the order; we e-mail you when it does.`,
      ...sign,
    ].join('\n'),
  };
}

/** A declined charge: nothing was charged, the unit went back to stock. */
export function composeDeclinedEmail(f: OrderFacts): { subject: string; body: string } {
  return {
    subject: `Your purchase at ${f.merchantName} was declined`,
    body: [
      `Hi ${f.displayName},`,
      '',
      `The issuer of your card ••${f.cardLast4} declined the charge of ${formatMoney(f.price)} for ${f.offerTitle} from ${f.merchantName}.`,
      'Nothing was charged. You can link another card and buy again while the offer lasts.',
      ...sign,
    ].join('\n'),
  };
}

/** The merchant fulfilled the order: the note (e.g. a gift card code) goes to the buyer here only. */
export function composeFulfilledEmail(f: OrderFacts & { note: string }): { subject: string; body: string } {
  return {
    subject: `${f.merchantName} fulfilled your order: ${f.offerTitle}`,
    body: [
      `Hi ${f.displayName},`,
      '',
      `${f.merchantName} fulfilled your order of ${f.offerTitle} (${formatMoney(f.price)}, card ••${f.cardLast4}).`,
      '',
      `Message from ${f.merchantName}:`,
      f.note,
      ...sign,
    ].join('\n'),
  };
}

/** The merchant refunded the order. */
export function composeRefundedEmail(f: OrderFacts): { subject: string; body: string } {
  const price = formatMoney(f.price);
  return {
    subject: `${f.merchantName} refunded ${price} for ${f.offerTitle}`,
    body: [
      `Hi ${f.displayName},`,
      '',
      `${f.merchantName} refunded your order of ${f.offerTitle}: ${price} goes back to your card ••${f.cardLast4}.`,
      'Depending on your bank, it shows on your statement within a few days.',
      ...sign,
    ].join('\n'),
  };
}
