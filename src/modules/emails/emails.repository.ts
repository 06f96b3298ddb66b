/**
 * E-mails: stored first, in the transaction of the change they announce, then delivered by the
 * job runner. One per (kind, cashback): queuing the same kind twice for a cashback is a no-op.
 * Delivery leases rows (lease_token, leased_until) so that a row is sent by one worker at a time
 * and only the lease holder settles it.
 */
import { sql, type Kysely, type Transaction } from 'kysely';
import type { DB, EmailRow, NewEmail } from '../../../db/types.js';

export async function insertEmails(trx: Transaction<DB>, emails: readonly NewEmail[]): Promise<void> {
  if (emails.length === 0) return;
  await trx
    .insertInto('emails')
    .values([...emails])
    .onConflict((oc) => oc.columns(['kind', 'cashback_id']).doNothing())
    .execute();
}

export async function findEmailsOfUser(db: Kysely<DB>, userId: string, limit: number) {
  return db
    .selectFrom('emails')
    .selectAll()
    .where('user_id', '=', userId)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
}

/** A queued e-mail this worker holds a lease on: only the holder of `lease_token` may settle it. */
export type ClaimedEmail = EmailRow & { lease_token: string; leased_until: Date };

/**
 * Leases up to `limit` due e-mails to the caller, oldest due first, and counts the attempt.
 * One statement, so the row locks last only as long as it runs: `FOR UPDATE SKIP LOCKED` lets
 * concurrent claimers pass over each other's rows, and a row updated by a claimer that committed
 * first is re-checked against the due and lease conditions, so no row is claimed twice.
 * Each claimed row gets its own random lease token.
 */
export async function claimDueEmails(
  db: Kysely<DB>,
  options: { now: Date; limit: number; leaseMs: number },
): Promise<ClaimedEmail[]> {
  const { now, limit, leaseMs } = options;
  const rows = await db
    .with('due', (qb) =>
      qb
        .selectFrom('emails')
        .select('id')
        .where('status', '=', 'QUEUED')
        .where('next_attempt_at', '<=', now)
        .where((eb) => eb.or([eb('leased_until', 'is', null), eb('leased_until', '<=', now)]))
        .orderBy('next_attempt_at')
        .limit(limit)
        .forUpdate()
        .skipLocked(),
    )
    .updateTable('emails')
    .from('due')
    .whereRef('emails.id', '=', 'due.id')
    .set((eb) => ({
      lease_token: sql<string>`gen_random_uuid()`,
      leased_until: new Date(now.getTime() + leaseMs),
      attempts: eb('emails.attempts', '+', 1),
    }))
    .returningAll('emails')
    .execute();
  // UPDATE … RETURNING keeps no order: restore the claim's.
  return (rows as ClaimedEmail[]).sort((a, b) => a.next_attempt_at.getTime() - b.next_attempt_at.getTime());
}

/** Marks a leased e-mail sent. False when the lease was lost (expired and taken over). */
export async function markEmailSent(db: Kysely<DB>, id: string, leaseToken: string, now: Date): Promise<boolean> {
  const result = await db
    .updateTable('emails')
    .set({ status: 'SENT', sent_at: now, lease_token: null, leased_until: null })
    .where('id', '=', id)
    .where('status', '=', 'QUEUED')
    .where('lease_token', '=', leaseToken)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/**
 * Records a failed attempt of a leased e-mail: due again at `nextAttemptAt`, or FAILED for good
 * when `final` (then `nextAttemptAt` is not used). False when the lease was lost.
 */
export async function markEmailFailed(
  db: Kysely<DB>,
  id: string,
  leaseToken: string,
  failure: { error: string; nextAttemptAt: Date; final: boolean },
): Promise<boolean> {
  const result = await db
    .updateTable('emails')
    .set(
      failure.final
        ? { status: 'FAILED', last_error: failure.error, lease_token: null, leased_until: null }
        : { last_error: failure.error, next_attempt_at: failure.nextAttemptAt, lease_token: null, leased_until: null },
    )
    .where('id', '=', id)
    .where('status', '=', 'QUEUED')
    .where('lease_token', '=', leaseToken)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** E-mails by delivery status (the job queue's depth and failures, for metrics). */
export async function countEmailsByStatus(db: Kysely<DB>): Promise<Record<string, number>> {
  const rows = await db.selectFrom('emails').select(['status', (eb) => eb.fn.countAll<number>().as('count')]).groupBy('status').execute();
  return Object.fromEntries(rows.map((row) => [row.status, Number(row.count)]));
}
