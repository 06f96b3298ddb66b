import { describe, expect, it } from 'vitest';
import { offerStatus, rewardSummary } from './offers.rules.js';

const at = (iso: string) => new Date(iso);
const base = {
  state: 'PUBLISHED' as const,
  starts_at: at('2026-12-01T00:00:00Z'),
  ends_at: at('2026-12-31T00:00:00Z'),
  budget_remaining: 1000 as number | null,
  quantity_remaining: null as number | null,
};

describe('offerStatus', () => {
  it('is SCHEDULED before the start and LIVE from the start instant', () => {
    expect(offerStatus(base, at('2026-11-30T23:59:59.999Z'))).toBe('SCHEDULED');
    expect(offerStatus(base, at('2026-12-01T00:00:00Z'))).toBe('LIVE');
  });
  it('is EXPIRED from the end instant, whether published or paused', () => {
    expect(offerStatus(base, at('2026-12-30T23:59:59.999Z'))).toBe('LIVE');
    expect(offerStatus(base, at('2026-12-31T00:00:00Z'))).toBe('EXPIRED');
    expect(offerStatus({ ...base, state: 'PAUSED' }, at('2027-01-01T00:00:00Z'))).toBe('EXPIRED');
  });
  it('is PAUSED while paused within the window', () => {
    expect(offerStatus({ ...base, state: 'PAUSED' }, at('2026-12-10T00:00:00Z'))).toBe('PAUSED');
  });
  it('is EXHAUSTED with no budget or stock left, even before the start', () => {
    expect(offerStatus({ ...base, budget_remaining: 0 }, at('2026-12-10T00:00:00Z'))).toBe('EXHAUSTED');
    expect(offerStatus({ ...base, budget_remaining: null, quantity_remaining: 0 }, at('2026-11-10T00:00:00Z'))).toBe('EXHAUSTED');
    expect(offerStatus({ ...base, budget_remaining: null, quantity_remaining: 3 }, at('2026-12-10T00:00:00Z'))).toBe('LIVE');
  });
  it('is DRAFT whatever the time', () => {
    expect(offerStatus({ ...base, state: 'DRAFT' }, at('2027-06-01T00:00:00Z'))).toBe('DRAFT');
  });
});

describe('rewardSummary', () => {
  const offer = {
    kind: 'CASHBACK' as const,
    currency: 'USD',
    reward_type: 'PERCENT' as const,
    reward_basis_points: 1250,
    reward_amount: null,
    max_reward: 500,
    min_spend: null,
    price: null,
  };
  it('reads a capped percentage', () => expect(rewardSummary(offer)).toBe('12.5% cashback up to $5.00'));
  it('reads a fixed reward with a minimum spend', () =>
    expect(rewardSummary({ ...offer, reward_type: 'FIXED', reward_basis_points: null, reward_amount: 500, max_reward: null, min_spend: 4000 })).toBe(
      '$5.00 cashback on $40.00 or more',
    ));
  it('reads a purchase in a zero-decimal currency', () =>
    expect(rewardSummary({ ...offer, kind: 'PURCHASE', currency: 'JPY', reward_type: null, reward_basis_points: null, max_reward: null, price: 1500 })).toBe(
      'Buy for ¥1,500',
    ));
});
