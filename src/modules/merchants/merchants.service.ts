/**
 * Merchants: admins create, approve and suspend them; everyone reads the approved ones.
 */
import { z } from 'zod';
import type { MerchantRow, MerchantStatus } from '../../../db/types.js';
import type { Context } from '../../context.js';
import { requireRole, visibilityOf } from '../../lib/authorization.js';
import { fail, notFound } from '../../lib/errors.js';
import { idempotentCommand, rowsById, type WithIdempotencyKey } from '../../lib/idempotency.js';
import { parseGlobalId } from '../../lib/ids.js';
import { decodeCursor, encodeCursor, toPage, type Page } from '../../lib/pagination.js';
import { countryCode, emailAddress, parseInput, text } from '../../lib/validation.js';
import { insertEvents } from '../../outbox/outbox.repository.js';
import { MERCHANT_TOPIC } from './merchants.topics.js';
import { findMerchantById, findVisibleMerchantsByIds, insertMerchant, listVisibleMerchants, transitionMerchant } from './merchants.repository.js';

const createInput = z.object({
  name: text(1, 120),
  country: countryCode(),
  category: text(1, 60),
  socialHandle: z
    .string()
    .trim()
    .regex(/^@?[A-Za-z0-9_]{1,30}$/, 'must be a handle of 1 to 30 letters, digits or underscores')
    .transform((h) => (h.startsWith('@') ? h : `@${h}`))
    .nullish(),
  contactEmail: emailAddress().nullish(),
});

/** A replay answers the same merchant, read again. */
const merchantReplay = rowsById<{ merchant: MerchantRow }>({ merchant: findMerchantById });

export async function createMerchant(ctx: Context, input: z.input<typeof createInput> & WithIdempotencyKey): Promise<{ merchant: MerchantRow }> {
  requireRole(ctx.principal, 'admin');
  const data = parseInput(createInput, input);
  return idempotentCommand(
    ctx,
    { operation: 'createMerchant', key: input.idempotencyKey, request: data },
    async (trx) => {
      const merchant = await insertMerchant(trx, { ...data, socialHandle: data.socialHandle ?? null, contactEmail: data.contactEmail ?? null });
      ctx.logger.info({ merchantId: merchant.id }, 'merchant created');
      return { merchant };
    },
    merchantReplay,
  );
}

/** Allowed moves: approve a pending or suspended merchant, suspend a pending or approved one. */
const TRANSITIONS: Record<'APPROVED' | 'SUSPENDED', MerchantStatus[]> = {
  APPROVED: ['PENDING', 'SUSPENDED'],
  SUSPENDED: ['PENDING', 'APPROVED'],
};

async function moveMerchant(ctx: Context, input: { merchantId: string } & WithIdempotencyKey, status: 'APPROVED' | 'SUSPENDED') {
  requireRole(ctx.principal, 'admin');
  const id = parseGlobalId(input.merchantId, 'Merchant', ['merchantId']);
  const operation = status === 'APPROVED' ? 'approveMerchant' : 'suspendMerchant';
  return idempotentCommand(
    ctx,
    { operation, key: input.idempotencyKey, request: { id } },
    async (trx) => {
      const { merchant, changed } = await transitionMerchant(trx, id, TRANSITIONS[status], status);
      if (!merchant) notFound('Merchant', ['merchantId']);
      // Repeating the same move is a no-op success, so a retried request is harmless.
      if (!changed && merchant.status !== status) {
        fail('INVALID_STATE', `A ${merchant.status} merchant cannot become ${status}.`, ['merchantId']);
      }
      if (changed) {
        await insertEvents(trx, [MERCHANT_TOPIC.event(status, id, { merchantId: id }, { status })]);
        ctx.logger.info({ merchantId: id, status }, 'merchant status changed');
      }
      return { merchant };
    },
    merchantReplay,
  );
}

export const approveMerchant = (ctx: Context, input: { merchantId: string } & WithIdempotencyKey) => moveMerchant(ctx, input, 'APPROVED');
export const suspendMerchant = (ctx: Context, input: { merchantId: string } & WithIdempotencyKey) => moveMerchant(ctx, input, 'SUSPENDED');

export function loadVisibleMerchants(ctx: Context, ids: readonly string[]): Promise<MerchantRow[]> {
  return findVisibleMerchantsByIds(ctx.db, ids, visibilityOf(ctx.principal));
}

export async function listMerchants(ctx: Context, args: { first: number; after?: string | null }): Promise<Page<MerchantRow>> {
  const after = args.after ? decodeCursor(args.after, ['text', 'uuid'] as const) : null;
  const rows = await listVisibleMerchants(ctx.db, visibilityOf(ctx.principal), { limit: args.first + 1, after });
  return toPage(rows, args.first, args.after, (m) => encodeCursor([m.name, m.id]));
}

/** What other modules read or lock through this one (they never import its repository). */
export { findMerchantById } from './merchants.repository.js';
