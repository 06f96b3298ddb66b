import fc from 'fast-check';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { parseTimestamptz, TIMESTAMPTZ_OID } from './pg-timestamps.js';

const pgParse = pg.types.getTypeParser(TIMESTAMPTZ_OID, 'text') as (text: string) => Date;
const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** A timestamptz as Postgres prints it with DateStyle ISO (offsets to the second, fractions to the microsecond). */
const timestamptzText = fc
  .record({
    year: fc.integer({ min: 1, max: 12000 }),
    month: fc.integer({ min: 1, max: 12 }),
    day: fc.integer({ min: 1, max: 28 }),
    hour: fc.integer({ min: 0, max: 23 }),
    minute: fc.integer({ min: 0, max: 59 }),
    second: fc.integer({ min: 0, max: 59 }),
    fraction: fc.option(fc.stringMatching(/^[0-9]{1,6}$/), { nil: undefined }),
    sign: fc.constantFrom('+', '-'),
    offsetHours: fc.integer({ min: 0, max: 15 }),
    offsetMinutes: fc.option(fc.integer({ min: 0, max: 59 }), { nil: undefined }),
    offsetSeconds: fc.option(fc.integer({ min: 1, max: 59 }), { nil: undefined }),
    bc: fc.boolean(),
  })
  .map((t) => {
    const date = `${pad(t.year, 4)}-${pad(t.month)}-${pad(t.day)} ${pad(t.hour)}:${pad(t.minute)}:${pad(t.second)}`;
    const fraction = t.fraction === undefined ? '' : `.${t.fraction}`;
    const minutes = t.offsetMinutes === undefined && t.offsetSeconds === undefined ? '' : `:${pad(t.offsetMinutes ?? 0)}`;
    const seconds = t.offsetSeconds === undefined ? '' : `:${pad(t.offsetSeconds)}`;
    return `${date}${fraction}${t.sign}${pad(t.offsetHours)}${minutes}${seconds}${t.bc ? ' BC' : ''}`;
  });

describe('parseTimestamptz', () => {
  it('reads every timestamptz Postgres prints as pg does', () => {
    fc.assert(
      fc.property(timestamptzText, (text) => {
        expect(parseTimestamptz(text).getTime()).toBe(pgParse(text).getTime());
      }),
      { numRuns: 5000 },
    );
  });

  it('reads the common shapes itself', () => {
    expect(parseTimestamptz('2026-12-02 12:43:41.123456+00').toISOString()).toBe('2026-12-02T12:43:41.123Z');
    expect(parseTimestamptz('2026-03-29 01:30:00-04:30').toISOString()).toBe('2026-03-29T06:00:00.000Z');
    expect(parseTimestamptz('1900-01-01 00:00:00+00:19:32').toISOString()).toBe('1899-12-31T23:40:28.000Z');
  });

  it('leaves infinity, BC and years outside 100..9999 to pg', () => {
    for (const text of ['infinity', '-infinity', '0044-03-15 12:00:00+00 BC', '0099-01-01 00:00:00+00', '12000-01-01 00:00:00+00']) {
      expect(String(parseTimestamptz(text))).toBe(String(pgParse(text)));
    }
  });
});
