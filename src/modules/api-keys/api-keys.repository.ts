/**
 * API keys: only a SHA-256 of the secret is stored (keys are 256 random bits, so a fast hash is
 * enough and lets a request find its key with one indexed lookup).
 */
import type { Kysely } from 'kysely';
import type { ApiKeyRole, ApiKeyRow, DB } from '../../../db/types.js';

export async function insertApiKey(
  db: Kysely<DB>,
  key: { name: string; role: ApiKeyRole; merchantId: string | null; scopes: string[]; prefix: string; secretHash: string },
): Promise<ApiKeyRow> {
  return db
    .insertInto('api_keys')
    .values({
      name: key.name,
      role: key.role,
      merchant_id: key.merchantId,
      scopes: key.scopes,
      prefix: key.prefix,
      secret_hash: key.secretHash,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function findActiveApiKeyByHash(db: Kysely<DB>, secretHash: string): Promise<ApiKeyRow | undefined> {
  return db
    .selectFrom('api_keys')
    .selectAll()
    .where('secret_hash', '=', secretHash)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
}

export async function findApiKeysByIds(db: Kysely<DB>, ids: readonly string[]): Promise<ApiKeyRow[]> {
  if (ids.length === 0) return [];
  return db.selectFrom('api_keys').selectAll().where('id', 'in', ids).execute();
}

/** Revokes the key (once; a second call keeps the first time). */
export async function revokeApiKeyById(db: Kysely<DB>, id: string): Promise<ApiKeyRow | undefined> {
  await db.updateTable('api_keys').set({ revoked_at: new Date() }).where('id', '=', id).where('revoked_at', 'is', null).execute();
  return db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst();
}
