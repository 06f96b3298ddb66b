/**
 * What the confirmation e-mails say. Pure: the text is composed when the e-mail is queued, in the
 * same transaction as the cashback change, and stored as sent. It names the merchant, the amount,
 * the card by its last four digits and when the credit arrives; never a card number.
 */
import type { EmailKind } from '../../../db/types.js';
import { formatMoney, type Money } from '../../lib/money.js';

export interface CashbackEmailFacts {
  displayName: string;
  merchantName: string;
  reward: Money;
  purchase: Money;
  cardLast4: string;
  expectedCreditAt: Date;
}

// One formatter for every e-mail: building an Intl.DateTimeFormat per call was a sixth of the
// CPU of a 500-item ingest (bench:ingest profile).
const LONG_DATE = new Intl.DateTimeFormat('en-US', { dateStyle: 'long', timeZone: 'UTC' });
const day = (d: Date) => LONG_DATE.format(d);

export function composeCashbackEmail(kind: EmailKind, facts: CashbackEmailFacts): { subject: string; body: string } {
  const reward = formatMoney(facts.reward);
  const card = `card ••${facts.cardLast4}`;
  if (kind === 'CASHBACK_CONFIRMED') {
    return {
      subject: `${reward} cashback from ${facts.merchantName} is confirmed`,
      body: [
        `Hi ${facts.displayName},`,
        '',
        `Your ${formatMoney(facts.purchase)} purchase at ${facts.merchantName} earned ${reward} cashback.`,
        `It will be credited to your ${card} on or after ${day(facts.expectedCreditAt)}.`,
        '',
        '— hashback',
      ].join('\n'),
    };
  }
  return {
    subject: `${reward} cashback from ${facts.merchantName} was credited to your ${card}`,
    body: [
      `Hi ${facts.displayName},`,
      '',
      `We credited ${reward} cashback from ${facts.merchantName} to your ${card}.`,
      'It shows on your card statement as a credit.',
      '',
      '— hashback',
    ].join('\n'),
  };
}
