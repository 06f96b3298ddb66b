/**
 * Posts: a merchant attaches its offer to a social post; timelines ask, in one call, which of
 * their posts carry an offer to render a "Get Offer" button.
 */
import { z } from 'zod';
import type { OfferRow, PostRow } from '../../../db/types.js';
import type { Context } from '../../context.js';
import { requireRole } from '../../lib/authorization.js';
import { fail, notFound } from '../../lib/errors.js';
import { groupByKeys } from '../../lib/group.js';
import { idempotentCommand, rowsById, type WithIdempotencyKey } from '../../lib/idempotency.js';
import { parseGlobalId } from '../../lib/ids.js';
import { httpUrl, parseInput, text } from '../../lib/validation.js';
import { findOfferForUpdate } from '../offers/offers.service.js';
import { findPostsByExternalIds, findPostsByIds, findPostsByOfferIds, setPostOffer, upsertPostForUpdate } from './posts.repository.js';

export const MAX_POSTS_PER_LOOKUP = 100;

const externalId = text(1, 128);

const attachInput = z.object({
  offerId: z.string(),
  post: z.object({
    externalId,
    url: httpUrl(),
    authorHandle: text(1, 64),
    text: z.string().max(5000, 'must be at most 5000 characters').default(''),
  }),
});

export async function attachOfferToPost(
  ctx: Context,
  input: z.input<typeof attachInput> & WithIdempotencyKey,
): Promise<{ post: PostRow; offer: OfferRow }> {
  const { merchantId } = requireRole(ctx.principal, 'merchant');
  const data = parseInput(attachInput, input);
  const offerId = parseGlobalId(data.offerId, 'Offer', ['offerId']);
  // A replay answers the same post and offer, read again.
  const replay = rowsById<{ post: PostRow; offer: OfferRow }>({
    post: async (trx, id) => (await findPostsByIds(trx, [id]))[0],
    offer: findOfferForUpdate,
  });
  return idempotentCommand(ctx, { operation: 'attachOfferToPost', key: input.idempotencyKey, request: data }, async (trx) => {
    const offer = await findOfferForUpdate(trx, offerId);
    if (!offer || offer.merchant_id !== merchantId) notFound('Offer', ['offerId']);
    const post = await upsertPostForUpdate(trx, data.post);
    if (post.offer_id === offer.id) return { post, offer }; // already attached: nothing to do
    if (post.offer_id) fail('POST_HAS_OTHER_OFFER', 'The post already carries another offer.', ['post', 'externalId']);
    return { post: await setPostOffer(trx, post.id, offer.id), offer };
  }, replay);
}

/** Posts are public content. */
export function loadVisiblePosts(ctx: Context, ids: readonly string[]): Promise<PostRow[]> {
  return findPostsByIds(ctx.db, ids);
}

export async function loadPostsOfOffers(ctx: Context, offerIds: readonly string[]): Promise<PostRow[][]> {
  return groupByKeys(offerIds, await findPostsByOfferIds(ctx.db, offerIds), (p) => p.offer_id!);
}

/** For each external post id, in order: the post we know under it, or null. */
export async function postsForExternalIds(ctx: Context, externalIds: readonly string[]): Promise<(PostRow | null)[]> {
  const unique = [...new Set(externalIds)];
  const posts = await findPostsByExternalIds(ctx.db, unique);
  const byExternalId = new Map(posts.map((p) => [p.external_id, p]));
  return externalIds.map((id) => byExternalId.get(id) ?? null);
}
