/**
 * The e-mails other modules queue. E-mails are rows first (written in the transaction
 * of the change they tell about, with their delivery job on the durable queue) and delivered
 * afterwards by this module's job.
 */
import type { RawBuilder, Transaction } from 'kysely';
import type { DB, NewEmail } from '../../../db/types.js';
import { enqueueMany, jobsInsertFrom } from '../../jobs/queue.js';
import { emailJobsOf, emailRowsInsert, insertEmailRows } from './emails.repository.js';

/** The queue that delivers e-mails: one job per e-mail, keyed by its id. */
export const EMAIL_QUEUE = 'emails';

/** The payload of an e-mail's job: identifiers only (the message itself stays in its row). */
export interface EmailJobPayload {
  emailId: string;
  kind: string;
}

/**
 * Stores e-mails and queues their delivery, in the caller's transaction. An e-mail of the same
 * kind about the same subject is not stored (nor sent) twice. `sendAt`: not before (default now).
 */
export async function insertEmails(trx: Transaction<DB>, emails: readonly NewEmail[], options: { sendAt?: Date } = {}): Promise<void> {
  const stored = await insertEmailRows(trx, emails);
  await enqueueMany(
    trx,
    EMAIL_QUEUE,
    stored.map((email) => ({ key: email.id, payload: { emailId: email.id, kind: email.kind } satisfies EmailJobPayload, runAt: options.sendAt })),
  );
}

/**
 * `insertEmails` as two steps of the caller's combined write (see `writeSteps` in lib/statements.ts): the
 * e-mails not stored yet, then a delivery job for each of them (job key and payload as
 * `insertEmails` makes them), so a command that writes e-mails spends no round trip on them.
 * `name` is the first step's name, which the second reads.
 */
export function emailsInsertSteps(emails: readonly NewEmail[], name = 'queued_emails'): { name?: string; statement: RawBuilder<unknown> }[] {
  if (emails.length === 0) return [];
  return [
    { name, statement: emailRowsInsert(emails) },
    { statement: jobsInsertFrom(EMAIL_QUEUE, emailJobsOf(name)) },
  ];
}
