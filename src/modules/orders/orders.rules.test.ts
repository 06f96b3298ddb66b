import { describe, expect, it } from 'vitest';
import { composeDeclinedEmail, composeFulfilledEmail, composePurchaseStartedEmail, composeReceiptEmail, composeRefundedEmail, intentExpiry, parseReason, storedReason, utcDay } from './orders.rules.js';

const facts = { displayName: 'Ada', merchantName: 'Gift Shop', offerTitle: '$25 gift card', price: { amount: 1500, currency: 'USD' }, cardLast4: '4242' };

describe('orders rules', () => {
  it('counts the daily limit over the UTC day the instant falls in', () => {
    expect(utcDay(new Date('2026-12-02T23:59:59.999Z'))).toEqual({ start: new Date('2026-12-02T00:00:00Z'), end: new Date('2026-12-03T00:00:00Z') });
    expect(utcDay(new Date('2026-12-03T00:00:00Z')).start).toEqual(new Date('2026-12-03T00:00:00Z'));
  });

  it('ends the confirm window the given minutes after the buy post', () => {
    expect(intentExpiry(new Date('2026-12-02T10:00:00Z'), 15)).toEqual(new Date('2026-12-02T10:15:00Z'));
  });

  it('keeps a decline code with its reason in one stored value and reads both back', () => {
    expect(storedReason('PAYMENT_DECLINED', 'INSUFFICIENT_FUNDS')).toBe('PAYMENT_DECLINED:INSUFFICIENT_FUNDS');
    expect(parseReason('PAYMENT_DECLINED:INSUFFICIENT_FUNDS')).toEqual({ reason: 'PAYMENT_DECLINED', declineCode: 'INSUFFICIENT_FUNDS' });
    expect(storedReason('NOT_CONFIRMED', 'IGNORED')).toBe('NOT_CONFIRMED');
    expect(parseReason('NOT_CONFIRMED')).toEqual({ reason: 'NOT_CONFIRMED', declineCode: null });
    expect(parseReason('SOMETHING_ELSE')).toEqual({ reason: null, declineCode: null });
    expect(parseReason(null)).toEqual({ reason: null, declineCode: null });
  });

  it('tells a CONFIRM_IN_APP buyer that a post alone cannot charge, and a CONFIRM_BY_POST buyer which hashtag confirms', () => {
    const base = { ...facts, platform: 'X', handle: 'ada', expiresAt: new Date('2026-12-02T10:15:00Z'), confirmHashtag: '#ConfirmGift' };
    const inApp = composePurchaseStartedEmail({ ...base, setting: 'CONFIRM_IN_APP' });
    expect(inApp.subject).toBe('You started a purchase at Gift Shop: $25 gift card for $15.00');
    expect(inApp.body).toContain('A post alone cannot charge your card');
    expect(inApp.body).not.toContain('#ConfirmGift');
    expect(inApp.body).toContain('Not you? Cancel it in the app (cancelPurchaseIntent)');
    const byPost = composePurchaseStartedEmail({ ...base, setting: 'CONFIRM_BY_POST' });
    expect(byPost.body).toContain('post #ConfirmGift from @ada');
    for (const mail of [inApp, byPost]) expect(mail.body).toContain('card ••4242');
  });

  it('names merchant, item, price and card ••last4 in every order e-mail, and the note only in the fulfilment', () => {
    const mails = [
      composeReceiptEmail({ ...facts, paidAt: new Date('2026-12-02T10:00:00Z') }),
      composeDeclinedEmail(facts),
      composeRefundedEmail(facts),
      composeFulfilledEmail({ ...facts, note: 'CODE-123' }),
    ];
    for (const mail of mails) {
      expect(`${mail.subject}\n${mail.body}`).toContain('Gift Shop');
      expect(mail.body).toContain('$25 gift card');
      expect(`${mail.subject}\n${mail.body}`).toContain('$15.00');
      expect(mail.body).toContain('••4242');
    }
    expect(mails.filter((m) => m.body.includes('CODE-123'))).toHaveLength(1);
  });
});
