/**
 * Role checks shared by services. Which objects a principal may see is each repository's
 * visibility filter; this only answers "may this kind of caller run this operation at all".
 */
import type { PartnerScope, Principal } from '../context.js';
import { sql, type RawBuilder } from 'kysely';
import { fail } from './errors.js';

type Kind = Principal['kind'];

export function requireRole<K extends Exclude<Kind, 'anonymous'>>(
  principal: Principal,
  ...kinds: K[]
): Extract<Principal, { kind: K }> {
  if (principal.kind === 'anonymous') fail('UNAUTHENTICATED', 'This operation needs an API key or a signed-in user.');
  if (!(kinds as Kind[]).includes(principal.kind)) {
    fail('FORBIDDEN', `This operation is for ${kinds.map((k) => k).join(' or ')} keys.`);
  }
  return principal as Extract<Principal, { kind: K }>;
}

/** Which catalogue rows a principal may read beyond the public ones. */
export interface Visibility {
  /** Admins read everything. */
  all: boolean;
  /** A merchant key also reads its own merchant's private rows (drafts, pending status). */
  merchantId: string | null;
}

/** What anyone, signed in or not, may read. */
export const PUBLIC_VISIBILITY: Visibility = { all: false, merchantId: null };

export function visibilityOf(principal: Principal): Visibility {
  return {
    all: principal.kind === 'admin',
    merchantId: principal.kind === 'merchant' ? principal.merchantId : null,
  };
}

/** A partner key holding `scope`; anyone else is refused. */
export function requirePartnerScope(principal: Principal, scope: PartnerScope): Extract<Principal, { kind: 'partner' }> {
  const partner = requireRole(principal, 'partner');
  if (!partner.scopes.includes(scope)) fail('FORBIDDEN', `This operation needs a partner key with the ${scope} scope.`);
  return partner;
}

/**
 * Who made a request, as idempotency keys are scoped. A partner's keys share its idempotency
 * keys, so a replay after a key rotation still answers the first result.
 */
export function principalKey(principal: Principal): string {
  switch (principal.kind) {
    case 'anonymous':
      return 'anonymous';
    case 'user':
      return `user:${principal.userId}`;
    case 'partner':
      return `partner:${principal.partnerId}`;
    default:
      return `key:${principal.apiKeyId}`;
  }
}

/**
 * SQL condition "the merchant joined as `merchants` is visible"; usable in any query that has
 * the merchants table in scope. Admins see every merchant.
 */
export function merchantVisible(visibility: Visibility): RawBuilder<boolean> {
  if (visibility.all) return sql<boolean>`true`;
  if (visibility.merchantId) {
    return sql<boolean>`(merchants.status = 'APPROVED' or merchants.id = ${visibility.merchantId})`;
  }
  return sql<boolean>`merchants.status = 'APPROVED'`;
}
