/**
 * Locations: where a merchant takes cards, with the network merchant ids that match its
 * transactions. Only the merchant itself manages them; MIDs are shown to it and to admins only.
 */
import { z } from 'zod';
import type { Kysely } from 'kysely';
import type { DB, LocationMidRow, LocationRow } from '../../../db/types.js';
import type { Context } from '../../context.js';
import { requireRole, visibilityOf } from '../../lib/authorization.js';
import { isUniqueViolation } from '../../lib/db-errors.js';
import { DomainError, fail, notFound } from '../../lib/errors.js';
import { groupByKeys } from '../../lib/group.js';
import { idempotentCommand, rowsById, type WithIdempotencyKey } from '../../lib/idempotency.js';
import { parseGlobalId } from '../../lib/ids.js';
import { countryCode, parseInput, text, timeZone } from '../../lib/validation.js';
import {
  findLocationForUpdate,
  findLocationsByMerchantIds,
  findLocationsByOfferIds,
  findMidsByLocationIds,
  findTakenMids,
  findVisibleLocationsByIds,
  insertLocation,
  replaceLocationMids,
  updateLocationFields,
  type Mid,
} from './locations.repository.js';

const MAX_MIDS = 20;

const midsInput = z
  .array(
    z.object({
      network: z.enum(['VISA', 'MASTERCARD', 'AMEX', 'DISCOVER']),
      mid: z
        .string()
        .trim()
        .regex(/^[A-Za-z0-9-]{1,32}$/, 'must be 1 to 32 letters, digits or dashes'),
    }),
  )
  .max(MAX_MIDS, `must list at most ${MAX_MIDS} merchant ids`)
  .superRefine((mids, ctx) => {
    const seen = new Set<string>();
    mids.forEach((m, i) => {
      const key = `${m.network}:${m.mid}`;
      if (seen.has(key)) ctx.addIssue({ code: 'custom', path: [i, 'mid'], message: `lists ${m.network} ${m.mid} twice` });
      seen.add(key);
    });
  });

const fields = {
  name: text(1, 120),
  channel: z.enum(['IN_STORE', 'ONLINE']),
  country: countryCode(),
  timezone: timeZone(),
  address: text(1, 300).nullish(),
  mids: midsInput,
};

const createInput = z.object({ ...fields, mids: midsInput.default([]) });
const updateInput = z.object({
  locationId: z.string(),
  name: fields.name.optional(),
  channel: fields.channel.optional(),
  country: fields.country.optional(),
  timezone: fields.timezone.optional(),
  address: fields.address,
  mids: midsInput.optional(),
});

/** Refuses MIDs registered to another location; the primary key re-checks under concurrency. */
async function assertMidsFree(db: Kysely<DB>, mids: Mid[], exceptLocationId: string | null): Promise<void> {
  const taken = await findTakenMids(db, mids, exceptLocationId);
  if (taken.length > 0) {
    throw new DomainError(
      taken.map((t) => ({
        code: 'MID_TAKEN' as const,
        message: `${t.network} merchant id ${t.mid} is already registered`,
        field: ['mids', String(mids.findIndex((m) => m.network === t.network && m.mid === t.mid)), 'mid'],
      })),
    );
  }
}

function midTakenOnRace(error: unknown): never {
  if (isUniqueViolation(error)) fail('MID_TAKEN', 'A merchant id in mids is already registered on its network', ['mids']);
  throw error;
}

/** A replay answers the same location, read again. */
const locationReplay = rowsById<{ location: LocationRow }>({ location: findLocationForUpdate });

export async function createLocation(ctx: Context, input: z.input<typeof createInput> & WithIdempotencyKey): Promise<{ location: LocationRow }> {
  const { merchantId } = requireRole(ctx.principal, 'merchant');
  const { mids, ...data } = parseInput(createInput, input);
  return idempotentCommand(
    ctx,
    { operation: 'createLocation', key: input.idempotencyKey, request: { mids, ...data } },
    async (trx) => {
      await assertMidsFree(trx, mids, null);
      const location = await insertLocation(trx, merchantId, { ...data, address: data.address ?? null });
      await replaceLocationMids(trx, location.id, mids);
      return { location };
    },
    locationReplay,
  ).catch(midTakenOnRace);
}

export async function updateLocation(ctx: Context, input: z.input<typeof updateInput> & WithIdempotencyKey): Promise<{ location: LocationRow }> {
  const { merchantId } = requireRole(ctx.principal, 'merchant');
  const { locationId, mids, ...data } = parseInput(updateInput, input);
  const id = parseGlobalId(locationId, 'Location', ['locationId']);
  return idempotentCommand(
    ctx,
    { operation: 'updateLocation', key: input.idempotencyKey, request: { id, mids, ...data } },
    async (trx) => {
      const current = await findLocationForUpdate(trx, id);
      if (!current || current.merchant_id !== merchantId) notFound('Location', ['locationId']);
      if (mids) await assertMidsFree(trx, mids, id);
      const patch = Object.fromEntries(Object.entries(data).filter(([, v]) => v !== undefined));
      const location = Object.keys(patch).length > 0 ? await updateLocationFields(trx, id, patch) : current;
      if (mids) await replaceLocationMids(trx, id, mids);
      return { location };
    },
    locationReplay,
  ).catch(midTakenOnRace);
}

export function loadVisibleLocations(ctx: Context, ids: readonly string[]): Promise<LocationRow[]> {
  return findVisibleLocationsByIds(ctx.db, ids, visibilityOf(ctx.principal));
}

/** Locations of each merchant, for merchants the caller already sees. */
export async function loadLocationsOfMerchants(ctx: Context, merchantIds: readonly string[]): Promise<LocationRow[][]> {
  return groupByKeys(merchantIds, await findLocationsByMerchantIds(ctx.db, merchantIds), (r) => r.merchant_id);
}

/** Locations of each offer, for offers the caller already sees. */
export async function loadLocationsOfOffers(ctx: Context, offerIds: readonly string[]): Promise<LocationRow[][]> {
  return groupByKeys(offerIds, await findLocationsByOfferIds(ctx.db, offerIds), (r) => r.offer_id);
}

/** MIDs of each location: only for its own merchant and admins; null for anyone else. */
export async function loadMidsOfLocations(ctx: Context, locations: readonly LocationRow[]): Promise<(LocationMidRow[] | null)[]> {
  const { all, merchantId } = visibilityOf(ctx.principal);
  const allowed = locations.filter((l) => all || l.merchant_id === merchantId).map((l) => l.id);
  const groups = groupByKeys(allowed, await findMidsByLocationIds(ctx.db, allowed), (r) => r.location_id);
  return locations.map((l) => {
    const index = allowed.indexOf(l.id);
    return index === -1 ? null : (groups[index] ?? []);
  });
}

/** What other modules read or lock through this one (they never import its repository). */
export { findLocationsByOfferIds, findMerchantLocationIds, findMidsByLocationIds } from './locations.repository.js';
