import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Candidate,
  chooseOffer,
  type Evaluation,
  evaluateOffer,
  expectedCreditAt,
  type OfferTerms,
  type PurchaseFacts,
  rewardAfterRefund,
  rewardFor,
  weekdayIn,
} from './cashback.rules.js';

const at = (iso: string) => new Date(iso);

// Property runs are replayable: FC_SEED=<seed> npx vitest run … reproduces a failure.
const seed = process.env.FC_SEED ? Number(process.env.FC_SEED) : Math.floor(Math.random() * 2 ** 31);
console.log(`fast-check seed: ${seed}`);
const runs = { seed, numRuns: 300 };

function offer(overrides: Partial<OfferTerms> = {}): OfferTerms {
  return {
    id: '00000000-0000-0000-0000-000000000001',
    created_at: at('2026-11-01T00:00:00Z'),
    currency: 'USD',
    reward_type: 'PERCENT',
    reward_basis_points: 1000,
    reward_amount: null,
    max_reward: null,
    min_spend: null,
    starts_at: at('2026-12-01T00:00:00Z'),
    ends_at: at('2026-12-31T00:00:00Z'),
    days_of_week: [],
    channels: ['IN_STORE', 'ONLINE'],
    countries: ['US'],
    activation_required: false,
    per_user_limit: null,
    ...overrides,
  };
}

function purchase(overrides: Partial<PurchaseFacts> = {}): PurchaseFacts {
  return {
    amount: 5000,
    currency: 'USD',
    occurredAt: at('2026-12-10T18:00:00Z'),
    channel: 'IN_STORE',
    country: 'US',
    timezone: 'America/New_York',
    activatedAt: null,
    rewardsHeld: 0,
    ...overrides,
  };
}

const qualified = (reward: number): Evaluation => ({ qualified: true, reward });
const refused = (reason: Exclude<Evaluation, { qualified: true }>['reason']): Evaluation => ({ qualified: false, reason });
const candidate = (o: OfferTerms, evaluation: Evaluation, budgetRemaining = 1_000_000): Candidate => ({ offer: o, evaluation, budgetRemaining });

describe('rewardFor', () => {
  it('rounds a percentage reward down to the minor unit', () => {
    expect(rewardFor(offer({ reward_basis_points: 1000 }), 999)).toBe(99);
    expect(rewardFor(offer({ reward_basis_points: 1250 }), 1999)).toBe(249);
  });
  it('caps a percentage reward at the max reward per transaction', () => {
    expect(rewardFor(offer({ max_reward: 300 }), 2999)).toBe(299);
    expect(rewardFor(offer({ max_reward: 300 }), 3000)).toBe(300);
    expect(rewardFor(offer({ max_reward: 300 }), 50_000)).toBe(300);
  });
  it('gives the fixed reward whatever the amount', () => {
    const fixed = offer({ reward_type: 'FIXED', reward_basis_points: null, reward_amount: 500 });
    expect(rewardFor(fixed, 1)).toBe(500);
    expect(rewardFor(fixed, 1_000_000)).toBe(500);
  });
  it('gives nothing below the minimum spend and the full reward at exactly the minimum spend', () => {
    const o = offer({ min_spend: 4000 });
    expect(rewardFor(o, 3999)).toBe(0);
    expect(rewardFor(o, 4000)).toBe(400);
  });
  it('gives nothing on a zero or negative amount, even for a fixed reward', () => {
    const fixed = offer({ reward_type: 'FIXED', reward_basis_points: null, reward_amount: 500 });
    expect(rewardFor(fixed, 0)).toBe(0);
    expect(rewardFor(offer(), -5000)).toBe(0);
  });
});

describe('weekdayIn', () => {
  it('numbers days ISO-style, Monday 1 to Sunday 7', () => {
    expect(weekdayIn(at('2026-03-02T12:00:00Z'), 'UTC')).toBe(1);
    expect(weekdayIn(at('2026-03-01T12:00:00Z'), 'UTC')).toBe(7);
  });
  it("reads the day in the given time zone, not UTC's", () => {
    const mondayUtc = at('2026-03-02T03:00:00Z');
    expect(weekdayIn(mondayUtc, 'America/Los_Angeles')).toBe(7); // Sunday 19:00
    expect(weekdayIn(mondayUtc, 'Asia/Tokyo')).toBe(1); // Monday 12:00
    expect(weekdayIn(at('2026-03-01T20:00:00Z'), 'Asia/Tokyo')).toBe(1); // Sunday in UTC, Monday 05:00 in Tokyo
  });
});

describe('evaluateOffer', () => {
  it('qualifies a purchase meeting every term, with the reward of rewardFor', () => {
    expect(evaluateOffer(offer(), purchase({ amount: 5005 }))).toEqual({ qualified: true, reward: 500 });
  });
  it('is NO_LIVE_OFFER before the start, live from the start instant', () => {
    expect(evaluateOffer(offer(), purchase({ occurredAt: at('2026-11-30T23:59:59.999Z') }))).toEqual(refused('NO_LIVE_OFFER'));
    expect(evaluateOffer(offer(), purchase({ occurredAt: at('2026-12-01T00:00:00Z') })).qualified).toBe(true);
  });
  it('is NO_LIVE_OFFER at and after the end instant, live just before', () => {
    expect(evaluateOffer(offer(), purchase({ occurredAt: at('2026-12-30T23:59:59.999Z') })).qualified).toBe(true);
    expect(evaluateOffer(offer(), purchase({ occurredAt: at('2026-12-31T00:00:00Z') }))).toEqual(refused('NO_LIVE_OFFER'));
    expect(evaluateOffer(offer(), purchase({ occurredAt: at('2027-01-15T00:00:00Z') }))).toEqual(refused('NO_LIVE_OFFER'));
  });
  it("is CHANNEL_NOT_ELIGIBLE when the location's channel is not covered", () => {
    expect(evaluateOffer(offer({ channels: ['ONLINE'] }), purchase({ channel: 'IN_STORE' }))).toEqual(refused('CHANNEL_NOT_ELIGIBLE'));
    expect(evaluateOffer(offer({ channels: ['ONLINE'] }), purchase({ channel: 'ONLINE' })).qualified).toBe(true);
  });
  it("is COUNTRY_NOT_ELIGIBLE when the location's country is not covered", () => {
    expect(evaluateOffer(offer({ countries: ['US', 'CA'] }), purchase({ country: 'GB' }))).toEqual(refused('COUNTRY_NOT_ELIGIBLE'));
    expect(evaluateOffer(offer({ countries: ['US', 'CA'] }), purchase({ country: 'CA' })).qualified).toBe(true);
  });
  it("is CURRENCY_MISMATCH when the transaction's currency is not the offer's", () => {
    expect(evaluateOffer(offer(), purchase({ currency: 'EUR' }))).toEqual(refused('CURRENCY_MISMATCH'));
  });
  it("is OUTSIDE_SCHEDULE on a day the offer does not run, in the location's time zone", () => {
    const mondaysOnly = offer({ days_of_week: [1] });
    const mondayTuesdayBoundary = at('2026-12-08T02:00:00Z'); // Tuesday in UTC, Monday 18:00 in Los Angeles
    expect(evaluateOffer(mondaysOnly, purchase({ occurredAt: mondayTuesdayBoundary, timezone: 'America/Los_Angeles' })).qualified).toBe(true);
    expect(evaluateOffer(mondaysOnly, purchase({ occurredAt: mondayTuesdayBoundary, timezone: 'Asia/Tokyo' }))).toEqual(
      refused('OUTSIDE_SCHEDULE'),
    );
    expect(evaluateOffer(mondaysOnly, purchase({ occurredAt: mondayTuesdayBoundary, timezone: 'UTC' }))).toEqual(refused('OUTSIDE_SCHEDULE'));
  });
  it('runs every day when no days of the week are set', () => {
    for (let day = 1; day <= 7; day++) {
      expect(evaluateOffer(offer(), purchase({ occurredAt: at(`2026-12-${String(6 + day).padStart(2, '0')}T12:00:00Z`) })).qualified).toBe(true);
    }
  });
  it('is NOT_ACTIVATED when activation is required and the user never activated', () => {
    expect(evaluateOffer(offer({ activation_required: true }), purchase({ activatedAt: null }))).toEqual(refused('NOT_ACTIVATED'));
  });
  it('is NOT_ACTIVATED when the user activated after the purchase, and counts activation at the purchase instant', () => {
    const p = purchase();
    const t = p.occurredAt.getTime();
    const o = offer({ activation_required: true });
    expect(evaluateOffer(o, { ...p, activatedAt: new Date(t + 1) })).toEqual(refused('NOT_ACTIVATED'));
    expect(evaluateOffer(o, { ...p, activatedAt: new Date(t) }).qualified).toBe(true);
    expect(evaluateOffer(o, { ...p, activatedAt: new Date(t - 86_400_000) }).qualified).toBe(true);
  });
  it('does not ask for activation when the offer does not require it', () => {
    expect(evaluateOffer(offer({ activation_required: false }), purchase({ activatedAt: null })).qualified).toBe(true);
  });
  it('is BELOW_MIN_SPEND under the minimum spend, and qualifies at exactly the minimum spend', () => {
    const o = offer({ min_spend: 2500 });
    expect(evaluateOffer(o, purchase({ amount: 2499 }))).toEqual(refused('BELOW_MIN_SPEND'));
    expect(evaluateOffer(o, purchase({ amount: 2500 }))).toEqual({ qualified: true, reward: 250 });
  });
  it('is BELOW_MIN_SPEND when the percentage reward rounds down to 0', () => {
    expect(evaluateOffer(offer({ reward_basis_points: 1000 }), purchase({ amount: 9 }))).toEqual(refused('BELOW_MIN_SPEND'));
    expect(evaluateOffer(offer({ reward_basis_points: 1000 }), purchase({ amount: 10 }))).toEqual({ qualified: true, reward: 1 });
  });
  it('is USER_LIMIT_REACHED once the user holds as many rewards as the per-user limit', () => {
    const o = offer({ per_user_limit: 2 });
    expect(evaluateOffer(o, purchase({ rewardsHeld: 1 })).qualified).toBe(true);
    expect(evaluateOffer(o, purchase({ rewardsHeld: 2 }))).toEqual(refused('USER_LIMIT_REACHED'));
  });
  it('reports the first failing check in the check order', () => {
    const everythingWrong = purchase({ channel: 'ONLINE', country: 'GB', currency: 'EUR', amount: 1, rewardsHeld: 9 });
    const o = offer({ channels: ['IN_STORE'], days_of_week: [6], activation_required: true, min_spend: 100, per_user_limit: 1 });
    expect(evaluateOffer(o, everythingWrong)).toEqual(refused('CHANNEL_NOT_ELIGIBLE'));
    expect(evaluateOffer(o, { ...everythingWrong, channel: 'IN_STORE' })).toEqual(refused('COUNTRY_NOT_ELIGIBLE'));
    expect(evaluateOffer(o, { ...everythingWrong, channel: 'IN_STORE', country: 'US' })).toEqual(refused('CURRENCY_MISMATCH'));
    expect(evaluateOffer(o, { ...everythingWrong, channel: 'IN_STORE', country: 'US', currency: 'USD' })).toEqual(refused('OUTSIDE_SCHEDULE'));
    expect(evaluateOffer({ ...o, days_of_week: [] }, { ...everythingWrong, channel: 'IN_STORE', country: 'US', currency: 'USD' })).toEqual(
      refused('NOT_ACTIVATED'),
    );
  });
});

describe('chooseOffer', () => {
  const older = offer({ id: '00000000-0000-0000-0000-00000000000a', created_at: at('2026-10-01T00:00:00Z') });
  const newer = offer({ id: '00000000-0000-0000-0000-00000000000b', created_at: at('2026-11-01T00:00:00Z') });

  it('is NO_LIVE_OFFER with no candidates at all', () => {
    expect(chooseOffer([])).toEqual({ qualified: false, reason: 'NO_LIVE_OFFER' });
  });
  it('picks the highest reward', () => {
    const choice = chooseOffer([candidate(newer, qualified(300)), candidate(older, qualified(500))]);
    expect(choice).toEqual({ qualified: true, offer: older, reward: 500, limitedByBudget: false });
  });
  it('picks the newest offer on a tie, whatever the order', () => {
    expect(chooseOffer([candidate(older, qualified(400)), candidate(newer, qualified(400))])).toMatchObject({ offer: newer });
    expect(chooseOffer([candidate(newer, qualified(400)), candidate(older, qualified(400))])).toMatchObject({ offer: newer });
  });
  it('picks the greater id on a tie with the same creation instant', () => {
    const twin = { ...older, created_at: newer.created_at };
    expect(chooseOffer([candidate(newer, qualified(400)), candidate(twin, qualified(400))])).toMatchObject({ offer: newer });
    expect(chooseOffer([candidate(twin, qualified(400)), candidate(newer, qualified(400))])).toMatchObject({ offer: newer });
  });
  it('cuts a reward that does not fit the remaining budget to what is left, and says so', () => {
    expect(chooseOffer([candidate(older, qualified(500), 120)])).toEqual({ qualified: true, offer: older, reward: 120, limitedByBudget: true });
    expect(chooseOffer([candidate(older, qualified(500), 500)])).toEqual({ qualified: true, offer: older, reward: 500, limitedByBudget: false });
  });
  it('compares rewards after the budget cut', () => {
    const choice = chooseOffer([candidate(newer, qualified(900), 100), candidate(older, qualified(300))]);
    expect(choice).toEqual({ qualified: true, offer: older, reward: 300, limitedByBudget: false });
  });
  it('is BUDGET_EXHAUSTED when the only qualifying offer has no budget left', () => {
    expect(chooseOffer([candidate(older, qualified(500), 0)])).toEqual({ qualified: false, reason: 'BUDGET_EXHAUSTED' });
    expect(chooseOffer([candidate(older, qualified(500), -30)])).toEqual({ qualified: false, reason: 'BUDGET_EXHAUSTED' });
  });
  it('prefers any offer with budget over an exhausted one', () => {
    expect(chooseOffer([candidate(newer, qualified(900), 0), candidate(older, qualified(1))])).toMatchObject({ offer: older, reward: 1 });
  });
  it('gives the reason of the offer that got furthest through the checks, whatever the order', () => {
    const list = [
      candidate(offer({ id: 'a' }), refused('NO_LIVE_OFFER')),
      candidate(offer({ id: 'b' }), refused('BELOW_MIN_SPEND')),
      candidate(offer({ id: 'c' }), refused('CURRENCY_MISMATCH')),
      candidate(offer({ id: 'd' }), refused('NOT_ACTIVATED')),
    ];
    expect(chooseOffer(list)).toEqual({ qualified: false, reason: 'BELOW_MIN_SPEND' });
    expect(chooseOffer([...list].reverse())).toEqual({ qualified: false, reason: 'BELOW_MIN_SPEND' });
  });
  it('ranks an exhausted budget furthest, past the user limit', () => {
    const list = [candidate(older, qualified(500), 0), candidate(newer, refused('USER_LIMIT_REACHED'))];
    expect(chooseOffer(list)).toEqual({ qualified: false, reason: 'BUDGET_EXHAUSTED' });
    expect(chooseOffer([...list].reverse())).toEqual({ qualified: false, reason: 'BUDGET_EXHAUSTED' });
  });
  it('ranks the schedule before activation and the channel before the country', () => {
    expect(chooseOffer([candidate(older, refused('NOT_ACTIVATED')), candidate(newer, refused('OUTSIDE_SCHEDULE'))])).toMatchObject({
      reason: 'NOT_ACTIVATED',
    });
    expect(chooseOffer([candidate(older, refused('CHANNEL_NOT_ELIGIBLE')), candidate(newer, refused('COUNTRY_NOT_ELIGIBLE'))])).toMatchObject({
      reason: 'COUNTRY_NOT_ELIGIBLE',
    });
  });
});

describe('rewardAfterRefund', () => {
  it('keeps the reward in proportion to what remains of the purchase, rounded down', () => {
    expect(rewardAfterRefund(500, 5000, 2000, null)).toBe(300);
    expect(rewardAfterRefund(100, 3000, 1000, null)).toBe(66);
  });
  it('keeps the whole reward when nothing is refunded', () => {
    expect(rewardAfterRefund(500, 5000, 0, 4000)).toBe(500);
  });
  it('takes the whole reward back on a full refund or an over-refund', () => {
    expect(rewardAfterRefund(500, 5000, 5000, null)).toBe(0);
    expect(rewardAfterRefund(500, 5000, 7000, null)).toBe(0);
  });
  it('takes the whole reward back when what remains falls below the minimum spend', () => {
    expect(rewardAfterRefund(500, 5000, 1001, 4000)).toBe(0);
    expect(rewardAfterRefund(500, 5000, 1000, 4000)).toBe(400);
  });
  it('stays exact when granted × remaining exceeds 2^53', () => {
    expect(rewardAfterRefund(999_999_999, 1_000_000_000, 1, null)).toBe(999_999_998);
  });
});

describe('expectedCreditAt', () => {
  it('is the return period in days after the purchase', () => {
    expect(expectedCreditAt(at('2026-12-10T18:30:00Z'), 30)).toEqual(at('2027-01-09T18:30:00Z'));
    expect(expectedCreditAt(at('2026-12-10T18:30:00Z'), 0)).toEqual(at('2026-12-10T18:30:00Z'));
  });
});

describe('properties', () => {
  const amount = fc.integer({ min: 1, max: 1_000_000_000 });
  const basisPoints = fc.integer({ min: 1, max: 10_000 });

  it('never pays more than the exact percentage, and at most one minor unit less when uncapped', () => {
    fc.assert(
      fc.property(amount, basisPoints, (a, bp) => {
        const reward = rewardFor(offer({ reward_basis_points: bp }), a);
        expect(Number.isInteger(reward)).toBe(true);
        expect(reward * 10_000).toBeLessThanOrEqual(a * bp);
        expect((reward + 1) * 10_000).toBeGreaterThan(a * bp);
      }),
      runs,
    );
  });
  it('never pays more than the max reward, nor more than the uncapped reward', () => {
    fc.assert(
      fc.property(amount, basisPoints, fc.integer({ min: 0, max: 100_000 }), (a, bp, max) => {
        const capped = rewardFor(offer({ reward_basis_points: bp, max_reward: max }), a);
        const uncapped = rewardFor(offer({ reward_basis_points: bp }), a);
        expect(capped).toBe(Math.min(uncapped, max));
      }),
      runs,
    );
  });

  const refundCase = fc
    .record({ purchase: amount, granted: fc.integer({ min: 0, max: 1_000_000_000 }), minSpend: fc.option(amount, { nil: null }) })
    .chain((r) => fc.tuple(fc.constant(r), fc.integer({ min: 0, max: r.purchase + 10 }), fc.integer({ min: 0, max: r.purchase + 10 })));

  it('shrinks the reward monotonically as more of the purchase is refunded, never above granted', () => {
    fc.assert(
      fc.property(refundCase, ([{ purchase: p, granted, minSpend }, x, y]) => {
        const [less, more] = x <= y ? [x, y] : [y, x];
        const kept = rewardAfterRefund(granted, p, less, minSpend);
        expect(rewardAfterRefund(granted, p, more, minSpend)).toBeLessThanOrEqual(kept);
        expect(kept).toBeLessThanOrEqual(granted);
        expect(kept).toBeGreaterThanOrEqual(0);
      }),
      runs,
    );
  });
  it('keeps the whole reward at no refund when the purchase met the minimum spend', () => {
    fc.assert(
      fc.property(refundCase, ([{ purchase: p, granted, minSpend }]) => {
        fc.pre(p >= (minSpend ?? 0));
        expect(rewardAfterRefund(granted, p, 0, minSpend)).toBe(granted);
      }),
      runs,
    );
  });
  it('never keeps more than the exact proportion, nor a minor unit less when above the minimum spend', () => {
    fc.assert(
      fc.property(refundCase, ([{ purchase: p, granted, minSpend }, refunded]) => {
        const kept = BigInt(rewardAfterRefund(granted, p, refunded, minSpend));
        const remaining = BigInt(Math.max(p - refunded, 0));
        expect(kept * BigInt(p) <= BigInt(granted) * remaining).toBe(true);
        if (Number(remaining) >= (minSpend ?? 0)) expect((kept + 1n) * BigInt(p) > BigInt(granted) * remaining).toBe(true);
      }),
      runs,
    );
  });

  it('never drives a budget below 0, and grants nothing more once a request is cut or refused', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 100_000 }), fc.array(fc.integer({ min: 1, max: 20_000 }), { maxLength: 60 }), (budget, requests) => {
        let remaining = budget;
        let total = 0;
        let cutOrRefused = false;
        for (const request of requests) {
          const choice = chooseOffer([candidate(offer(), qualified(request), remaining)]);
          if (choice.qualified) {
            expect(cutOrRefused).toBe(false);
            expect(choice.reward).toBe(Math.min(request, remaining));
            expect(choice.limitedByBudget).toBe(request > remaining);
            remaining -= choice.reward;
            total += choice.reward;
            if (choice.limitedByBudget) cutOrRefused = true;
          } else {
            expect(choice.reason).toBe('BUDGET_EXHAUSTED');
            cutOrRefused = true;
          }
          expect(remaining).toBeGreaterThanOrEqual(0);
          if (cutOrRefused) expect(remaining).toBe(0);
        }
        expect(total).toBeLessThanOrEqual(budget);
        expect(total + remaining).toBe(budget);
      }),
      runs,
    );
  });

  const reasons = fc.constantFrom(
    'NO_LIVE_OFFER',
    'CHANNEL_NOT_ELIGIBLE',
    'COUNTRY_NOT_ELIGIBLE',
    'CURRENCY_MISMATCH',
    'OUTSIDE_SCHEDULE',
    'NOT_ACTIVATED',
    'BELOW_MIN_SPEND',
    'USER_LIMIT_REACHED',
  ) as fc.Arbitrary<Exclude<Evaluation, { qualified: true }>['reason']>;
  const randomCandidate = fc
    .record({
      id: fc.uuid(),
      created: fc.integer({ min: 0, max: 5 }),
      evaluation: fc.oneof(fc.integer({ min: 1, max: 1000 }).map(qualified), reasons.map(refused)),
      budget: fc.integer({ min: -10, max: 1000 }),
    })
    .map(({ id, created, evaluation, budget }) =>
      candidate(offer({ id, created_at: new Date(Date.UTC(2026, 0, 1 + created)) }), evaluation, budget),
    );

  it("gives the winner a reward at least every other qualifying offer's budget-capped reward, newest on a tie", () => {
    fc.assert(
      fc.property(fc.array(randomCandidate, { maxLength: 8 }), (candidates) => {
        const capped = (c: Candidate) => (c.evaluation.qualified ? Math.min(c.evaluation.reward, Math.max(c.budgetRemaining, 0)) : 0);
        const choice = chooseOffer(candidates);
        const bestReward = Math.max(0, ...candidates.map(capped));
        if (bestReward === 0) {
          expect(choice.qualified).toBe(false);
          return;
        }
        if (!choice.qualified) throw new Error('an offer with reward and budget was refused');
        expect(choice.reward).toBe(bestReward);
        const winner = candidates.find((c) => c.offer === choice.offer);
        expect(winner && capped(winner)).toBe(choice.reward);
        for (const c of candidates) {
          expect(choice.reward).toBeGreaterThanOrEqual(capped(c));
          if (c.offer !== choice.offer && capped(c) === choice.reward) {
            const [w, o] = [choice.offer, c.offer];
            const newer = w.created_at > o.created_at || (w.created_at.getTime() === o.created_at.getTime() && w.id >= o.id);
            expect(newer).toBe(true);
          }
        }
      }),
      runs,
    );
  });
});
