/**
 * timestamptz values as Postgres sends them in text with DateStyle ISO, e.g.
 * "2026-12-02 12:43:41.123456+00" or "2026-03-29 01:30:00-04:30". pg's default parser
 * (postgres-date) runs three regular expressions per value, one of them unanchored with a lazy
 * `.*?`: 4–7% of an uncached offer-feed request in the profile, for a handful of dates per row.
 * This reads the common shape by character codes; anything else (years before 100 or after 9999,
 * BC, infinity) goes to pg's own parser.
 */
import pg from 'pg';

export const TIMESTAMPTZ_OID = 1184;

const fallback = pg.types.getTypeParser(TIMESTAMPTZ_OID, 'text') as (text: string) => Date;

const DASH = 45;
const COLON = 58;
const DOT = 46;
const PLUS = 43;

function digits(text: string, from: number, count: number): number {
  let n = 0;
  for (let i = from; i < from + count; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

export function parseTimestamptz(text: string): Date {
  const length = text.length;
  if (length >= 22 && text.charCodeAt(4) === DASH && text.charCodeAt(7) === DASH && text.charCodeAt(10) === 32 && text.charCodeAt(13) === COLON && text.charCodeAt(16) === COLON) {
    const year = digits(text, 0, 4);
    const month = digits(text, 5, 2);
    const day = digits(text, 8, 2);
    const hour = digits(text, 11, 2);
    const minute = digits(text, 14, 2);
    const second = digits(text, 17, 2);
    let i = 19;
    let ms = 0;
    if (text.charCodeAt(i) === DOT) {
      // Milliseconds are the first three digits; Date keeps no finer part (as pg's parser).
      let scale = 100;
      for (i++; i < length; i++) {
        const d = text.charCodeAt(i) - 48;
        if (d < 0 || d > 9) break;
        ms += d * scale;
        scale = scale >= 10 ? scale / 10 : 0;
      }
    }
    const sign = text.charCodeAt(i);
    if (year >= 100 && month >= 0 && day >= 0 && hour >= 0 && minute >= 0 && second >= 0 && (sign === PLUS || sign === DASH)) {
      // ±HH, then :MM and :SS when they are not zero.
      let offset = digits(text, i + 1, 2) * 3600;
      i += 3;
      for (let unit = 60; unit >= 1 && i < length && offset >= 0; unit /= 60, i += 3) {
        const part = text.charCodeAt(i) === COLON ? digits(text, i + 1, 2) : -1;
        offset = part < 0 ? -1 : offset + part * unit;
      }
      if (offset >= 0 && i === length) {
        return new Date(Date.UTC(year, month - 1, day, hour, minute, second, ms) - (sign === PLUS ? offset : -offset) * 1000);
      }
    }
  }
  return fallback(text);
}
