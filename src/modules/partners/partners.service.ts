/**
 * Partners: admins create them with scopes, suspend and reactivate them; the api-keys module
 * issues their keys through `partnerForNewKey`. A partner key reads its own partner; admins read
 * every partner; nobody else sees one (not found, never forbidden).
 */
import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { DB, PartnerRow, PartnerStatus } from '../../../db/types.js';
import type { Context, PartnerScope } from '../../context.js';
import { requireRole } from '../../lib/authorization.js';
import { fail, notFound } from '../../lib/errors.js';
import { idempotentCommand, rowsById, type WithIdempotencyKey } from '../../lib/idempotency.js';
import { parseGlobalId } from '../../lib/ids.js';
import { decodeCursor, encodeCursor, toPage, type Page } from '../../lib/pagination.js';
import { emailAddress, parseInput, text } from '../../lib/validation.js';
import { findPartnerById, findPartnersByIds, insertPartner, listPartnersByName, setPartnerStatus } from './partners.repository.js';

const createInput = z.object({
  name: text(1, 120),
  // The PartnerScope enum has already refused unknown values.
  scopes: z.array(z.custom<PartnerScope>((v) => typeof v === 'string')).max(50),
  contactEmail: emailAddress().nullish(),
});

/** A replay answers the same partner, read again. */
const partnerReplay = rowsById<{ partner: PartnerRow }>({ partner: findPartnerById });

export async function createPartner(ctx: Context, input: z.input<typeof createInput> & WithIdempotencyKey): Promise<{ partner: PartnerRow }> {
  requireRole(ctx.principal, 'admin');
  const data = parseInput(createInput, input);
  const scopes = [...new Set(data.scopes)];
  return idempotentCommand(
    ctx,
    { operation: 'createPartner', key: input.idempotencyKey, request: { name: data.name, scopes, ...(data.contactEmail ? { contactEmail: data.contactEmail } : {}) } },
    async (trx) => {
      const partner = await insertPartner(trx, { name: data.name, scopes, contactEmail: data.contactEmail ?? null });
      ctx.logger.info({ partnerId: partner.id }, 'partner created');
      return { partner };
    },
    partnerReplay,
  );
}

async function movePartner(ctx: Context, input: { partnerId: string } & WithIdempotencyKey, status: PartnerStatus): Promise<{ partner: PartnerRow }> {
  requireRole(ctx.principal, 'admin');
  const id = parseGlobalId(input.partnerId, 'Partner', ['partnerId']);
  const operation = status === 'ACTIVE' ? 'activatePartner' : 'suspendPartner';
  return idempotentCommand(
    ctx,
    { operation, key: input.idempotencyKey, request: { id } },
    async (trx) => {
      const { partner, changed } = await setPartnerStatus(trx, id, status);
      if (!partner) notFound('Partner', ['partnerId']);
      // Repeating the same move is a no-op success, so a retried request is harmless.
      if (changed) ctx.logger.info({ partnerId: id, status }, 'partner status changed');
      return { partner };
    },
    partnerReplay,
  );
}

/** Suspends a partner: every one of its keys is refused (HTTP 401) from the next request on. */
export const suspendPartner = (ctx: Context, input: { partnerId: string } & WithIdempotencyKey) => movePartner(ctx, input, 'SUSPENDED');
/** Reactivates a suspended partner: its keys that were not revoked work again. */
export const activatePartner = (ctx: Context, input: { partnerId: string } & WithIdempotencyKey) => movePartner(ctx, input, 'ACTIVE');

/** Partners the caller may see: every partner for an admin, its own for a partner key. */
export function loadVisiblePartners(ctx: Context, ids: readonly string[]): Promise<PartnerRow[]> {
  const p = ctx.principal;
  if (p.kind === 'admin') return findPartnersByIds(ctx.db, ids);
  if (p.kind === 'partner') return findPartnersByIds(ctx.db, ids.filter((id) => id === p.partnerId));
  return Promise.resolve([]);
}

/** Every partner by name, for admins; an empty list for anyone else. */
export async function listPartners(ctx: Context, args: { first: number; after?: string | null }): Promise<Page<PartnerRow>> {
  const after = args.after ? decodeCursor(args.after, ['text', 'uuid'] as const) : null;
  if (ctx.principal.kind !== 'admin') return toPage([], args.first, args.after, () => '');
  const rows = await listPartnersByName(ctx.db, { limit: args.first + 1, after });
  return toPage(rows, args.first, args.after, (p) => encodeCursor([p.name, p.id]));
}

/** The partner of the calling partner key; null for anyone else. */
export function viewerPartnerId(ctx: Context): string | null {
  return ctx.principal.kind === 'partner' ? ctx.principal.partnerId : null;
}

/**
 * The partner a new PARTNER key is issued to (the caller is an admin, checked by the api-keys
 * service): it exists, is active, and holds every scope the key narrows it to.
 */
export async function partnerForNewKey(db: Kysely<DB>, partnerGlobalId: string, scopes: readonly PartnerScope[] | null): Promise<PartnerRow> {
  const id = parseGlobalId(partnerGlobalId, 'Partner', ['partnerId']);
  const partner = await findPartnerById(db, id);
  if (!partner) notFound('Partner', ['partnerId']);
  if (partner.status !== 'ACTIVE') fail('PARTNER_SUSPENDED', 'The partner is suspended: reactivate it before issuing keys.', ['partnerId']);
  const missing = (scopes ?? []).filter((s) => !partner.scopes.includes(s));
  if (missing.length > 0) {
    fail('SCOPE_NOT_HELD', `The partner does not hold ${missing.join(', ')}; a key may only narrow its partner's scopes.`, ['scopes']);
  }
  return partner;
}

/** What other modules and scripts read through this one (they never import its repository). */
export { findPartnerById } from './partners.repository.js';
