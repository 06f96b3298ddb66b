import { describe, expect, it } from 'vitest';
import type { EmailKind } from '../../../db/types.js';
import { composeCashbackEmail, type CashbackEmailFacts } from './email-content.js';

const facts: CashbackEmailFacts = {
  displayName: 'Ada',
  merchantName: 'Blue Bottle',
  reward: { amount: 450, currency: 'USD' },
  purchase: { amount: 4500, currency: 'USD' },
  cardLast4: '1234',
  expectedCreditAt: new Date('2026-12-03T12:00:00Z'),
};

const kinds: EmailKind[] = ['CASHBACK_CONFIRMED', 'CASHBACK_CREDITED'];

describe('composeCashbackEmail', () => {
  it.each(kinds)('%s: the subject names the amount and the merchant', (kind) => {
    const { subject } = composeCashbackEmail(kind, facts);
    expect(subject).toContain('$4.50');
    expect(subject).toContain('Blue Bottle');
  });

  it.each(kinds)('%s: the body greets the user and names the merchant, the amount and the card by its last four digits', (kind) => {
    const { body } = composeCashbackEmail(kind, facts);
    expect(body).toContain('Hi Ada,');
    expect(body).toContain('Blue Bottle');
    expect(body).toContain('$4.50');
    expect(body).toContain('card ••1234');
  });

  it('the confirmation names the purchase amount and the day the credit is expected (UTC)', () => {
    const { body } = composeCashbackEmail('CASHBACK_CONFIRMED', facts);
    expect(body).toContain('Your $45.00 purchase at Blue Bottle earned $4.50 cashback.');
    expect(body).toContain('on or after December 3, 2026');
    // Late in the UTC day is still that UTC day, whatever the machine's time zone.
    const late = composeCashbackEmail('CASHBACK_CONFIRMED', { ...facts, expectedCreditAt: new Date('2026-12-03T23:59:59Z') });
    expect(late.body).toContain('on or after December 3, 2026');
  });

  it('the credit notice names the card the credit went to in its subject', () => {
    const { subject } = composeCashbackEmail('CASHBACK_CREDITED', facts);
    expect(subject).toBe('$4.50 cashback from Blue Bottle was credited to your card ••1234');
  });

  it('formats amounts in the currency of the cashback', () => {
    const { subject, body } = composeCashbackEmail('CASHBACK_CONFIRMED', {
      ...facts,
      reward: { amount: 1_234_567, currency: 'USD' },
      purchase: { amount: 1200, currency: 'JPY' },
    });
    expect(subject).toContain('$12,345.67');
    expect(body).toContain('¥1,200');
  });

  it.each(kinds)('%s: never shows more than the last four digits of a card', (kind) => {
    for (const cardLast4 of ['0000', '4242', '9876']) {
      const { subject, body } = composeCashbackEmail(kind, { ...facts, cardLast4 });
      for (const text of [subject, body]) {
        // No run of five or more digits (a card number, or a part longer than the last four) ...
        expect(text).not.toMatch(/\d{5,}/);
        // ... and the card appears only as ••last4.
        expect([...text.matchAll(/••(\d+)/g)].map((m) => m[1])).toEqual(text.includes('••') ? [cardLast4] : []);
      }
    }
  });
});
