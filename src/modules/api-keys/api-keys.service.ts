/**
 * API keys: minting (shown once), authenticating a request's bearer key, revoking.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { ApiKeyRole, ApiKeyRow, DB } from '../../../db/types.js';
import type { Context, PartnerScope, Principal } from '../../context.js';
import { requireRole } from '../../lib/authorization.js';
import { fail, notFound } from '../../lib/errors.js';
import { parseGlobalId } from '../../lib/ids.js';
import { parseInput, text } from '../../lib/validation.js';
import { findMerchantById } from '../merchants/merchants.service.js';
import { findActiveApiKeyByHash, findApiKeysByIds, insertApiKey, revokeApiKeyById } from './api-keys.repository.js';

const KEY_PREFIX = 'hbk_';

function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export interface MintedApiKey {
  apiKey: ApiKeyRow;
  /** The key itself: shown once, never stored. */
  secret: string;
}

/** Creates a key without a caller check: for the admin mutation below, scripts and the seed. */
export async function mintApiKey(
  db: Kysely<DB>,
  key: { name: string; role: ApiKeyRole; merchantId?: string | null; scopes?: PartnerScope[] },
): Promise<MintedApiKey> {
  const secret = KEY_PREFIX + randomBytes(32).toString('base64url');
  const apiKey = await insertApiKey(db, {
    name: key.name,
    role: key.role,
    merchantId: key.merchantId ?? null,
    scopes: [...new Set(key.scopes ?? [])],
    prefix: secret.slice(0, KEY_PREFIX.length + 6),
    secretHash: hashSecret(secret),
  });
  return { apiKey, secret };
}

export function principalOf(key: ApiKeyRow): Principal {
  switch (key.role) {
    case 'ADMIN':
      return { kind: 'admin', apiKeyId: key.id };
    case 'MERCHANT':
      return { kind: 'merchant', apiKeyId: key.id, merchantId: key.merchant_id! };
    case 'PARTNER':
      return {
        kind: 'partner',
        apiKeyId: key.id,
        // Written only from the PartnerScope enum; a scope no module checks any more grants nothing.
        scopes: key.scopes as PartnerScope[],
      };
  }
}

/** The live key with that secret, if any. */
export async function findApiKeyBySecret(db: Kysely<DB>, secret: string): Promise<ApiKeyRow | undefined> {
  return secret.startsWith(KEY_PREFIX) ? findActiveApiKeyByHash(db, hashSecret(secret)) : undefined;
}

const createInput = z.object({
  name: text(1, 120),
  role: z.enum(['ADMIN', 'MERCHANT', 'PARTNER']),
  merchantId: z.string().nullish(),
  // The PartnerScope enum has already refused unknown values.
  scopes: z.array(z.custom<PartnerScope>((v) => typeof v === 'string')).max(50).nullish(),
});

export async function createApiKey(ctx: Context, input: z.input<typeof createInput>): Promise<MintedApiKey> {
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
  if (data.role !== 'PARTNER' && data.scopes && data.scopes.length > 0) {
    fail('INVALID_INPUT', 'scopes are only for PARTNER keys', ['scopes']);
  }
  return mintApiKey(ctx.db, { name: data.name, role: data.role, merchantId, scopes: data.scopes ?? [] });
}

export async function revokeApiKey(ctx: Context, input: { apiKeyId: string }): Promise<{ apiKey: ApiKeyRow }> {
  requireRole(ctx.principal, 'admin');
  const id = parseGlobalId(input.apiKeyId, 'ApiKey', ['apiKeyId']);
  const apiKey = await revokeApiKeyById(ctx.db, id);
  if (!apiKey) notFound('API key', ['apiKeyId']);
  return { apiKey };
}

/** Keys the caller may see: every key for an admin, its own key for anyone else. */
export async function loadVisibleApiKeys(ctx: Context, ids: readonly string[]): Promise<ApiKeyRow[]> {
  const { principal } = ctx;
  if (principal.kind === 'anonymous' || principal.kind === 'user') return [];
  const visible = principal.kind === 'admin' ? ids : ids.filter((id) => id === principal.apiKeyId);
  return findApiKeysByIds(ctx.db, visible);
}

/** What other modules read or lock through this one (they never import its repository). */
export { findApiKeysByIds } from './api-keys.repository.js';
