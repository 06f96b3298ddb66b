import { describe, expect, it } from 'vitest';
import {
  CARD_REDACTED,
  cardNetworkOf,
  containsCardNumber,
  isExpired,
  luhnValid,
  normalizeCardNumber,
  parseCardNumber,
  scrubCardNumbers,
  validExpiry,
} from './card-number.js';

/** `prefix` padded with zeros to `length - 1` digits, plus the Luhn check digit. */
function cardLike(prefix: string, length: number): string {
  const body = prefix.padEnd(length - 1, '0');
  for (let check = 0; check <= 9; check++) {
    if (luhnValid(body + check)) return body + check;
  }
  throw new Error('unreachable');
}

const lastDigitFlipped = (digits: string) => digits.slice(0, -1) + ((Number(digits.at(-1)) + 1) % 10);

describe('well-known test numbers', () => {
  const known = [
    ['4242424242424242', 'VISA'],
    ['4111111111111111', 'VISA'],
    ['5555555555554444', 'MASTERCARD'],
    ['2223003122003222', 'MASTERCARD'],
    ['378282246310005', 'AMEX'],
    ['6011111111111117', 'DISCOVER'],
    ['6011000990139424', 'DISCOVER'],
  ] as const;
  it.each(known)('%s is a valid %s card', (digits, network) => {
    expect(luhnValid(digits)).toBe(true);
    expect(cardNetworkOf(digits)).toBe(network);
    expect(parseCardNumber(digits)).toEqual({ ok: true, digits, network, first6: digits.slice(0, 6), last4: digits.slice(-4) });
  });
  it.each(known)('%s with its last digit changed fails the Luhn check', (digits) => {
    expect(luhnValid(lastDigitFlipped(digits))).toBe(false);
    expect(parseCardNumber(lastDigitFlipped(digits))).toEqual({ ok: false, reason: 'LUHN' });
  });
});

describe('luhnValid', () => {
  it('catches a single changed digit and a swap of adjacent digits', () => {
    expect(luhnValid('4242424242424242')).toBe(true);
    expect(luhnValid('4242424242424243')).toBe(false);
    expect(luhnValid('4111111111111121')).toBe(false);
    expect(luhnValid('3782822463100050'.slice(0, 15))).toBe(true);
    expect(luhnValid('3728822463100050'.slice(0, 15))).toBe(false);
  });
  it('is false for anything that is not digits', () => {
    expect(luhnValid('')).toBe(false);
    expect(luhnValid('4242 4242 4242 4242')).toBe(false);
    expect(luhnValid('42424242424242a2')).toBe(false);
  });
});

describe('normalizeCardNumber', () => {
  it('accepts spaces and dashes as people type them', () => {
    expect(normalizeCardNumber('4242 4242 4242 4242')).toBe('4242424242424242');
    expect(normalizeCardNumber('4242-4242-4242-4242')).toBe('4242424242424242');
    expect(normalizeCardNumber(' 3782 822463 10005 ')).toBe('378282246310005');
    expect(normalizeCardNumber('4242 - 4242-4242  4242')).toBe('4242424242424242');
  });
  it('refuses letters, dots, other separators and other whitespace', () => {
    for (const bad of ['4242.4242.4242.4242', '4242424242424242a', 'O242424242424242', '4242_4242_4242_4242', '4242\t4242424242424', '4242/4242/4242/4242', '４２４２４２４２４２４２４２４２']) {
      expect(normalizeCardNumber(bad)).toBeNull();
    }
  });
  it('takes 12 to 19 digits', () => {
    expect(normalizeCardNumber('1'.repeat(11))).toBeNull();
    expect(normalizeCardNumber('1'.repeat(12))).toBe('1'.repeat(12));
    expect(normalizeCardNumber('1'.repeat(19))).toBe('1'.repeat(19));
    expect(normalizeCardNumber('1'.repeat(20))).toBeNull();
    expect(normalizeCardNumber('')).toBeNull();
    expect(normalizeCardNumber(' - ')).toBeNull();
  });
});

describe('cardNetworkOf', () => {
  it('knows Visa from 4 at 13, 16 and 19 digits only', () => {
    for (const length of [13, 16, 19]) expect(cardNetworkOf(cardLike('4', length))).toBe('VISA');
    for (const length of [12, 14, 15, 17, 18]) expect(cardNetworkOf(cardLike('4', length))).toBeNull();
  });
  it('knows Mastercard from 51–55 and 2221–2720 at 16 digits', () => {
    for (const prefix of ['51', '55', '2221', '2720', '2500']) expect(cardNetworkOf(cardLike(prefix, 16))).toBe('MASTERCARD');
    for (const prefix of ['50', '56', '2220', '2721']) expect(cardNetworkOf(cardLike(prefix, 16))).toBeNull();
    expect(cardNetworkOf(cardLike('55', 15))).toBeNull();
    expect(cardNetworkOf(cardLike('55', 19))).toBeNull();
  });
  it('knows American Express from 34 and 37 at 15 digits', () => {
    expect(cardNetworkOf(cardLike('34', 15))).toBe('AMEX');
    expect(cardNetworkOf(cardLike('37', 15))).toBe('AMEX');
    expect(cardNetworkOf(cardLike('35', 15))).toBeNull();
    expect(cardNetworkOf(cardLike('37', 16))).toBeNull();
  });
  it('knows Discover from 6011, 644–649, 65 and 622126–622925 at 16 to 19 digits', () => {
    for (const prefix of ['6011', '644', '649', '65', '622126', '622925']) {
      for (const length of [16, 17, 18, 19]) expect(cardNetworkOf(cardLike(prefix, length))).toBe('DISCOVER');
      expect(cardNetworkOf(cardLike(prefix, 15))).toBeNull();
    }
    for (const prefix of ['6010', '6012', '643', '622125', '622926', '66']) expect(cardNetworkOf(cardLike(prefix, 16))).toBeNull();
  });
  it('knows nothing outside those ranges, nor anything that is not digits', () => {
    for (const prefix of ['9', '1', '3528', '62', '36', '0']) expect(cardNetworkOf(cardLike(prefix, 16))).toBeNull();
    expect(cardNetworkOf('4242 4242 4242 4242')).toBeNull();
    expect(cardNetworkOf('')).toBeNull();
  });
});

describe('parseCardNumber', () => {
  it('normalises the typed number and keeps only the first 6 and last 4 apart from the digits', () => {
    expect(parseCardNumber('3782-822463-10005')).toEqual({ ok: true, digits: '378282246310005', network: 'AMEX', first6: '378282', last4: '0005' });
  });
  it('refuses a malformed number as FORMAT', () => {
    expect(parseCardNumber('4242.4242.4242.4242')).toEqual({ ok: false, reason: 'FORMAT' });
    expect(parseCardNumber('4242')).toEqual({ ok: false, reason: 'FORMAT' });
    expect(parseCardNumber('card 4242424242424242')).toEqual({ ok: false, reason: 'FORMAT' });
  });
  it('refuses a Luhn-valid number outside every supported network as UNKNOWN_NETWORK', () => {
    const nines = cardLike('9', 16);
    expect(luhnValid(nines)).toBe(true);
    expect(parseCardNumber(nines)).toEqual({ ok: false, reason: 'UNKNOWN_NETWORK' });
    expect(parseCardNumber('3530111333300000')).toEqual({ ok: false, reason: 'UNKNOWN_NETWORK' }); // JCB
    expect(parseCardNumber(cardLike('4', 12))).toEqual({ ok: false, reason: 'FORMAT' });
  });
  it('calls a supported network at a length it never issues a FORMAT problem', () => {
    expect(parseCardNumber(cardLike('4', 17))).toEqual({ ok: false, reason: 'FORMAT' });
    expect(parseCardNumber(cardLike('37', 16))).toEqual({ ok: false, reason: 'FORMAT' });
  });
  it('checks the format before the Luhn digit', () => {
    expect(parseCardNumber('4242424242424243x')).toEqual({ ok: false, reason: 'FORMAT' });
  });
});

describe('expiry', () => {
  const at = (iso: string) => new Date(iso);
  it('is good through the last instant of the expiry month, UTC', () => {
    expect(isExpired(6, 2027, at('2027-06-30T23:59:59.999Z'))).toBe(false);
    expect(isExpired(6, 2027, at('2027-07-01T00:00:00.000Z'))).toBe(true);
    expect(isExpired(6, 2027, at('2027-06-01T00:00:00.000Z'))).toBe(false);
  });
  it('rolls December over into the next year', () => {
    expect(isExpired(12, 2026, at('2026-12-31T23:59:59.999Z'))).toBe(false);
    expect(isExpired(12, 2026, at('2027-01-01T00:00:00.000Z'))).toBe(true);
  });
  it('keeps a February card good through the leap day', () => {
    expect(isExpired(2, 2028, at('2028-02-29T23:59:59.999Z'))).toBe(false);
    expect(isExpired(2, 2028, at('2028-03-01T00:00:00.000Z'))).toBe(true);
  });
  it('uses UTC, not the server time zone', () => {
    // 2027-07-01T01:00 in Paris is still June 30 in UTC.
    expect(isExpired(6, 2027, at('2027-07-01T01:00:00+02:00'))).toBe(false);
  });
  it('treats an earlier year as expired', () => {
    expect(isExpired(12, 2025, at('2026-01-15T00:00:00Z'))).toBe(true);
  });
  it('accepts months 1–12 and four-digit years up to 20 years ahead', () => {
    const now = at('2026-11-23T12:00:00Z');
    expect(validExpiry(1, 2027, now)).toBe(true);
    expect(validExpiry(12, 2046, now)).toBe(true);
    expect(validExpiry(1, 2047, now)).toBe(false);
    expect(validExpiry(0, 2027, now)).toBe(false);
    expect(validExpiry(13, 2027, now)).toBe(false);
    expect(validExpiry(1.5, 2027, now)).toBe(false);
    expect(validExpiry(1, 27, now)).toBe(false);
    expect(validExpiry(1, 999, now)).toBe(false);
    expect(validExpiry(1, 2027.5, now)).toBe(false);
    expect(validExpiry(Number.NaN, 2027, now)).toBe(false);
    expect(validExpiry(6, new Date().getUTCFullYear() + 1)).toBe(true);
  });
});

describe('scrubCardNumbers', () => {
  const R = CARD_REDACTED;
  it('redacts a number inside JSON text', () => {
    expect(scrubCardNumbers('{"number":"4242424242424242","expMonth":12,"expYear":2030}')).toBe(
      `{"number":"${R}","expMonth":12,"expYear":2030}`,
    );
  });
  it('redacts numbers typed with spaces or dashes, in any grouping', () => {
    expect(scrubCardNumbers('card 4242 4242 4242 4242 ok')).toBe(`card ${R} ok`);
    expect(scrubCardNumbers('card 5555-5555-5555-4444.')).toBe(`card ${R}.`);
    expect(scrubCardNumbers('amex 3782 822463 10005')).toBe(`amex ${R}`);
    expect(scrubCardNumbers('4111-1111 1111-1111')).toBe(R);
  });
  it('redacts Luhn-valid numbers of networks we do not accept too', () => {
    expect(scrubCardNumbers('jcb 3530111333300000')).toBe(`jcb ${R}`);
    const visa19 = cardLike('4', 19);
    expect(scrubCardNumbers(`x ${visa19} y`)).toBe(`x ${R} y`);
  });
  it('redacts every number in the text, including two in a row', () => {
    expect(scrubCardNumbers('4242424242424242 5555555555554444, then 6011000990139424')).toBe(`${R} ${R}, then ${R}`);
  });
  it('leaves adjacent digits that are not part of the number untouched', () => {
    expect(scrubCardNumbers('order 12345 paid 2500 4242 4242 4242 4242 on 2026-11-23 qty 3')).toBe(
      `order 12345 paid 2500 ${R} on 2026-11-23 qty 3`,
    );
    expect(scrubCardNumbers('1 4242 4242 4242 4242')).toBe(`1 ${R}`);
  });
  it('redacts exactly the 13–19 digit numbers that pass luhnValid, whatever their length', () => {
    let seed = 20261123;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    let redacted = 0;
    for (let n = 0; n < 2000; n++) {
      const length = 13 + Math.floor(random() * 7);
      let digits = String(2 + Math.floor(random() * 8));
      while (digits.length < length) digits += String(Math.floor(random() * 10));
      const expected = luhnValid(digits) ? `n=${CARD_REDACTED};` : `n=${digits};`;
      expect(scrubCardNumbers(`n=${digits};`), `seed 20261123, case ${n}`).toBe(expected);
      if (luhnValid(digits)) redacted++;
    }
    expect(redacted).toBeGreaterThan(100);
  });
  it('leaves a number failing the Luhn check alone', () => {
    expect(scrubCardNumbers('card 4242424242424241')).toBe('card 4242424242424241');
  });
  it('leaves digit runs that are not card-shaped alone', () => {
    const text = [
      'ts 1732363200000', // epoch milliseconds
      `us ${cardLike('17', 16)}`, // epoch microseconds, Luhn-valid yet starting with 1
      `ms ${cardLike('17', 13)}`,
      'amount 123456789012', // 12 digits
      'id 4242424242424242424242', // 22 digits in one piece
      `leading zero ${cardLike('0', 16)}`,
      'phone +1 415-555-0100',
      'price 4242.42 and 4242,4242',
      'time 2026-11-23T12:30:00.000Z',
      'double spaced 4242  4242  4242  4242',
    ].join('\n');
    expect(scrubCardNumbers(text)).toBe(text);
  });
  it('redacts numbers glued to letters, directly or through a dash', () => {
    expect(scrubCardNumbers('x-request-id: req-5555555555554444')).toBe(`x-request-id: req-${R}`);
    expect(scrubCardNumbers('abc4242424242424242xyz')).toBe(`abc${R}xyz`);
    expect(scrubCardNumbers('trace ab4242424242424242')).toBe(`trace ab${R}`);
    expect(scrubCardNumbers('slug offer-4242-4242-4242-4242-x')).toBe(`slug offer-${R}-x`);
    expect(scrubCardNumbers('sha 4242424242424242abcdef0123')).toBe(`sha ${R}abcdef0123`);
    expect(scrubCardNumbers('MID4111111111111111')).toBe(`MID${R}`);
  });
  it('leaves uuids and hex digests alone, even when their digits line up as a card number', () => {
    const text = [
      '4f6c1a2e-8b1d-4c3e-9f00-123456789abc',
      '42424242-4242-4242-a234-123456789abc', // first three segments read 4242424242424242
      '12345678-4242-4242-4242-42424242abcd',
      'req-42424242-4242-4242-4242-424242424242',
      `sha256 4242424242424242${'ab'.repeat(24)}`, // 64 hex digits
      `md5 ${'AB'.repeat(8)}4242424242424242`, // 32 hex digits, upper case
    ].join('\n');
    expect(scrubCardNumbers(text)).toBe(text);
  });
  it('finds a number hidden next to a uuid or digest that is not one', () => {
    // 31 hex digits is no digest, and a uuid with a letter too many is no uuid.
    expect(scrubCardNumbers(`${'ab'.repeat(7)}a4242424242424242`)).toBe(`${'ab'.repeat(7)}a${R}`);
    expect(scrubCardNumbers('42424242-4242-4242-a234-123456789abcg')).toBe(`${R}-a234-123456789abcg`);
  });
  it('redacts at the very start and end of the text and returns untouched text as is', () => {
    expect(scrubCardNumbers('4242424242424242')).toBe(R);
    expect(scrubCardNumbers('')).toBe('');
    expect(scrubCardNumbers('nothing to see 123')).toBe('nothing to see 123');
  });
  it('scrubs a 1 MB log in linear time, including pathological digit-and-dash runs', () => {
    const line = 'GET /offers?id=4f6c1a2e-8b1d-4c3e-9f00-123456789abc ts=1732363200000 card=4242 4242 4242 4242 amount=1999\n';
    const log = line.repeat(Math.ceil(1_048_576 / line.length));
    let started = performance.now();
    const scrubbed = scrubCardNumbers(log);
    const logMs = performance.now() - started;
    expect(scrubbed).not.toContain('4242 4242 4242 4242');
    expect(scrubbed.split(R).length - 1).toBe(log.split('4242 4242 4242 4242').length - 1);
    expect(scrubbed).toContain('ts=1732363200000');

    const runs = ['4-'.repeat(524_288), '1 '.repeat(524_288), '9'.repeat(1_048_576), '12-34 '.repeat(174_763)];
    started = performance.now();
    for (const run of runs) scrubCardNumbers(run);
    const runsMs = performance.now() - started;
    // Generous bounds: a backtracking scan would take minutes here, a linear one milliseconds.
    expect(logMs).toBeLessThan(2_000);
    expect(runsMs).toBeLessThan(5_000);
  });
});

describe('containsCardNumber', () => {
  it('finds a Luhn-valid 13–19 digit run anywhere in the text, with spaces, dashes or letters around', () => {
    for (const text of [
      '4242424242424242',
      'call me on 4242 4242 4242 4242 please',
      'req-5555555555554444',
      'abc4242424242424242xyz',
      'amex:3782-822463-10005',
      `visa19 ${cardLike('4', 19)}`,
      `short ${cardLike('4', 13)}.`,
    ]) {
      expect(containsCardNumber(text), text).toBe(true);
    }
  });
  it('finds nothing in ordinary text, ids, amounts, timestamps or numbers failing the check digit', () => {
    for (const text of [
      '',
      'Store 12, 5th Avenue',
      'order 12345 paid 2500 on 2026-11-23',
      'card 4242424242424241',
      'ts 1732363200000',
      'id 4242424242424242424242',
      '42424242-4242-4242-a234-123456789abc',
      'MID-0042',
    ]) {
      expect(containsCardNumber(text), text).toBe(false);
    }
  });
});
