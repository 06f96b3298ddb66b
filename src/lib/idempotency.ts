/**
 * Idempotency keys (DESIGN §3): a mutation given `idempotencyKey` records its answer with the key,
 * in the same transaction as its work. A replay with the same key and input returns the first
 * answer without doing anything; the same key with another input is refused. A concurrent replay
 * waits on the key's row until the first commits, then reads its answer.
 */
import { createHash } from 'node:crypto';
import type { Transaction } from 'kysely';
import type { DB } from '../../db/types.js';
import { fail } from './errors.js';
import { claimIdempotencyKey, findIdempotencyKey, saveIdempotentResponse } from './idempotency.repository.js';

/** Canonical JSON: object keys sorted, so equal inputs hash equally. */
function canonical(value: unknown): string {
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : 1));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

export function requestHash(request: unknown): string {
  return createHash('sha256').update(canonical(request)).digest('hex');
}

/**
 * Runs `work` once per (principal, key). `request` must hold no secret or card number in clear
 * (its hash is stored): pass fingerprints, not numbers. Without a key, just runs `work`.
 */
export async function idempotent<T>(
  trx: Transaction<DB>,
  scope: { principal: string; operation: string; key: string | null | undefined; request: unknown },
  work: () => Promise<T>,
): Promise<T> {
  const { principal, operation, key } = scope;
  if (key === null || key === undefined) return work();
  if (key.length < 1 || key.length > 200) fail('INVALID_LENGTH', 'idempotencyKey must be 1 to 200 characters.', ['idempotencyKey']);
  const hash = requestHash({ operation, request: scope.request });
  if (!(await claimIdempotencyKey(trx, { principal, key, operation, requestHash: hash }))) {
    const first = await findIdempotencyKey(trx, principal, key);
    if (first.request_hash !== hash) {
      fail('IDEMPOTENCY_KEY_REUSED', 'This idempotency key was already used with a different input.', ['idempotencyKey']);
    }
    return first.response as T;
  }
  const answer = await work();
  await saveIdempotentResponse(trx, principal, key, answer);
  return answer;
}
