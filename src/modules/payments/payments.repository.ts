/**
 * The sandbox gateway's own tables: `sandbox_charges` and `sandbox_refunds`, one row per
 * idempotency key (unique in the database, which is what makes a racing replay find the first
 * row instead of charging again). Rows hold a card's last 4 digits and network, never its number.
 */
import type { Transaction } from 'kysely';
import type { DB, SandboxChargeRow, SandboxChargeStatus, SandboxRefundRow, SandboxRefundStatus } from '../../../db/types.js';

/** The charge of `idempotencyKey`, locked until the transaction ends. */
export async function lockChargeByKey(trx: Transaction<DB>, idempotencyKey: string): Promise<SandboxChargeRow | undefined> {
  return trx.selectFrom('sandbox_charges').selectAll().where('idempotency_key', '=', idempotencyKey).forUpdate().executeTakeFirst();
}

/** The charge a refund names, locked: refunds of one charge run one after another. */
export async function lockChargeByReference(trx: Transaction<DB>, reference: string): Promise<SandboxChargeRow | undefined> {
  return trx.selectFrom('sandbox_charges').selectAll().where('reference', '=', reference).forUpdate().executeTakeFirst();
}

/**
 * Records the first attempt of a key. Undefined when the key already has a row: on Postgres a
 * concurrent insert of the same key waits for the first to commit and then inserts nothing.
 */
export async function insertCharge(
  trx: Transaction<DB>,
  charge: {
    idempotencyKey: string;
    amount: number;
    currency: string;
    cardLast4: string;
    network: string;
    status: SandboxChargeStatus;
    declineCode: string | null;
    reference: string | null;
  },
): Promise<SandboxChargeRow | undefined> {
  return trx
    .insertInto('sandbox_charges')
    .values({
      idempotency_key: charge.idempotencyKey,
      amount: charge.amount,
      currency: charge.currency,
      card_last4: charge.cardLast4,
      network: charge.network,
      status: charge.status,
      decline_code: charge.declineCode,
      reference: charge.reference,
      attempts: 1,
    })
    .onConflict((oc) => oc.column('idempotency_key').doNothing())
    .returningAll()
    .executeTakeFirst();
}

/** Records another attempt of a key whose last one was RETRYABLE. */
export async function recordChargeAttempt(
  trx: Transaction<DB>,
  id: string,
  attempt: { attempts: number; status: SandboxChargeStatus; declineCode: string | null; reference: string | null },
): Promise<SandboxChargeRow> {
  return trx
    .updateTable('sandbox_charges')
    .set({
      attempts: attempt.attempts,
      status: attempt.status,
      decline_code: attempt.declineCode,
      reference: attempt.reference,
      updated_at: new Date(),
    })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function addRefundedAmount(trx: Transaction<DB>, chargeId: string, amount: number): Promise<void> {
  await trx
    .updateTable('sandbox_charges')
    .set((eb) => ({ refunded_amount: eb('refunded_amount', '+', amount), updated_at: new Date() }))
    .where('id', '=', chargeId)
    .execute();
}

export async function lockRefundByKey(trx: Transaction<DB>, idempotencyKey: string): Promise<SandboxRefundRow | undefined> {
  return trx.selectFrom('sandbox_refunds').selectAll().where('idempotency_key', '=', idempotencyKey).forUpdate().executeTakeFirst();
}

/** Records a refund; undefined when the key already has one (see `insertCharge`). */
export async function insertRefund(
  trx: Transaction<DB>,
  refund: {
    idempotencyKey: string;
    chargeId: string | null;
    chargeReference: string;
    amount: number;
    currency: string;
    status: SandboxRefundStatus;
    declineCode: string | null;
    reference: string | null;
  },
): Promise<SandboxRefundRow | undefined> {
  return trx
    .insertInto('sandbox_refunds')
    .values({
      idempotency_key: refund.idempotencyKey,
      charge_id: refund.chargeId,
      charge_reference: refund.chargeReference,
      amount: refund.amount,
      currency: refund.currency,
      status: refund.status,
      decline_code: refund.declineCode,
      reference: refund.reference,
    })
    .onConflict((oc) => oc.column('idempotency_key').doNothing())
    .returningAll()
    .executeTakeFirst();
}
