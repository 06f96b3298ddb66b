/**
 * The sandbox gateway's test cards: which number gets which answer, as the card networks' own
 * sandboxes document theirs. Pure rules, printed by the README and the seed from this one table.
 * Any other number is approved, so every card a user links can buy in the sandbox.
 */
import type { ChargeDeclineCode } from './payment-gateway.js';

export type SandboxBehaviour =
  | { kind: 'APPROVE' }
  | { kind: 'DECLINE'; code: ChargeDeclineCode }
  /** Fails retryably on the first attempt of a key (nothing charged), approves on the retry. */
  | { kind: 'RETRYABLE_ONCE' }
  /** Charges on the first attempt but the answer is lost (UNKNOWN); the retry answers APPROVED. */
  | { kind: 'ANSWER_LOST_ONCE' };

export interface SandboxTestCard {
  /** As a person types it, in groups of four. */
  number: string;
  network: 'VISA' | 'MASTERCARD';
  /** The answer in a few words, e.g. `DECLINED (INSUFFICIENT_FUNDS)`. */
  outcome: string;
  description: string;
  behaviour: SandboxBehaviour;
}

export const SANDBOX_TEST_CARDS: readonly SandboxTestCard[] = [
  {
    number: '4242 4242 4242 4242',
    network: 'VISA',
    outcome: 'APPROVED',
    description: 'Every charge is approved.',
    behaviour: { kind: 'APPROVE' },
  },
  {
    number: '5555 5555 5555 4444',
    network: 'MASTERCARD',
    outcome: 'APPROVED',
    description: 'Every charge is approved.',
    behaviour: { kind: 'APPROVE' },
  },
  {
    number: '4000 0000 0000 0002',
    network: 'VISA',
    outcome: 'DECLINED (GENERIC)',
    description: 'Every charge is declined without a reason.',
    behaviour: { kind: 'DECLINE', code: 'GENERIC' },
  },
  {
    number: '4000 0000 0000 9995',
    network: 'VISA',
    outcome: 'DECLINED (INSUFFICIENT_FUNDS)',
    description: 'Every charge is declined for insufficient funds.',
    behaviour: { kind: 'DECLINE', code: 'INSUFFICIENT_FUNDS' },
  },
  {
    number: '4000 0000 0000 0341',
    network: 'VISA',
    outcome: 'DECLINED (CARD_DECLINED)',
    description: 'Links fine, but every charge is declined.',
    behaviour: { kind: 'DECLINE', code: 'CARD_DECLINED' },
  },
  {
    number: '4000 0000 0000 0119',
    network: 'VISA',
    outcome: 'RETRYABLE, then APPROVED',
    description: 'The first attempt of an idempotency key fails retryably (nothing charged); the retry with the same key is approved.',
    behaviour: { kind: 'RETRYABLE_ONCE' },
  },
  {
    number: '4000 0000 0000 0077',
    network: 'VISA',
    outcome: 'UNKNOWN, then APPROVED',
    description:
      'The charge goes through but its answer is lost once (UNKNOWN, as after a timeout); the retry with the same key answers APPROVED with the same reference: one charge.',
    behaviour: { kind: 'ANSWER_LOST_ONCE' },
  },
];

const BY_DIGITS: ReadonlyMap<string, SandboxBehaviour> = new Map(
  SANDBOX_TEST_CARDS.map((card) => [card.number.replaceAll(' ', ''), card.behaviour]),
);

/** What the sandbox does for a card number (digits compared, spaces and dashes ignored); others approve. */
export function sandboxBehaviourOf(number: string): SandboxBehaviour {
  return BY_DIGITS.get(number.replace(/[\s-]/g, '')) ?? { kind: 'APPROVE' };
}

export type SandboxDecision =
  | { status: 'APPROVED'; answerLost: boolean }
  | { status: 'DECLINED'; code: ChargeDeclineCode }
  | { status: 'RETRYABLE' };

/** The sandbox's answer to attempt `attempt` (1 for the first) of one idempotency key. */
export function decideSandboxCharge(behaviour: SandboxBehaviour, attempt: number): SandboxDecision {
  switch (behaviour.kind) {
    case 'APPROVE':
      return { status: 'APPROVED', answerLost: false };
    case 'DECLINE':
      return { status: 'DECLINED', code: behaviour.code };
    case 'RETRYABLE_ONCE':
      return attempt === 1 ? { status: 'RETRYABLE' } : { status: 'APPROVED', answerLost: false };
    case 'ANSWER_LOST_ONCE':
      return { status: 'APPROVED', answerLost: attempt === 1 };
  }
}
