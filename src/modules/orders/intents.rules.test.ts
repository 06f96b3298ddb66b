import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  buyAllowedBy,
  confirmAllowedBy,
  holdsUnit,
  type IntentEvent,
  type IntentStatus,
  isOpen,
  isTerminal,
  TERMINAL_STATUSES,
  transitionIntent,
  withinDailyLimit,
} from './intents.rules.js';

// Property runs are replayable: FC_SEED=<seed> npx vitest run … reproduces a failure.
const seed = process.env.FC_SEED ? Number(process.env.FC_SEED) : Math.floor(Math.random() * 2 ** 31);
console.log(`fast-check seed: ${seed}`);
const runs = { seed, numRuns: 1000 };

const expiresAt = new Date('2026-12-02T09:15:00Z');
const before = new Date(expiresAt.getTime() - 60_000);
const after = new Date(expiresAt.getTime() + 1);
const ALL: IntentStatus[] = ['AWAITING_CONFIRMATION', 'CONFIRMED', 'CHARGED', 'DECLINED', 'EXPIRED', 'CANCELLED'];
const intent = (status: IntentStatus) => ({ status, expiresAt });
const held = { releasesUnit: false, sellsUnit: false };

describe('confirming', () => {
  it('confirms an awaiting intent inside the window, the unit still held', () => {
    expect(transitionIntent(intent('AWAITING_CONFIRMATION'), { type: 'CONFIRM', at: before, via: 'POST' })).toEqual({ ok: true, status: 'CONFIRMED', ...held });
  });
  it('counts a confirm at exactly the end of the window', () => {
    expect(transitionIntent(intent('AWAITING_CONFIRMATION'), { type: 'CONFIRM', at: expiresAt, via: 'APP' })).toMatchObject({ ok: true, status: 'CONFIRMED' });
  });
  it('refuses a confirm one millisecond after the window as INTENT_EXPIRED', () => {
    expect(transitionIntent(intent('AWAITING_CONFIRMATION'), { type: 'CONFIRM', at: after, via: 'POST' })).toEqual({ ok: false, reason: 'INTENT_EXPIRED' });
  });
  it('refuses a confirm of an intent the expiry job already expired as INTENT_EXPIRED', () => {
    expect(transitionIntent(intent('EXPIRED'), { type: 'CONFIRM', at: before, via: 'POST' })).toEqual({ ok: false, reason: 'INTENT_EXPIRED' });
  });
  it.each(['CONFIRMED', 'CHARGED', 'DECLINED', 'CANCELLED'] as const)('refuses a confirm of a %s intent as INTENT_NOT_OPEN', (status) => {
    expect(transitionIntent(intent(status), { type: 'CONFIRM', at: before, via: 'APP' })).toEqual({ ok: false, reason: 'INTENT_NOT_OPEN' });
  });
});

describe('expiring and cancelling', () => {
  it('expires an awaiting intent after the window and releases its unit', () => {
    expect(transitionIntent(intent('AWAITING_CONFIRMATION'), { type: 'EXPIRE', at: after })).toEqual({ ok: true, status: 'EXPIRED', releasesUnit: true, sellsUnit: false });
  });
  it('does not expire an intent inside its window, nor at its last instant', () => {
    for (const at of [before, expiresAt])
      expect(transitionIntent(intent('AWAITING_CONFIRMATION'), { type: 'EXPIRE', at })).toEqual({ ok: false, reason: 'WINDOW_STILL_OPEN' });
  });
  it('does not expire a confirmed intent: its charge is in flight and keeps the unit', () => {
    expect(transitionIntent(intent('CONFIRMED'), { type: 'EXPIRE', at: after })).toEqual({ ok: false, reason: 'INTENT_NOT_OPEN' });
  });
  it.each(['USER', 'HANDLE_MOVED'] as const)('cancels an awaiting intent (%s) and releases its unit', (reason) => {
    expect(transitionIntent(intent('AWAITING_CONFIRMATION'), { type: 'CANCEL', reason })).toEqual({ ok: true, status: 'CANCELLED', releasesUnit: true, sellsUnit: false });
  });
  it('does not cancel a confirmed intent', () => {
    expect(transitionIntent(intent('CONFIRMED'), { type: 'CANCEL', reason: 'HANDLE_MOVED' })).toEqual({ ok: false, reason: 'INTENT_NOT_OPEN' });
  });
});

describe('charge outcomes', () => {
  it('an approved charge makes a confirmed intent CHARGED and sells the held unit', () => {
    expect(transitionIntent(intent('CONFIRMED'), { type: 'CHARGE_APPROVED' })).toEqual({ ok: true, status: 'CHARGED', releasesUnit: false, sellsUnit: true });
  });
  it('a declined charge makes it DECLINED and releases the unit', () => {
    expect(transitionIntent(intent('CONFIRMED'), { type: 'CHARGE_DECLINED', code: 'insufficient_funds' })).toEqual({ ok: true, status: 'DECLINED', releasesUnit: true, sellsUnit: false });
  });
  it.each(['CHARGE_RETRYABLE', 'CHARGE_UNKNOWN'] as const)('%s leaves it CONFIRMED with the unit held, for a retry with the same key', (type) => {
    expect(transitionIntent(intent('CONFIRMED'), { type })).toEqual({ ok: true, status: 'CONFIRMED', ...held });
  });
  it('an approval does not count after the window either: the charge was started inside it', () => {
    expect(transitionIntent({ status: 'CONFIRMED', expiresAt: new Date(0) }, { type: 'CHARGE_APPROVED' })).toMatchObject({ ok: true, status: 'CHARGED' });
  });
  it.each(['AWAITING_CONFIRMATION', 'CHARGED', 'DECLINED', 'EXPIRED', 'CANCELLED'] as const)('a charge outcome for a %s intent is refused as NO_CHARGE_PENDING', (status) => {
    expect(transitionIntent(intent(status), { type: 'CHARGE_APPROVED' })).toEqual({ ok: false, reason: 'NO_CHARGE_PENDING' });
  });
});

describe('statuses', () => {
  it('has four terminal states, open only while awaiting confirmation, and a unit held until terminal', () => {
    expect([...TERMINAL_STATUSES].sort()).toEqual(['CANCELLED', 'CHARGED', 'DECLINED', 'EXPIRED']);
    expect(ALL.filter(isOpen)).toEqual(['AWAITING_CONFIRMATION']);
    expect(ALL.filter(holdsUnit)).toEqual(['AWAITING_CONFIRMATION', 'CONFIRMED']);
    for (const s of ALL) expect(isTerminal(s)).toBe(!holdsUnit(s));
  });
});

describe('hashtag settings', () => {
  it('OFF refuses buy posts and every confirmation', () => {
    expect(buyAllowedBy('OFF')).toBe(false);
    expect(confirmAllowedBy('OFF', 'POST')).toBe(false);
    expect(confirmAllowedBy('OFF', 'APP')).toBe(false);
  });
  it('CONFIRM_IN_APP takes an app confirmation only: a post never charges', () => {
    expect(buyAllowedBy('CONFIRM_IN_APP')).toBe(true);
    expect(confirmAllowedBy('CONFIRM_IN_APP', 'POST')).toBe(false);
    expect(confirmAllowedBy('CONFIRM_IN_APP', 'APP')).toBe(true);
  });
  it('CONFIRM_BY_POST takes a post or the app', () => {
    expect(buyAllowedBy('CONFIRM_BY_POST')).toBe(true);
    expect(confirmAllowedBy('CONFIRM_BY_POST', 'POST')).toBe(true);
    expect(confirmAllowedBy('CONFIRM_BY_POST', 'APP')).toBe(true);
  });
  it('allows spending up to the daily limit exactly, not a minor unit more; null is no limit', () => {
    expect(withinDailyLimit(3500, 1500, 5000)).toBe(true);
    expect(withinDailyLimit(3501, 1500, 5000)).toBe(false);
    expect(withinDailyLimit(0, 5001, 5000)).toBe(false);
    expect(withinDailyLimit(0, 0, 0)).toBe(true);
    expect(withinDailyLimit(10 ** 9, 10 ** 9, null)).toBe(true);
  });
});

describe('properties', () => {
  const offset = fc.integer({ min: -120_000, max: 120_000 }).map((ms) => new Date(expiresAt.getTime() + ms));
  const event: fc.Arbitrary<IntentEvent> = fc.oneof(
    fc.record({ type: fc.constant('CONFIRM' as const), at: offset, via: fc.constantFrom('POST' as const, 'APP' as const) }),
    fc.constant({ type: 'CHARGE_APPROVED' as const }),
    fc.record({ type: fc.constant('CHARGE_DECLINED' as const), code: fc.constantFrom('generic_decline', 'insufficient_funds') }),
    fc.constant({ type: 'CHARGE_RETRYABLE' as const }),
    fc.constant({ type: 'CHARGE_UNKNOWN' as const }),
    fc.record({ type: fc.constant('EXPIRE' as const), at: offset }),
    fc.record({ type: fc.constant('CANCEL' as const), reason: fc.constantFrom('USER' as const, 'HANDLE_MOVED' as const) }),
  );

  it('releases or sells the unit at most once, never both, and exactly once by the time the intent ends', () => {
    fc.assert(
      fc.property(fc.array(event, { maxLength: 30 }), (events) => {
        let status: IntentStatus = 'AWAITING_CONFIRMATION';
        let released = 0;
        let sold = 0;
        for (const e of events) {
          const t = transitionIntent({ status, expiresAt }, e);
          if (!t.ok) continue;
          expect(t.releasesUnit && t.sellsUnit).toBe(false);
          released += Number(t.releasesUnit);
          sold += Number(t.sellsUnit);
          status = t.status;
        }
        expect(released + sold).toBeLessThanOrEqual(1);
        expect(released + sold === 1).toBe(isTerminal(status));
        expect(sold === 1).toBe(status === 'CHARGED');
      }),
      runs,
    );
  });
  it('changes nothing once the intent is in a terminal state', () => {
    fc.assert(
      fc.property(fc.constantFrom(...TERMINAL_STATUSES), fc.array(event, { minLength: 1, maxLength: 10 }), (status, events) => {
        for (const e of events) expect(transitionIntent({ status, expiresAt }, e).ok).toBe(false);
      }),
      runs,
    );
  });
  it('reaches CHARGED only by a confirm inside the window, then retries or unknowns, then an approval', () => {
    fc.assert(
      fc.property(fc.array(event, { maxLength: 30 }), (events) => {
        let status: IntentStatus = 'AWAITING_CONFIRMATION';
        const accepted: IntentEvent[] = [];
        for (const e of events) {
          const t = transitionIntent({ status, expiresAt }, e);
          if (!t.ok) continue;
          accepted.push(e);
          status = t.status;
        }
        if (status !== 'CHARGED') return;
        const [first, ...rest] = accepted;
        expect(first?.type).toBe('CONFIRM');
        expect(first?.type === 'CONFIRM' && first.at.getTime() <= expiresAt.getTime()).toBe(true);
        expect(rest.at(-1)?.type).toBe('CHARGE_APPROVED');
        for (const e of rest.slice(0, -1)) expect(['CHARGE_RETRYABLE', 'CHARGE_UNKNOWN']).toContain(e.type);
      }),
      runs,
    );
  });
  it('at every instant an awaiting intent can either be confirmed or expire, never both', () => {
    fc.assert(
      fc.property(offset, (at) => {
        const confirm = transitionIntent(intent('AWAITING_CONFIRMATION'), { type: 'CONFIRM', at, via: 'APP' });
        const expire = transitionIntent(intent('AWAITING_CONFIRMATION'), { type: 'EXPIRE', at });
        expect(confirm.ok !== expire.ok).toBe(true);
      }),
      runs,
    );
  });
  it('the daily limit holds: whatever was allowed, the total stays within the limit', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 10_000 }), { maxLength: 30 }), fc.integer({ min: 0, max: 50_000 }), (prices, limit) => {
        let spent = 0;
        for (const price of prices) if (withinDailyLimit(spent, price, limit)) spent += price;
        expect(spent).toBeLessThanOrEqual(limit);
      }),
      runs,
    );
  });
});
