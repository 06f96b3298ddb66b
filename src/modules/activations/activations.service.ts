/**
 * "Get Offer": a signed-in user with a linked card saves a live or scheduled cashback offer of
 * an approved merchant, available in the user's country. Merchants see how many, never who.
 */
import type { Kysely, Transaction } from 'kysely';
import type { ActivationRow, DB, OfferRow } from '../../../db/types.js';
import type { Context } from '../../context.js';
import { PUBLIC_VISIBILITY, requireRole, visibilityOf } from '../../lib/authorization.js';
import { fail, notFound } from '../../lib/errors.js';
import { idempotentCommand, rowsById } from '../../lib/idempotency.js';
import { parseGlobalId } from '../../lib/ids.js';
import { userHasLinkedCard } from '../cards/cards.service.js';
import { findOfferForUpdate, findVisibleOffersByIds } from '../offers/offers.service.js';
import { offerStatus } from '../offers/offers.rules.js';
import { findUsersByIds } from '../users/users.service.js';
import {
  countActivationsByOffer,
  deleteActivation,
  findActivatedOfferIds,
  findActivationsOfUser,
  findUserActivationsByIds,
  upsertActivation,
} from './activations.repository.js';

async function publicOffer(db: Kysely<DB>, offerGlobalId: string): Promise<OfferRow> {
  const id = parseGlobalId(offerGlobalId, 'Offer', ['offerId']);
  const [offer] = await findVisibleOffersByIds(db, [id], PUBLIC_VISIBILITY);
  if (!offer) notFound('Offer', ['offerId']);
  return offer;
}

/** A replay answers the same records, read again (the offer as it is now, whatever its status). */
const offerRow = { offer: (trx: Transaction<DB>, id: string) => findOfferForUpdate(trx, id) };

/** Why a user may not activate an offer now, or null when they may. */
async function activationRefusal(
  trx: Transaction<DB>,
  offer: OfferRow,
  userId: string,
  now: Date,
): Promise<{ code: 'INVALID_STATE' | 'COUNTRY_NOT_ELIGIBLE' | 'NO_CARD_LINKED'; message: string } | null> {
  if (offer.kind === 'PURCHASE') return { code: 'INVALID_STATE', message: 'A purchase offer is bought by hashtag, not activated.' };
  const status = offerStatus(offer, now);
  if (status !== 'LIVE' && status !== 'SCHEDULED') return { code: 'INVALID_STATE', message: `A ${status} offer cannot be activated.` };
  const [user] = await findUsersByIds(trx, [userId]);
  if (!user) notFound('User');
  if (!offer.countries.includes(user.country)) return { code: 'COUNTRY_NOT_ELIGIBLE', message: 'The offer is not available in your country.' };
  if (!(await userHasLinkedCard(trx, userId))) return { code: 'NO_CARD_LINKED', message: 'Link a card to get offers.' };
  return null;
}

export async function activateOffer(
  ctx: Context,
  input: { offerId: string; idempotencyKey?: string | null },
): Promise<{ activation: ActivationRow; offer: OfferRow }> {
  const { userId } = requireRole(ctx.principal, 'user');
  return idempotentCommand(
    ctx,
    { operation: 'activateOffer', key: input.idempotencyKey, request: { offerId: input.offerId } },
    async (trx) => {
      const offer = await publicOffer(trx, input.offerId);
      const refusal = await activationRefusal(trx, offer, userId, new Date());
      if (refusal) fail(refusal.code, refusal.message, refusal.code === 'NO_CARD_LINKED' ? null : ['offerId']);
      return { activation: await upsertActivation(trx, offer.id, userId), offer };
    },
    rowsById<{ activation: ActivationRow; offer: OfferRow }>({
      activation: async (trx, id) => (await findUserActivationsByIds(trx, userId, [id]))[0],
      ...offerRow,
    }),
  );
}

/**
 * "Get Offer" by post (an activation hashtag from a verified handle), in the caller's
 * transaction: the same rules as activateOffer, answered as a refusal instead of an error.
 */
export async function activateOfferForUser(
  trx: Transaction<DB>,
  offer: OfferRow,
  userId: string,
  now: Date,
): Promise<{ ok: true; activation: ActivationRow } | { ok: false; code: 'INVALID_STATE' | 'COUNTRY_NOT_ELIGIBLE' | 'NO_CARD_LINKED' }> {
  const refusal = await activationRefusal(trx, offer, userId, now);
  if (refusal) return { ok: false, code: refusal.code };
  return { ok: true, activation: await upsertActivation(trx, offer.id, userId) };
}

export async function deactivateOffer(ctx: Context, input: { offerId: string; idempotencyKey?: string | null }): Promise<{ offer: OfferRow }> {
  const { userId } = requireRole(ctx.principal, 'user');
  const id = parseGlobalId(input.offerId, 'Offer', ['offerId']);
  return idempotentCommand(
    ctx,
    { operation: 'deactivateOffer', key: input.idempotencyKey, request: { id } },
    async (trx) => {
      const [offer] = await findVisibleOffersByIds(trx, [id], visibilityOf(ctx.principal));
      if (!offer) notFound('Offer', ['offerId']);
      await deleteActivation(trx, offer.id, userId); // already inactive is fine
      return { offer };
    },
    rowsById<{ offer: OfferRow }>(offerRow),
  );
}

export function loadVisibleActivations(ctx: Context, ids: readonly string[]): Promise<ActivationRow[]> {
  return ctx.principal.kind === 'user' ? findUserActivationsByIds(ctx.db, ctx.principal.userId, ids) : Promise.resolve([]);
}

export function activationsOf(ctx: Context, userId: string): Promise<ActivationRow[]> {
  return findActivationsOfUser(ctx.db, userId);
}

/** For each offer, whether the calling user activated it (false for anyone else). */
export async function viewerActivated(ctx: Context, offerIds: readonly string[]): Promise<boolean[]> {
  if (ctx.principal.kind !== 'user') return offerIds.map(() => false);
  const activated = await findActivatedOfferIds(ctx.db, ctx.principal.userId, offerIds);
  return offerIds.map((id) => activated.has(id));
}

/** Activation counts for the offers' own merchant and admins; null for everyone else. */
export async function activationCounts(ctx: Context, offers: readonly OfferRow[]): Promise<(number | null)[]> {
  const { all, merchantId } = visibilityOf(ctx.principal);
  const allowed = offers.filter((o) => all || o.merchant_id === merchantId).map((o) => o.id);
  const counts = await countActivationsByOffer(ctx.db, allowed);
  return offers.map((o) => (allowed.includes(o.id) ? (counts.get(o.id) ?? 0) : null));
}
