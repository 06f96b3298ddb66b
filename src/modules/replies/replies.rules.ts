/**
 * What hashback asks the social platform to post back, as text. Pure. Replies are public: they
 * never name a card (not even its last digits), an e-mail address, or any amount but the offer's
 * public price; they address the author by the handle that posted.
 */
import { formatMoney, type Money } from '../../lib/money.js';

export const REPLY_KINDS = {
  VERIFY_HANDLE: 'The author has no verified handle here: how to link it.',
  HANDLE_VERIFIED: 'The handle is now verified for its owner.',
  CONFIRM_PROMPT: 'A purchase started: confirm it with the confirm hashtag within the window (or in the app).',
  CONFIRM_IN_APP: 'A purchase started: confirm it in the app (the buyer chose in-app confirmation).',
  ORDER_PLACED: 'The purchase is paid: the order is placed.',
  PAYMENT_DECLINED: 'The card was declined: nothing was bought.',
  INTENT_EXPIRED: 'The purchase was not confirmed in time: nothing was bought.',
  SOLD_OUT: 'Nothing left to buy.',
  NO_CARD_LINKED: 'The buyer has no card linked.',
  OFFER_ACTIVATED: 'The cashback offer is saved for the author ("Get Offer").',
  NOT_ALLOWED: 'The buy was refused (limits, settings, or the offer is not live); the buyer learns why in the app.',
} as const;

export type ReplyKind = keyof typeof REPLY_KINDS;

export interface ReplyFacts {
  /** The handle the reply answers, as normalised (no "@"). */
  handle: string;
  offerTitle?: string;
  /** The offer's public price. */
  price?: Money;
  confirmHashtag?: string;
  buyHashtag?: string;
  windowMinutes?: number;
}

export function composeReply(kind: ReplyKind, facts: ReplyFacts): string {
  const at = `@${facts.handle}`;
  const item = facts.offerTitle ?? 'this offer';
  const price = facts.price ? ` for ${formatMoney(facts.price)}` : '';
  switch (kind) {
    case 'VERIFY_HANDLE':
      return `${at} to buy or save offers by hashtag, link this handle in the hashback app first: it gives you a code to post.`;
    case 'HANDLE_VERIFIED':
      return `${at} your handle is verified. You can now buy and save offers by hashtag.`;
    case 'CONFIRM_PROMPT':
      return `${at} reply ${facts.confirmHashtag ?? 'with the confirm hashtag'} within ${facts.windowMinutes ?? 15} minutes to buy ${item}${price}, or confirm in the hashback app. Not you? Cancel it in the app.`;
    case 'CONFIRM_IN_APP':
      return `${at} confirm your purchase of ${item}${price} in the hashback app within ${facts.windowMinutes ?? 15} minutes. Not you? Cancel it there.`;
    case 'ORDER_PLACED':
      return `${at} done: you bought ${item}. Your receipt is on its way by e-mail.`;
    case 'PAYMENT_DECLINED':
      return `${at} your card was declined, so nothing was bought. Check your card in the hashback app and try again.`;
    case 'INTENT_EXPIRED':
      return `${at} your purchase of ${item} was not confirmed in time, so nothing was bought.${facts.buyHashtag ? ` Post ${facts.buyHashtag} to start again.` : ''}`;
    case 'SOLD_OUT':
      return `${at} sorry, ${item} is sold out.`;
    case 'NO_CARD_LINKED':
      return `${at} link a card in the hashback app to buy by hashtag.`;
    case 'OFFER_ACTIVATED':
      return `${at} ${item} is saved: pay with your linked card to earn it.`;
    case 'NOT_ALLOWED':
      return `${at} we could not start this purchase. The hashback app says why.`;
  }
}
