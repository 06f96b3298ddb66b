/**
 * The purchase intent state machine and the buyer's hashtag settings, as pure functions
 * (DESIGN "Buy by hashtag"). No I/O, no clock: every instant is an argument. The service applies
 * a transition and its effect on the held unit of stock in one transaction; these functions
 * say whether the transition is allowed and what it does to the unit.
 *
 *   AWAITING_CONFIRMATION ─CONFIRM (in the window)─► CONFIRMED ─CHARGE_APPROVED─► CHARGED   (sells the unit)
 *          │                                          │  ▲
 *          │                                          │  └ CHARGE_RETRYABLE / CHARGE_UNKNOWN (unit stays held)
 *          │                                          └──CHARGE_DECLINED─► DECLINED         (releases the unit)
 *          ├─EXPIRE (after the window)─► EXPIRED                                            (releases the unit)
 *          └─CANCEL (user, or the handle moved)─► CANCELLED                                  (releases the unit)
 *
 * A buy post holds one unit when it creates the intent; the unit is then released or sold
 * exactly once, by the transition into a terminal state. Terminal states accept nothing.
 */

export type IntentStatus = 'AWAITING_CONFIRMATION' | 'CONFIRMED' | 'CHARGED' | 'DECLINED' | 'EXPIRED' | 'CANCELLED';

export type IntentEvent =
  /** A confirm hashtag posted from the buying handle, or a confirm in the app, at `at`. */
  | { type: 'CONFIRM'; at: Date; via: 'POST' | 'APP' }
  | { type: 'CHARGE_APPROVED' }
  /** The gateway's decline code (e.g. `insufficient_funds`), kept on the intent. */
  | { type: 'CHARGE_DECLINED'; code: string }
  /** The gateway failed in a way worth retrying: the retry job calls again with the same key. */
  | { type: 'CHARGE_RETRYABLE' }
  /** No answer (timeout, crash after sending): resolved by retrying with the same key. */
  | { type: 'CHARGE_UNKNOWN' }
  /** The expiry job, at `at`. */
  | { type: 'EXPIRE'; at: Date }
  /** The buyer cancelled, or the handle was proven by another user and so moved away from them. */
  | { type: 'CANCEL'; reason: 'USER' | 'HANDLE_MOVED' };

export type IntentEventType = IntentEvent['type'];

/** Why a transition is refused. */
export const INTENT_TRANSITION_REASONS = {
  INTENT_EXPIRED: 'The confirm window is over: the intent expired, or expires as soon as the job runs.',
  INTENT_NOT_OPEN: 'The intent is no longer awaiting confirmation (confirmed, paid, declined, expired or cancelled).',
  WINDOW_STILL_OPEN: 'The intent cannot expire before its confirm window is over.',
  NO_CHARGE_PENDING: 'A charge outcome arrived for an intent that is not confirmed and waiting for its charge.',
} as const;

export type IntentTransitionReason = keyof typeof INTENT_TRANSITION_REASONS;

export type IntentTransition =
  | {
      ok: true;
      status: IntentStatus;
      /** The held unit goes back to stock (EXPIRED, CANCELLED, DECLINED). */
      releasesUnit: boolean;
      /** The held unit is sold: it leaves stock for good and an order exists (CHARGED). */
      sellsUnit: boolean;
    }
  | { ok: false; reason: IntentTransitionReason };

/** The states an intent never leaves. */
export const TERMINAL_STATUSES: readonly IntentStatus[] = ['CHARGED', 'DECLINED', 'EXPIRED', 'CANCELLED'];

/**
 * Open: awaiting confirmation, so the buyer can still confirm or cancel it, the expiry job may
 * expire it, and a handle moving to another owner cancels it.
 */
export function isOpen(status: IntentStatus): boolean {
  return status === 'AWAITING_CONFIRMATION';
}

/** Whether the intent holds a unit of stock: open, or confirmed with its charge in flight. */
export function holdsUnit(status: IntentStatus): boolean {
  return status === 'AWAITING_CONFIRMATION' || status === 'CONFIRMED';
}

export function isTerminal(status: IntentStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

const to = (status: IntentStatus, unit: 'HOLD' | 'RELEASE' | 'SELL' = 'HOLD'): IntentTransition => ({
  ok: true,
  status,
  releasesUnit: unit === 'RELEASE',
  sellsUnit: unit === 'SELL',
});
const refuse = (reason: IntentTransitionReason): IntentTransition => ({ ok: false, reason });

/**
 * The state an event moves an intent to, or why it cannot. The window is inclusive: a confirm at
 * exactly `expiresAt` counts, and the intent expires only strictly after it, so at every instant
 * exactly one of the two is possible. Whether the confirming channel is allowed at all (the
 * buyer's hashtag setting) is confirmAllowedBy's question, asked before this one.
 */
export function transitionIntent(intent: { status: IntentStatus; expiresAt: Date }, event: IntentEvent): IntentTransition {
  const { status, expiresAt } = intent;
  switch (event.type) {
    case 'CONFIRM':
      // A late confirm hears that it was late, whether or not the expiry job got there first.
      if (status === 'EXPIRED') return refuse('INTENT_EXPIRED');
      if (status !== 'AWAITING_CONFIRMATION') return refuse('INTENT_NOT_OPEN');
      return event.at.getTime() <= expiresAt.getTime() ? to('CONFIRMED') : refuse('INTENT_EXPIRED');
    case 'EXPIRE':
      if (status !== 'AWAITING_CONFIRMATION') return refuse('INTENT_NOT_OPEN');
      return event.at.getTime() > expiresAt.getTime() ? to('EXPIRED', 'RELEASE') : refuse('WINDOW_STILL_OPEN');
    case 'CANCEL':
      // A confirmed intent's charge is already in flight: it ends by the gateway's answer.
      return status === 'AWAITING_CONFIRMATION' ? to('CANCELLED', 'RELEASE') : refuse('INTENT_NOT_OPEN');
    case 'CHARGE_APPROVED':
    case 'CHARGE_DECLINED':
    case 'CHARGE_RETRYABLE':
    case 'CHARGE_UNKNOWN':
      if (status !== 'CONFIRMED') return refuse('NO_CHARGE_PENDING');
      if (event.type === 'CHARGE_APPROVED') return to('CHARGED', 'SELL');
      if (event.type === 'CHARGE_DECLINED') return to('DECLINED', 'RELEASE');
      // Same state, unit still held: the retry job asks again with the same idempotency key.
      return to('CONFIRMED');
  }
}

/** The buyer's choice of how hashtag purchases may be confirmed. New accounts start CONFIRM_IN_APP. */
export type HashtagBuyingSetting = 'OFF' | 'CONFIRM_BY_POST' | 'CONFIRM_IN_APP';

/** Whether a buy post may create an intent at all; with OFF it is refused as HASHTAG_BUYING_OFF. */
export function buyAllowedBy(setting: HashtagBuyingSetting): boolean {
  return setting !== 'OFF';
}

/**
 * Whether a confirmation through `via` counts. CONFIRM_IN_APP takes the app only, so a hijacked
 * social account alone can never spend; CONFIRM_BY_POST takes a post or the app; OFF takes none.
 */
export function confirmAllowedBy(setting: HashtagBuyingSetting, via: 'POST' | 'APP'): boolean {
  if (setting === 'CONFIRM_BY_POST') return true;
  if (setting === 'CONFIRM_IN_APP') return via === 'APP';
  return false;
}

/**
 * Whether a purchase of `price` fits the daily limit after `spentToday` (minor units, one
 * currency); `null` is no limit. Spending exactly up to the limit is allowed.
 */
export function withinDailyLimit(spentToday: number, price: number, limit: number | null): boolean {
  return limit === null || spentToday + price <= limit;
}
