/**
 * Idempotency keys (DESIGN §3): a mutation given `idempotencyKey` records its answer with the key,
 * in the same transaction as its work. A replay with the same key and input returns the first
 * answer without doing anything; the same key with another input is refused. A concurrent replay
 * waits on the key's row until the first commits, then reads its answer.
 */
import { createHash } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type { DB } from '../../db/types.js';
import type { Principal } from '../context.js';
import { principalKey } from './authorization.js';
import { fail } from './errors.js';
import { claimIdempotencyKey, findIdempotencyKey, findIdempotencyKeyIfAny, saveIdempotentResponse } from './idempotency.repository.js';
import { inRetryingTransaction } from './retry.js';

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
export async function idempotent<T, S = T>(
  trx: Transaction<DB>,
  scope: { principal: string; operation: string; key: string | null | undefined; request: unknown },
  work: () => Promise<T>,
  replay?: Replay<T, S>,
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
    return replay ? replay.load(trx, first.response as S) : (first.response as T);
  }
  const answer = await work();
  await saveIdempotentResponse(trx, principal, key, replay ? replay.save(answer) : answer);
  return answer;
}

/**
 * For a command that must call outside the database before its transaction (a payment gateway):
 * refuses a key already used with another input before anything moves, so the outside call is
 * never made for a misused key. The transaction afterwards still goes through `idempotent`, which
 * records the key or answers the first result.
 */
export async function refuseReusedKey(
  db: Kysely<DB>,
  scope: { principal: string; operation: string; key: string | null | undefined; request: unknown },
): Promise<void> {
  const { principal, operation, key } = scope;
  if (key === null || key === undefined) return;
  if (key.length < 1 || key.length > 200) fail('INVALID_LENGTH', 'idempotencyKey must be 1 to 200 characters.', ['idempotencyKey']);
  const first = await findIdempotencyKeyIfAny(db, principal, key);
  if (first && first.request_hash !== requestHash({ operation, request: scope.request })) {
    fail('IDEMPOTENCY_KEY_REUSED', 'This idempotency key was already used with a different input.', ['idempotencyKey']);
  }
}

/** The optional key a mutation's input carries. */
export type WithIdempotencyKey = { idempotencyKey?: string | null };

/**
 * How an answer that is not plain data is kept for replays: `save` picks what is stored (JSON),
 * `load` turns it into the answer again, inside the replay's transaction.
 */
export interface Replay<T, S> {
  save(answer: T): S;
  load(trx: Transaction<DB>, saved: S): Promise<T>;
}

type Rows<T> = { [K in keyof T]: { id: string } };

/**
 * Replays an answer made of rows (`{ offer }`, `{ activation, offer }`): their ids are stored and
 * the same rows are read again, as they are now. A row deleted since is NOT_FOUND.
 */
export function rowsById<T extends Rows<T>>(loaders: { [K in keyof T]: (trx: Transaction<DB>, id: string) => Promise<T[K] | undefined> }): Replay<T, Record<keyof T, string>> {
  const names = Object.keys(loaders) as (keyof T)[];
  return {
    save: (answer) => Object.fromEntries(names.map((name) => [name, answer[name].id])) as Record<keyof T, string>,
    load: async (trx, ids) => {
      const answer: Partial<T> = {};
      for (const name of names) {
        const row = await loaders[name](trx, ids[name]);
        if (!row) fail('NOT_FOUND', 'What this idempotency key first answered no longer exists.', ['idempotencyKey']);
        answer[name] = row;
      }
      return answer as T;
    },
  };
}

/**
 * A mutation's one transaction, idempotent with `command.key` (DESIGN §3): `work` runs in it, and
 * the key's record commits with its effects, so a replay never runs it twice, even when the first
 * answer was lost after the commit. Keys are the caller's (`principalKey`) unless `principal` says
 * otherwise. Without a key, just runs `work` in a transaction.
 */
export function idempotentCommand<T, S = T>(
  ctx: { db: Kysely<DB>; principal: Principal },
  command: { operation: string; key: string | null | undefined; request: unknown; principal?: string },
  work: (trx: Transaction<DB>) => Promise<T>,
  replay?: Replay<T, S>,
): Promise<T> {
  const scope = { ...command, principal: command.principal ?? principalKey(ctx.principal) };
  return inRetryingTransaction(ctx.db, (trx) => idempotent(trx, scope, () => work(trx), replay));
}
