/**
 * API keys: only a SHA-256 of the secret is stored (keys are 256 random bits, so a fast hash is
 * enough and lets a request find its key with one indexed lookup). Reads join the key's partner
 * (scopes, status) so authenticating a partner key stays one query; only the partners module
 * writes partners.
 */
import { sql, type Kysely } from 'kysely';
import type { ApiKeyRole, ApiKeyRow, DB, PartnerStatus } from '../../../db/types.js';
import { executePrepared } from '../../lib/statements.js';

/** A key with what its partner holds (null for ADMIN and MERCHANT keys). */
export type ApiKeyWithPartner = ApiKeyRow & { partner_scopes: string[] | null; partner_status: PartnerStatus | null };

function keysWithPartner(db: Kysely<DB>) {
  return db
    .selectFrom('api_keys')
    .leftJoin('partners', 'partners.id', 'api_keys.partner_id')
    .selectAll('api_keys')
    .select(['partners.scopes as partner_scopes', 'partners.status as partner_status']);
}

export async function insertApiKey(
  db: Kysely<DB>,
  key: { name: string; role: ApiKeyRole; merchantId: string | null; partnerId: string | null; scopes: string[] | null; prefix: string; secretHash: string },
): Promise<ApiKeyWithPartner> {
  const { id } = await db
    .insertInto('api_keys')
    .values({
      name: key.name,
      role: key.role,
      merchant_id: key.merchantId,
      partner_id: key.partnerId,
      scopes: key.scopes,
      prefix: key.prefix,
      secret_hash: key.secretHash,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return keysWithPartner(db).where('api_keys.id', '=', id).executeTakeFirstOrThrow();
}

/** Every column of a key, named: a prepared statement must not select `*` (see executePrepared). */
const API_KEY_COLUMNS: Record<keyof ApiKeyRow, true> = {
  id: true,
  name: true,
  role: true,
  merchant_id: true,
  partner_id: true,
  scopes: true,
  prefix: true,
  secret_hash: true,
  created_at: true,
  revoked_at: true,
};

/**
 * The live key with that hash: not revoked, and for a partner key, its partner is active. Every
 * authenticated request asks this, so it is a prepared statement: planning it cost Postgres
 * several times what running it does.
 */
export async function findActiveApiKeyByHash(db: Kysely<DB>, secretHash: string): Promise<ApiKeyWithPartner | undefined> {
  const columns = sql.join(Object.keys(API_KEY_COLUMNS).map((column) => sql.ref(`k.${column}`)));
  const { rows } = await executePrepared(
    db,
    sql<ApiKeyWithPartner>`select ${columns}, p.scopes as partner_scopes, p.status as partner_status
      from api_keys k left join partners p on p.id = k.partner_id
      where k.secret_hash = ${secretHash} and k.revoked_at is null and (k.partner_id is null or p.status = 'ACTIVE')`,
  );
  return rows[0];
}

export async function findApiKeysByIds(db: Kysely<DB>, ids: readonly string[]): Promise<ApiKeyWithPartner[]> {
  if (ids.length === 0) return [];
  return keysWithPartner(db).where('api_keys.id', 'in', ids).execute();
}

/** Every key of a partner, revoked ones too, oldest first. */
export async function findApiKeysOfPartner(db: Kysely<DB>, partnerId: string): Promise<ApiKeyWithPartner[]> {
  return keysWithPartner(db).where('api_keys.partner_id', '=', partnerId).orderBy('api_keys.created_at').orderBy('api_keys.id').execute();
}

/** Revokes the key (once; a second call keeps the first time). */
export async function revokeApiKeyById(db: Kysely<DB>, id: string): Promise<ApiKeyWithPartner | undefined> {
  await db.updateTable('api_keys').set({ revoked_at: new Date() }).where('id', '=', id).where('revoked_at', 'is', null).execute();
  return keysWithPartner(db).where('api_keys.id', '=', id).executeTakeFirst();
}
