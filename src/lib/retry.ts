/**
 * One transaction per command, retried when Postgres gives up on it for a reason that a second
 * try resolves (a deadlock, a serialization failure) or when the command asks for it.
 */
import type { Kysely, Transaction } from 'kysely';
import type { DB } from '../../db/types.js';
import { backoffMs, sleep } from './backoff.js';

/** Thrown inside a transaction to have it rolled back and run again from the start. */
export class RetryTransaction extends Error {}

const RETRYABLE_CODES = new Set(['40001', '40P01']);

function retryable(error: unknown): boolean {
  if (error instanceof RetryTransaction) return true;
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && RETRYABLE_CODES.has(code);
}

export async function inRetryingTransaction<T>(
  db: Kysely<DB>,
  work: (trx: Transaction<DB>) => Promise<T>,
  attempts = 8,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.transaction().execute(work);
    } catch (error) {
      if (attempt >= attempts || !retryable(error)) throw error;
      // Short, fully jittered: the transaction that won the conflict is usually done by then.
      await sleep(backoffMs(attempt, { baseMs: 5, capMs: 100, jitter: 1 }));
    }
  }
}
