/**
 * Card numbers as text: normalising what people type, the Luhn check, which network issued a
 * number, expiry dates, and finding numbers in free text (to refuse them in inputs and scrub them
 * out of logs and errors). Pure functions, no I/O; the only place that knows card number formats.
 */
import { randomInt } from 'node:crypto';

export type CardNetwork = 'VISA' | 'MASTERCARD' | 'AMEX' | 'DISCOVER';

export type ParsedCardNumber =
  | { ok: true; digits: string; network: CardNetwork; first6: string; last4: string }
  | { ok: false; reason: 'FORMAT' | 'LUHN' | 'UNKNOWN_NETWORK' };

const DIGITS = /^[0-9]+$/;

/** The digits of a typed card number (spaces and dashes dropped), or null if it is not 12–19 digits. */
export function normalizeCardNumber(input: string): string | null {
  const digits = input.replace(/[ -]/g, '');
  return /^[0-9]{12,19}$/.test(digits) ? digits : null;
}

export function luhnValid(digits: string): boolean {
  if (!DIGITS.test(digits)) return false;
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

/**
 * A fresh random Luhn-valid number starting with `prefix`: for the sandbox, tests and benchmarks.
 * (It is no real card's number except by chance; never print more than its last four digits.)
 */
export function randomCardNumber(prefix = '4', length = 16): string {
  let body = prefix;
  while (body.length < length - 1) body += String(randomInt(10));
  for (let check = 0; check < 10; check++) if (luhnValid(body + check)) return body + check;
  throw new Error('unreachable: one check digit always fits');
}

const LENGTHS: Record<CardNetwork, readonly number[]> = {
  VISA: [13, 16, 19],
  MASTERCARD: [16],
  AMEX: [15],
  DISCOVER: [16, 17, 18, 19],
};

/** The network whose IIN range the number starts in, whatever its length. */
function networkOfPrefix(digits: string): CardNetwork | null {
  const prefix = (length: number) => (digits.length >= length ? Number(digits.slice(0, length)) : -1);
  const p2 = prefix(2);
  const p3 = prefix(3);
  const p4 = prefix(4);
  const p6 = prefix(6);
  if (digits.startsWith('4')) return 'VISA';
  if ((p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720)) return 'MASTERCARD';
  if (p2 === 34 || p2 === 37) return 'AMEX';
  if (p4 === 6011 || p2 === 65 || (p3 >= 644 && p3 <= 649) || (p6 >= 622126 && p6 <= 622925)) return 'DISCOVER';
  return null;
}

/** The network that issued the number: its IIN range and a length that network uses, else null. */
export function cardNetworkOf(digits: string): CardNetwork | null {
  if (!DIGITS.test(digits)) return null;
  const network = networkOfPrefix(digits);
  return network && LENGTHS[network].includes(digits.length) ? network : null;
}

/** Month 1–12 and a four-digit year at most 20 years after `now`'s (issuers do not go further). */
export function validExpiry(expMonth: number, expYear: number, now: Date = new Date()): boolean {
  return (
    Number.isInteger(expMonth) &&
    Number.isInteger(expYear) &&
    expMonth >= 1 &&
    expMonth <= 12 &&
    expYear >= 1000 &&
    expYear <= 9999 &&
    expYear <= now.getUTCFullYear() + 20
  );
}

/** A card is good through the last day of its expiry month, UTC; expired from the next month's first instant. */
export function isExpired(expMonth: number, expYear: number, now: Date): boolean {
  // Date.UTC rolls month 12 over into January of the next year.
  return now.getTime() >= Date.UTC(expYear, expMonth, 1);
}

/**
 * Checks a typed number in the order a person can act on: format, then check digit, then network.
 * A number in a known network's range but of a length that network never issues is a FORMAT
 * problem (a digit too many or too few), not an unsupported network.
 */
export function parseCardNumber(input: string): ParsedCardNumber {
  const digits = normalizeCardNumber(input);
  if (digits === null) return { ok: false, reason: 'FORMAT' };
  if (!luhnValid(digits)) return { ok: false, reason: 'LUHN' };
  const network = cardNetworkOf(digits);
  if (network === null) return { ok: false, reason: networkOfPrefix(digits) ? 'FORMAT' : 'UNKNOWN_NETWORK' };
  return { ok: true, digits, network, first6: digits.slice(0, 6), last4: digits.slice(-4) };
}

export const CARD_REDACTED = '[card redacted]';

const isDigit = (c: number) => c >= 48 && c <= 57;
const SPACE = 32;
const DASH = 45;

interface Group {
  start: number;
  end: number;
  /** Inside a uuid or a hex digest: an identifier, never part of a card number. */
  identifier: boolean;
}

/**
 * Uuids (8-4-4-4-12 hex) and hex digests (32 or more hex digits of one case), standing alone
 * between non-alphanumerics. Their digits can line up as a Luhn-valid number by chance (about
 * one uuid in 10,000 and one SHA-256 digest in 1,000), and they are everywhere: request ids,
 * row ids, key hashes, card fingerprints, idempotency keys. Matched once per text, and only for
 * a text that has a candidate; linear, since each alternative can only start where a word does.
 */
const IDENTIFIERS =
  /(?<![0-9A-Za-z])(?:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-f]{32,}|[0-9A-F]{32,})(?![0-9A-Za-z])/g;

function identifierRanges(text: string): [number, number][] {
  return Array.from(text.matchAll(IDENTIFIERS), (m) => [m.index, m.index + m[0].length] as [number, number]);
}

/**
 * [from, to) offsets of every card number in free text, left to right: a Luhn-valid 13–19
 * digits, written in one piece or in groups joined by single spaces or dashes, wherever it
 * stands, glued to letters too ("req-5555555555554444", "abc4242424242424242xyz"): a number
 * hidden in an id is still a card number. A hand-written scanner rather than a regex, so a
 * megabyte of digits and dashes costs one pass, never backtracking.
 *
 * What is left alone, and why:
 * - a longer unbroken digit string (an id, an amount in minor units): no card hides in one;
 * - numbers starting with 0 or 1: none of the networks issues them, and epoch timestamps in
 *   milliseconds, microseconds and nanoseconds (13, 16, 19 digits) all start with 1 until 2286;
 * - uuids and hex digests (see IDENTIFIERS): a uuid whose leading segments happen to be all
 *   digits must survive intact, and a random key must not be refused as a card one time in 10,000.
 */
export function* cardNumberSpans(text: string): Generator<[number, number]> {
  const n = text.length;
  let identifiers: [number, number][] | undefined;
  let next = 0;
  let i = 0;
  while (i < n) {
    if (!isDigit(text.charCodeAt(i))) {
      i++;
      continue;
    }
    // One run: digit groups separated by a single space or dash.
    const groups: Group[] = [];
    let digits = 0;
    for (;;) {
      const start = i;
      while (i < n && isDigit(text.charCodeAt(i))) i++;
      groups.push({ start, end: i, identifier: false });
      digits += i - start;
      const sep = text.charCodeAt(i);
      if ((sep === SPACE || sep === DASH) && i + 1 < n && isDigit(text.charCodeAt(i + 1))) {
        i++;
        continue;
      }
      break;
    }
    if (digits < 13) continue;
    identifiers ??= identifierRanges(text);
    for (const g of groups) {
      while (next < identifiers.length && identifiers[next]![1] <= g.start) next++;
      g.identifier = next < identifiers.length && identifiers[next]![0] < g.end;
    }
    yield* cardSpans(text, groups);
  }
}

/** Whether free text holds a card number anywhere (see cardNumberSpans for what counts). */
export function containsCardNumber(text: string): boolean {
  return !cardNumberSpans(text).next().done;
}

/** Replaces every card number in free text (see cardNumberSpans) with `[card redacted]`. */
export function scrubCardNumbers(text: string): string {
  const parts: string[] = [];
  let copied = 0;
  for (const [from, to] of cardNumberSpans(text)) {
    parts.push(text.slice(copied, from), CARD_REDACTED);
    copied = to;
  }
  if (copied === 0) return text;
  parts.push(text.slice(copied));
  return parts.join('');
}

/** [from, to) offsets of the card numbers in one run, left to right, each as long as possible. */
function* cardSpans(text: string, groups: Group[]): Generator<[number, number]> {
  let k = 0;
  while (k < groups.length) {
    const first = groups[k]!;
    let best = -1;
    // No network issues numbers starting with 0 or 1 (see above), so no span starts there.
    if (!first.identifier && text.charCodeAt(first.start) >= 50) {
      // Luhn sums for both parities, kept as digits are added, since which digits are doubled
      // depends on the final length: even lengths double even positions, odd lengths odd ones.
      let length = 0;
      let doubleEven = 0;
      let doubleOdd = 0;
      // At most 19 groups fit in 19 digits, so each start costs a bounded amount of work.
      for (let j = k; j < groups.length; j++) {
        const g = groups[j]!;
        if (g.identifier || length + (g.end - g.start) > 19) break;
        for (let p = g.start; p < g.end; p++, length++) {
          const d = text.charCodeAt(p) - 48;
          const doubled = d * 2 > 9 ? d * 2 - 9 : d * 2;
          doubleEven += length % 2 === 0 ? doubled : d;
          doubleOdd += length % 2 === 0 ? d : doubled;
        }
        if (length >= 13 && (length % 2 === 0 ? doubleEven : doubleOdd) % 10 === 0) best = j;
      }
    }
    if (best < 0) {
      k++;
      continue;
    }
    yield [first.start, groups[best]!.end];
    k = best + 1;
  }
}
