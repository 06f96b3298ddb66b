/**
 * E-mails: stored first, in the transaction of the change they announce, then delivered by this
 * module's job on the durable queue (one job per e-mail, see email-delivery.ts). One per (kind,
 * subject): queuing the same kind twice for, say, one cashback is a no-op. The row is the message
 * and its state for the user (QUEUED, SENT, FAILED); attempts, leases and errors are its job's.
 */
import { sql, type Kysely, type RawBuilder, type Transaction } from 'kysely';
import type { DB, EmailRow, NewEmail } from '../../../db/types.js';

/** Stores the e-mails not stored yet (by kind and subject); returns the new rows' ids and kinds. */
export async function insertEmailRows(trx: Transaction<DB>, emails: readonly NewEmail[]): Promise<Pick<EmailRow, 'id' | 'kind'>[]> {
  if (emails.length === 0) return [];
  return trx
    .insertInto('emails')
    .values([...emails])
    .onConflict((oc) => oc.columns(['kind', 'subject_type', 'subject_id']).doNothing())
    .returning(['id', 'kind'])
    .execute();
}

/**
 * The INSERT of the e-mails not stored yet (by kind and subject), one array parameter per column,
 * as one step of a larger statement; it returns the new rows' `id` and `kind`.
 */
export function emailRowsInsert(emails: readonly NewEmail[]): RawBuilder<unknown> {
  const column = <T>(pick: (e: NewEmail) => T) => emails.map(pick);
  return sql`insert into emails (user_id, kind, subject_type, subject_id, recipient, subject, body)
    select * from unnest(${column((e) => e.user_id ?? null)}::uuid[], ${column((e) => e.kind)}::text[],
      ${column((e) => e.subject_type)}::text[], ${column((e) => e.subject_id)}::uuid[], ${column((e) => e.recipient)}::text[],
      ${column((e) => e.subject)}::text[], ${column((e) => e.body)}::text[])
    on conflict (kind, subject_type, subject_id) do nothing
    returning id, kind`;
}

/** The (job key, payload) of a delivery job for each e-mail row returned by the step named `step` (see emailRowsInsert). */
export function emailJobsOf(step: string): RawBuilder<unknown> {
  return sql`(select e.id::text, jsonb_build_object('emailId', e.id, 'kind', e.kind) from ${sql.table(step)} e)`;
}

export async function findEmailById(db: Kysely<DB>, id: string): Promise<EmailRow | undefined> {
  return db.selectFrom('emails').selectAll().where('id', '=', id).executeTakeFirst();
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

/** The e-mail went out (in the transaction that settles its job). */
export async function markEmailSent(trx: Transaction<DB>, id: string, now: Date): Promise<void> {
  await trx.updateTable('emails').set({ status: 'SENT', sent_at: now }).where('id', '=', id).where('status', '=', 'QUEUED').execute();
}

/** Delivery gave up on the e-mail (in the transaction that settles its job). */
export async function markEmailFailed(trx: Transaction<DB>, id: string): Promise<void> {
  await trx.updateTable('emails').set({ status: 'FAILED' }).where('id', '=', id).where('status', '=', 'QUEUED').execute();
}
