/**
 * The e-mails other modules queue. E-mails are rows first (written in the transaction
 * of the change they tell about, with their delivery job on the durable queue) and delivered
 * afterwards by this module's job.
 */
import type { Transaction } from 'kysely';
import type { DB, NewEmail } from '../../../db/types.js';
import { enqueueMany } from '../../jobs/queue.js';
import { insertEmailRows } from './emails.repository.js';

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
