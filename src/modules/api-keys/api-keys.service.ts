/**
 * API keys: minting (shown once), authenticating a request's bearer key, revoking. A PARTNER key
 * belongs to a partner (src/modules/partners/): it acts for the partner with the partner's scopes,
 * optionally narrowed, and stops working when revoked or when its partner is suspended.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import { z } from 'zod';
import type { ApiKeyRole, DB } from '../../../db/types.js';
import type { Context, PartnerScope, Principal } from '../../context.js';
import { requireRole } from '../../lib/authorization.js';
import { fail, notFound } from '../../lib/errors.js';
import { idempotentCommand, rowsById, type WithIdempotencyKey } from '../../lib/idempotency.js';
import { parseGlobalId } from '../../lib/ids.js';
import { parseInput, text } from '../../lib/validation.js';
import { findMerchantById } from '../merchants/merchants.service.js';
import { partnerForNewKey } from '../partners/partners.service.js';
import {
  findActiveApiKeyByHash,
  findApiKeysByIds,
  findApiKeysOfPartner,
  insertApiKey,
  revokeApiKeyById,
  type ApiKeyWithPartner,
} from './api-keys.repository.js';

const KEY_PREFIX = 'hbk_';

function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export interface MintedApiKey {
  apiKey: ApiKeyWithPartner;
  /** The key itself: shown once, never stored. */
  secret: string;
}

/**
 * Creates a key without a caller check: for the admin mutation below, scripts and the seed. A
 * PARTNER key needs its partner; its `scopes`, when given, narrow the partner's (omitted: all of
 * them, following the partner's scopes as they are).
 */
export async function mintApiKey(
  db: Kysely<DB>,
  key: { name: string; role: ApiKeyRole; merchantId?: string | null; partnerId?: string | null; scopes?: PartnerScope[] | null },
): Promise<MintedApiKey> {
  if ((key.role === 'PARTNER') !== Boolean(key.partnerId)) throw new Error('a PARTNER key, and only one, belongs to a partner');
  const secret = KEY_PREFIX + randomBytes(32).toString('base64url');
  const apiKey = await insertApiKey(db, {
    name: key.name,
    role: key.role,
    merchantId: key.merchantId ?? null,
    partnerId: key.partnerId ?? null,
    scopes: key.role === 'PARTNER' ? (key.scopes ? [...new Set(key.scopes)] : null) : [],
    prefix: secret.slice(0, KEY_PREFIX.length + 6),
    secretHash: hashSecret(secret),
  });
  return { apiKey, secret };
}

/**
 * What a key may do: a PARTNER key holds its partner's scopes, narrowed to the key's own when it
 * has some (a scope the partner no longer holds grants nothing); other keys hold none.
 */
export function scopesOfKey(key: ApiKeyWithPartner): PartnerScope[] {
  if (key.role !== 'PARTNER') return [];
  // Written only from the PartnerScope enum; a scope no module checks any more grants nothing.
  const held = (key.partner_scopes ?? []) as PartnerScope[];
  return key.scopes ? held.filter((s) => key.scopes!.includes(s)) : held;
}

export function principalOf(key: ApiKeyWithPartner): Principal {
  switch (key.role) {
    case 'ADMIN':
      return { kind: 'admin', apiKeyId: key.id };
    case 'MERCHANT':
      return { kind: 'merchant', apiKeyId: key.id, merchantId: key.merchant_id! };
    case 'PARTNER':
      return { kind: 'partner', apiKeyId: key.id, partnerId: key.partner_id!, scopes: scopesOfKey(key) };
  }
}

/** The live key with that secret, if any (a suspended partner's keys are not live). */
export async function findApiKeyBySecret(db: Kysely<DB>, secret: string): Promise<ApiKeyWithPartner | undefined> {
  return secret.startsWith(KEY_PREFIX) ? findActiveApiKeyByHash(db, hashSecret(secret)) : undefined;
}

const createInput = z.object({
  name: text(1, 120),
  role: z.enum(['ADMIN', 'MERCHANT', 'PARTNER']),
  merchantId: z.string().nullish(),
  partnerId: z.string().nullish(),
  // The PartnerScope enum has already refused unknown values.
  scopes: z.array(z.custom<PartnerScope>((v) => typeof v === 'string')).max(50).nullish(),
});

const apiKeyRow = { apiKey: async (trx: Transaction<DB>, id: string) => (await findApiKeysByIds(trx, [id]))[0] };

/**
 * With `idempotencyKey`, a replay answers the same key with `secret: null`: the secret is never
 * stored (only its hash), so it cannot be shown twice. A caller that lost the first answer revokes
 * that key and creates another.
 */
export async function createApiKey(ctx: Context, input: z.input<typeof createInput> & WithIdempotencyKey): Promise<MintedApiKey | { apiKey: ApiKeyWithPartner; secret: null }> {
  requireRole(ctx.principal, 'admin');
  const data = parseInput(createInput, input);
  let merchantId: string | null = null;
  if (data.role === 'MERCHANT') {
    if (!data.merchantId) fail('INVALID_INPUT', 'merchantId is required for a MERCHANT key', ['merchantId']);
    merchantId = parseGlobalId(data.merchantId, 'Merchant', ['merchantId']);
    if (!(await findMerchantById(ctx.db, merchantId))) notFound('Merchant', ['merchantId']);
  } else if (data.merchantId) {
    fail('INVALID_INPUT', 'merchantId is only for MERCHANT keys', ['merchantId']);
  }
  if (data.role !== 'PARTNER' && data.partnerId) fail('INVALID_INPUT', 'partnerId is only for PARTNER keys', ['partnerId']);
  if (data.role !== 'PARTNER' && data.scopes && data.scopes.length > 0) {
    fail('INVALID_INPUT', 'scopes are only for PARTNER keys', ['scopes']);
  }
  const request = { ...data, merchantId, scopes: data.scopes ?? null };
  return idempotentCommand(
    ctx,
    { operation: 'createApiKey', key: input.idempotencyKey, request },
    async (trx): Promise<MintedApiKey | { apiKey: ApiKeyWithPartner; secret: null }> => {
      let partnerId: string | null = null;
      if (data.role === 'PARTNER') {
        if (!data.partnerId) fail('INVALID_INPUT', 'partnerId is required for a PARTNER key: create the partner first (createPartner)', ['partnerId']);
        partnerId = (await partnerForNewKey(trx, data.partnerId, data.scopes ?? null)).id;
      }
      const minted = await mintApiKey(trx, { name: data.name, role: data.role, merchantId, partnerId, scopes: data.scopes ?? null });
      ctx.logger.info({ apiKeyId: minted.apiKey.id, role: data.role, partnerId }, 'API key created');
      return minted;
    },
    {
      save: ({ apiKey }) => ({ apiKey: apiKey.id }), // never the secret
      load: async (trx, saved: { apiKey: string }) => ({ ...(await rowsById(apiKeyRow).load(trx, saved)), secret: null }),
    },
  );
}

export async function revokeApiKey(ctx: Context, input: { apiKeyId: string } & WithIdempotencyKey): Promise<{ apiKey: ApiKeyWithPartner }> {
  requireRole(ctx.principal, 'admin');
  const id = parseGlobalId(input.apiKeyId, 'ApiKey', ['apiKeyId']);
  return idempotentCommand(
    ctx,
    { operation: 'revokeApiKey', key: input.idempotencyKey, request: { id } },
    async (trx) => {
      const apiKey = await revokeApiKeyById(trx, id);
      if (!apiKey) notFound('API key', ['apiKeyId']);
      return { apiKey };
    },
    rowsById<{ apiKey: ApiKeyWithPartner }>(apiKeyRow),
  );
}

/** Keys the caller may see: every key for an admin, its partner's keys for a partner key, its own key for anyone else. */
export async function loadVisibleApiKeys(ctx: Context, ids: readonly string[]): Promise<ApiKeyWithPartner[]> {
  const { principal } = ctx;
  if (principal.kind === 'anonymous' || principal.kind === 'user') return [];
  if (principal.kind === 'admin') return findApiKeysByIds(ctx.db, ids);
  const keys = await findApiKeysByIds(ctx.db, ids);
  return keys.filter((k) => k.id === principal.apiKeyId || (principal.kind === 'partner' && k.partner_id === principal.partnerId));
}

/** Every key of a partner, revoked ones too: for admins and the partner's own keys; empty for anyone else. */
export async function listKeysOfPartner(ctx: Context, partnerId: string): Promise<ApiKeyWithPartner[]> {
  const { principal } = ctx;
  const may = principal.kind === 'admin' || (principal.kind === 'partner' && principal.partnerId === partnerId);
  return may ? findApiKeysOfPartner(ctx.db, partnerId) : [];
}

/** What other modules read or lock through this one (they never import its repository). */
export { findApiKeysByIds, type ApiKeyWithPartner } from './api-keys.repository.js';

/** Which of these keys still authenticate: not revoked, and their partner (if any) not suspended. */
export async function liveApiKeyIds(db: Kysely<DB>, ids: readonly string[]): Promise<ReadonlySet<string>> {
  const keys = await findApiKeysByIds(db, ids);
  return new Set(keys.filter((key) => !key.revoked_at && key.partner_status !== 'SUSPENDED').map((key) => key.id));
}
