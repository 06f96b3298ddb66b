/**
 * E-mails: stored first, in the transaction of the change they announce, then delivered by the
 * job runner. One per (kind, cashback): queuing the same kind twice for a cashback is a no-op.
 */
import type { Kysely, Transaction } from 'kysely';
import type { DB, NewEmail } from '../../../db/types.js';

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
