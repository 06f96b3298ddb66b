/** The `idempotency_keys` table: one row per (principal, key), its request's hash and first answer. */
import type { Kysely, Transaction } from 'kysely';
import type { DB } from '../../db/types.js';

/** Claims the key for this request; false when the principal already used it (the row is then locked until its first use commits). */
export async function claimIdempotencyKey(
  trx: Transaction<DB>,
  row: { principal: string; key: string; operation: string; requestHash: string },
): Promise<boolean> {
  const claimed = await trx
    .insertInto('idempotency_keys')
    .values({ principal: row.principal, key: row.key, operation: row.operation, request_hash: row.requestHash, response: null })
    .onConflict((oc) => oc.columns(['principal', 'key']).doNothing())
    .returning('key')
    .executeTakeFirst();
  return claimed !== undefined;
}

export async function findIdempotencyKey(trx: Transaction<DB>, principal: string, key: string) {
  const found = await findIdempotencyKeyIfAny(trx, principal, key);
  if (!found) throw new Error('the idempotency key claimed by another transaction is gone');
  return found;
}

export async function findIdempotencyKeyIfAny(db: Kysely<DB>, principal: string, key: string) {
  return db
    .selectFrom('idempotency_keys')
    .select(['request_hash', 'response'])
    .where('principal', '=', principal)
    .where('key', '=', key)
    .executeTakeFirst();
}

export async function saveIdempotentResponse(trx: Transaction<DB>, principal: string, key: string, response: unknown): Promise<void> {
  await trx
    .updateTable('idempotency_keys')
    .set({ response: JSON.stringify(response) })
    .where('principal', '=', principal)
    .where('key', '=', key)
    .execute();
}
