/**
 * The built-in `sandbox` payment gateway: it answers by test card number (sandbox-cards.ts) and
 * keeps its charges and refunds in its own tables, committed on their own as a remote gateway's
 * would be. Each call is one transaction that locks the idempotency key's row first, so a replay,
 * even one racing the first call, answers the stored outcome and never charges twice.
 *
 * The card number is opened (`revealNumber`) only when an attempt has to be decided, held in a
 * local variable for that decision, and never stored, logged or returned: rows keep the last 4.
 */
import { randomBytes } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type { DB, SandboxChargeRow, SandboxRefundRow } from '../../../db/types.js';
import { isCurrency } from '../../lib/iso.js';
import { PaymentRequestError } from './payment-errors.js';
import type {
  ChargeDeclineCode,
  ChargeOutcome,
  ChargeRequest,
  PaymentGateway,
  RefundDeclineCode,
  RefundOutcome,
  RefundRequest,
} from './payment-gateway.js';
import {
  addRefundedAmount,
  insertCharge,
  insertRefund,
  lockChargeByKey,
  lockChargeByReference,
  lockRefundByKey,
  recordChargeAttempt,
} from './payments.repository.js';
import { decideSandboxCharge, sandboxBehaviourOf, type SandboxDecision } from './sandbox-cards.js';

const DECLINE_MESSAGES: Record<ChargeDeclineCode, string> = {
  GENERIC: 'The card was declined.',
  INSUFFICIENT_FUNDS: 'The card has insufficient funds.',
  CARD_DECLINED: 'The card was declined by its issuer.',
  EXPIRED_CARD: 'The card has expired.',
  FRAUD_SUSPECTED: 'The issuer suspects fraud.',
};

const REFUND_DECLINE_MESSAGES: Record<RefundDeclineCode, string> = {
  UNKNOWN_CHARGE: 'No approved charge has that reference.',
  EXCEEDS_CHARGED_AMOUNT: 'The refunds would exceed the charged amount.',
  CURRENCY_MISMATCH: 'The refund is not in the currency of the charge.',
};

const RETRYABLE_MESSAGE = 'The issuer did not answer; nothing was charged. Retry with the same idempotency key.';
const ANSWER_LOST_MESSAGE = 'The charge was sent but its answer was lost. Retry with the same idempotency key to learn the outcome.';

// 32 hex digits: read as an identifier, never as a run of card-like digits.
const newReference = (prefix: 'ch' | 're') => `${prefix}_sbx_${randomBytes(16).toString('hex')}`;

function checkKey(key: unknown): void {
  if (typeof key !== 'string' || key.length < 1 || key.length > 255) {
    throw new PaymentRequestError('INVALID_IDEMPOTENCY_KEY', 'The idempotency key must be 1 to 255 characters.');
  }
}

function checkMoney(amount: unknown, currency: unknown): void {
  if (typeof amount !== 'number' || !Number.isSafeInteger(amount) || amount <= 0) {
    throw new PaymentRequestError('INVALID_AMOUNT', 'The amount must be a positive integer of minor units.');
  }
  if (typeof currency !== 'string' || !isCurrency(currency)) {
    throw new PaymentRequestError('INVALID_CURRENCY', 'The currency must be an ISO 4217 code.');
  }
}

const mismatch = (what: string) =>
  new PaymentRequestError('IDEMPOTENCY_MISMATCH', `The idempotency key was first used for another ${what}; nothing was done.`);

/** The digits the card opens to, for this decision only. */
async function behaviourOfCard(request: ChargeRequest) {
  return sandboxBehaviourOf(String(await request.card.revealNumber()));
}

function columnsOf(decision: SandboxDecision) {
  return {
    status: decision.status,
    declineCode: decision.status === 'DECLINED' ? decision.code : null,
    reference: decision.status === 'APPROVED' ? newReference('ch') : null,
  };
}

function chargeAnswer(row: SandboxChargeRow): ChargeOutcome {
  switch (row.status) {
    case 'APPROVED':
      return { status: 'APPROVED', reference: row.reference! };
    case 'DECLINED': {
      const code = row.decline_code as ChargeDeclineCode;
      return { status: 'DECLINED', code, message: DECLINE_MESSAGES[code] };
    }
    case 'RETRYABLE':
      return { status: 'RETRYABLE', message: RETRYABLE_MESSAGE };
  }
}

function refundAnswer(row: SandboxRefundRow): RefundOutcome {
  if (row.status === 'APPROVED') return { status: 'APPROVED', reference: row.reference! };
  const code = row.decline_code as RefundDeclineCode;
  return { status: 'DECLINED', code, message: REFUND_DECLINE_MESSAGES[code] };
}

async function chargeOnce(trx: Transaction<DB>, request: ChargeRequest): Promise<ChargeOutcome> {
  const { idempotencyKey, card, amount, currency } = request;
  let row = await lockChargeByKey(trx, idempotencyKey);
  if (!row) {
    const decision = decideSandboxCharge(await behaviourOfCard(request), 1);
    const inserted = await insertCharge(trx, { idempotencyKey, amount, currency, cardLast4: card.last4, network: card.network, ...columnsOf(decision) });
    if (inserted) {
      return decision.status === 'APPROVED' && decision.answerLost ? { status: 'UNKNOWN', message: ANSWER_LOST_MESSAGE } : chargeAnswer(inserted);
    }
    // A concurrent first call of this key committed its row meanwhile: answer as a replay.
    row = await lockChargeByKey(trx, idempotencyKey);
    if (!row) throw new Error('The sandbox charge of an idempotency key vanished.');
  }
  if (row.amount !== amount || row.currency !== currency) throw mismatch('amount or currency');
  if (row.card_last4 !== card.last4 || row.network !== card.network) throw mismatch('card');
  if (row.status !== 'RETRYABLE') return chargeAnswer(row);
  const attempts = row.attempts + 1;
  const decision = decideSandboxCharge(await behaviourOfCard(request), attempts);
  const updated = await recordChargeAttempt(trx, row.id, { attempts, ...columnsOf(decision) });
  return chargeAnswer(updated);
}

async function refundOnce(trx: Transaction<DB>, request: RefundRequest): Promise<RefundOutcome> {
  const { idempotencyKey, chargeReference, amount, currency } = request;
  // Locking the charge first puts refunds of one charge in a line, so their total is checked
  // against what the ones before them left (the database's check is the backstop).
  const charge = await lockChargeByReference(trx, chargeReference);
  const replay = async (row: SandboxRefundRow | undefined): Promise<RefundOutcome> => {
    if (!row) throw new Error('The sandbox refund of an idempotency key vanished.');
    if (row.charge_reference !== chargeReference) throw mismatch('charge');
    if (row.amount !== amount || row.currency !== currency) throw mismatch('amount or currency');
    return refundAnswer(row);
  };
  const existing = await lockRefundByKey(trx, idempotencyKey);
  if (existing) return replay(existing);

  let declineCode: RefundDeclineCode | null = null;
  if (!charge || charge.status !== 'APPROVED') declineCode = 'UNKNOWN_CHARGE';
  else if (charge.currency !== currency) declineCode = 'CURRENCY_MISMATCH';
  else if (amount > charge.amount - charge.refunded_amount) declineCode = 'EXCEEDS_CHARGED_AMOUNT';
  const approved = declineCode === null;
  const inserted = await insertRefund(trx, {
    idempotencyKey,
    chargeId: charge?.id ?? null,
    chargeReference,
    amount,
    currency,
    status: approved ? 'APPROVED' : 'DECLINED',
    declineCode,
    reference: approved ? newReference('re') : null,
  });
  // The key's first call (for another charge, so not waiting on our lock) committed meanwhile.
  if (!inserted) return replay(await lockRefundByKey(trx, idempotencyKey));
  if (approved) await addRefundedAmount(trx, charge!.id, amount);
  return refundAnswer(inserted);
}

/**
 * Runs one call in its own transaction. A failure after the call may have reached the database
 * (a lost connection, a timeout) is answered UNKNOWN, as a remote gateway's client would: the
 * caller retries with the same key and learns what happened.
 */
async function call<T>(db: Kysely<DB>, work: (trx: Transaction<DB>) => Promise<T>, unknown: (message: string) => T): Promise<T> {
  try {
    return await db.transaction().execute(work);
  } catch (error) {
    if (error instanceof PaymentRequestError) throw error;
    // Database and driver messages carry no card number: the number never reaches a query.
    const reason = error instanceof Error ? error.message.slice(0, 200) : 'unexpected failure';
    return unknown(`The sandbox call failed before its outcome was known (${reason}). Retry with the same idempotency key.`);
  }
}

export function createSandboxGateway(db: Kysely<DB>): PaymentGateway {
  return {
    name: 'sandbox',
    async charge(request) {
      checkKey(request.idempotencyKey);
      checkMoney(request.amount, request.currency);
      const { card } = request;
      if (!/^[0-9]{4}$/.test(String(card?.last4)) || typeof card.network !== 'string' || !/^[A-Z]{1,20}$/.test(card.network)) {
        throw new PaymentRequestError('INVALID_CARD', 'The card must give its last 4 digits and its network.');
      }
      return call(db, (trx) => chargeOnce(trx, request), (message) => ({ status: 'UNKNOWN', message }));
    },
    async refund(request) {
      checkKey(request.idempotencyKey);
      checkMoney(request.amount, request.currency);
      if (typeof request.chargeReference !== 'string' || request.chargeReference.length < 1 || request.chargeReference.length > 255) {
        throw new PaymentRequestError('INVALID_REFERENCE', 'The charge reference must be 1 to 255 characters.');
      }
      return call(db, (trx) => refundOnce(trx, request), (message) => ({ status: 'UNKNOWN', message }));
    },
  };
}
