import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { backoffMs } from './backoff.js';
import { coalesce } from './coalesce.js';
import { DomainError } from './errors.js';
import { decodeGlobalId, encodeGlobalId, idOfType } from './ids.js';
import { currencyDigits, isCountry, isCurrency, isTimeZone } from './iso.js';
import { formatMoney } from './money.js';
import { decodeCursor, encodeCursor } from './pagination.js';
import { currencyCode, minorUnits, parseInput, text } from './validation.js';

const uuid = '4f6c1a2e-8b1d-4c3e-9f00-123456789abc';

describe('global ids', () => {
  it('round-trips and checks the type', () => {
    const id = encodeGlobalId('Offer', uuid);
    expect(decodeGlobalId(id)).toEqual({ typename: 'Offer', id: uuid });
    expect(idOfType(id, 'Offer')).toBe(uuid);
    expect(idOfType(id, 'Merchant')).toBeNull();
  });
  it('decodes anything malformed to null, never throwing', () => {
    for (const bad of ['', '!!!', 'T2ZmZXI6', Buffer.from('Offer:42').toString('base64'), Buffer.from(':' + uuid).toString('base64'), 'a'.repeat(500)]) {
      expect(decodeGlobalId(bad)).toBeNull();
    }
  });
});

describe('reference codes', () => {
  it('knows ISO 4217 currencies, ISO 3166 countries and IANA zones', () => {
    expect([isCurrency('USD'), isCurrency('JPY'), isCurrency('usd'), isCurrency('XYZ')]).toEqual([true, true, false, false]);
    expect([isCountry('US'), isCountry('GB'), isCountry('UK'), isCountry('EU'), isCountry('us')]).toEqual([true, true, false, false, false]);
    expect([isTimeZone('Europe/Paris'), isTimeZone('Mars/Olympus')]).toEqual([true, false]);
    expect([currencyDigits('USD'), currencyDigits('JPY'), currencyDigits('BHD')]).toEqual([2, 0, 3]);
  });
});

describe('money', () => {
  it('formats minor units exactly', () => {
    expect(formatMoney({ amount: 1234, currency: 'USD' })).toBe('$12.34');
    expect(formatMoney({ amount: 1, currency: 'USD' })).toBe('$0.01');
    expect(formatMoney({ amount: 999_999_999, currency: 'USD' })).toBe('$9,999,999.99');
    expect(formatMoney({ amount: 1200, currency: 'JPY' })).toBe('¥1,200');
    expect(formatMoney({ amount: 1005, currency: 'BHD' })).toBe('BHD\u00a01.005');
  });
});

describe('cursors', () => {
  it('round-trip and refuse values of the wrong kind', () => {
    const cursor = encodeCursor([7, uuid]);
    expect(decodeCursor(cursor, ['int', 'uuid'] as const)).toEqual([7, uuid]);
    expect(() => decodeCursor(cursor, ['date', 'uuid'] as const)).toThrow(/cursor is not valid/);
    expect(() => decodeCursor('%%%', ['int', 'uuid'] as const)).toThrow(/cursor is not valid/);
  });
});

describe('parseInput', () => {
  const schema = z.object({ name: text(1, 5), currency: currencyCode(), amount: minorUnits(0), items: z.array(z.object({ n: text(1, 2) })) });
  it('reports every problem with its field path and code', () => {
    let error: unknown;
    try {
      parseInput(schema, { name: 'toolong', currency: 'ABC', amount: -5, items: [{ n: 'ok' }, { n: '' }] });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).userErrors).toEqual([
      { field: ['name'], code: 'INVALID_LENGTH', message: 'name must be at most 5 characters' },
      { field: ['currency'], code: 'INVALID_CURRENCY', message: 'currency must be an ISO 4217 currency code such as USD' },
      { field: ['amount'], code: 'OUT_OF_RANGE', message: 'amount must be at least 0 minor units' },
      { field: ['items', '1', 'n'], code: 'INVALID_LENGTH', message: 'n must not be empty' },
    ]);
  });
  it('names a list item by its list and index, and says plainly that a field cannot be null', () => {
    const lists = z.object({ countries: z.array(text(2, 2)), title: text(1, 5).optional() });
    let error: unknown;
    try {
      parseInput(lists, { countries: ['US', 'ZZZ'], title: null });
    } catch (e) {
      error = e;
    }
    expect((error as DomainError).userErrors).toEqual([
      { field: ['countries', '1'], code: 'INVALID_LENGTH', message: 'countries[1] must be at most 2 characters' },
      { field: ['title'], code: 'INVALID_INPUT', message: 'title cannot be null; leave it out instead' },
    ]);
  });

  it('returns trimmed, typed data when valid', () => {
    expect(parseInput(schema, { name: ' ab ', currency: 'EUR', amount: 0, items: [] })).toEqual({ name: 'ab', currency: 'EUR', amount: 0, items: [] });
  });
});

describe('backoff', () => {
  const plan = { baseMs: 100, capMs: 1000 };
  it('starts at the base, doubles per attempt and stops at the cap', () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffMs(n, plan, 0))).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(backoffMs(10_000, plan, 0)).toBe(1000);
  });
  it('takes up to its jitter off, never more', () => {
    expect(backoffMs(2, { ...plan, jitter: 0.1 }, 0.999)).toBe(180);
    expect(backoffMs(2, { ...plan, jitter: 1 }, 0.5)).toBe(100);
  });
});

describe('coalesce', () => {
  /** A run the test finishes by hand: each call of `run` records its inputs and waits. */
  function controlledRuns() {
    const runs: { key: string; inputs: number[]; finish: () => void; fail: (error: Error) => void }[] = [];
    const run = (key: string, inputs: number[]) =>
      new Promise<number[]>((resolve, reject) =>
        runs.push({ key, inputs, finish: () => resolve(inputs.map((n) => n * 10)), fail: reject }),
      );
    return { runs, run };
  }

  it('runs a call at once when its key is idle, and the calls that arrive meanwhile together in the next run', async () => {
    const { runs, run } = controlledRuns();
    const call = coalesce(run);
    const first = call('a', 1);
    expect(runs.map((r) => r.inputs)).toEqual([[1]]);
    const rest = [call('a', 2), call('a', 3), call('b', 4)];
    // Another key is idle: it runs at once; key a's calls wait for its run in flight.
    expect(runs.map((r) => [r.key, r.inputs])).toEqual([['a', [1]], ['b', [4]]]);
    runs[0]!.finish();
    expect(await first).toBe(10);
    await expect.poll(() => runs.length).toBe(3);
    expect(runs[2]).toMatchObject({ key: 'a', inputs: [2, 3] });
    runs[2]!.finish();
    runs[1]!.finish();
    expect(await Promise.all(rest)).toEqual([20, 30, 40]);
  });

  it('takes waiting calls up to the weight limit, and always at least one', async () => {
    const { runs, run } = controlledRuns();
    const call = coalesce(run, { weight: (n) => n, max: 5 });
    const calls = [call('k', 1), call('k', 2), call('k', 3), call('k', 9), call('k', 1)];
    runs[0]!.finish();
    await expect.poll(() => runs.length).toBe(2);
    runs[1]!.finish();
    await expect.poll(() => runs.length).toBe(3);
    runs[2]!.finish();
    await expect.poll(() => runs.length).toBe(4);
    runs[3]!.finish();
    expect(runs.map((r) => r.inputs)).toEqual([[1], [2, 3], [9], [1]]);
    expect(await Promise.all(calls)).toEqual([10, 20, 30, 90, 10]);
  });

  it('fails every call of a failed run with its error, and runs the next calls all the same', async () => {
    const { runs, run } = controlledRuns();
    const call = coalesce(run);
    const first = call('k', 1);
    const second = [call('k', 2), call('k', 3)];
    const failure = new Error('store down');
    runs[0]!.fail(failure);
    await expect(first).rejects.toBe(failure);
    await expect.poll(() => runs.length).toBe(2);
    runs[1]!.fail(failure);
    for (const c of second) await expect(c).rejects.toBe(failure);
    const third = call('k', 4);
    await expect.poll(() => runs.length).toBe(3);
    runs[2]!.finish();
    expect(await third).toBe(40);
  });
});
