/**
 * Post types, the timeline lookup `offersForPosts`, and attaching an offer to a post.
 */
import { z } from 'zod';
import type { PostRow } from '../../../db/types.js';
import { builder } from '../../schema/builder.js';
import { idempotencyKeyField, userErrorsField, withUserErrors } from '../../schema/common.js';
import { OfferRef } from '../offers/offers.refs.js';
import { PostRef } from './posts.refs.js';
import { attachOfferToPost, MAX_POSTS_PER_LOOKUP, postsForExternalIds } from './posts.service.js';

PostRef.implement({
  description: 'A social post an offer can be attached to; clients render it with a "Get Offer" button.',
  fields: (t) => ({
    externalId: t.exposeString('external_id', { description: "The social platform's id of the post." }),
    url: t.exposeString('url', { description: 'Link to the post.' }),
    authorHandle: t.exposeString('author_handle', { description: 'Handle of the author, e.g. "@bluebottle".' }),
    text: t.exposeString('text', { description: 'Text of the post.' }),
    offer: t.field({
      type: OfferRef,
      nullable: true,
      description: 'The offer the post carries, when there is one the caller may see.',
      resolve: (post) => post.offer_id,
    }),
    createdAt: t.expose('created_at', { type: 'DateTime', description: 'When hashback first saw the post.' }),
  }),
});

interface PostOffer {
  postId: string;
  post: PostRow | null;
}

const PostOfferRef = builder.objectRef<PostOffer>('PostOffer').implement({
  description: 'What a timeline needs for one of its posts: the offer to show, if any.',
  fields: (t) => ({
    postId: t.exposeID('postId', { description: "The platform's post id that was asked for." }),
    post: t.field({ type: PostRef, nullable: true, description: 'The post, when hashback knows it.', resolve: (p) => p.post }),
    offer: t.field({
      type: OfferRef,
      nullable: true,
      description: 'The offer attached to the post, when the caller may see it (public offers for everyone); null otherwise.',
      resolve: (p) => p.post?.offer_id ?? null,
    }),
  }),
});

builder.queryField('offersForPosts', (t) =>
  t.field({
    type: [PostOfferRef],
    description: `For up to ${MAX_POSTS_PER_LOOKUP} platform post ids, the offer each carries, in the order asked: one call renders a timeline's "Get Offer" buttons.`,
    args: {
      postIds: t.arg.idList({
        required: true,
        description: "The social platform's post ids (Post.externalId).",
        validate: z.array(z.string()).max(MAX_POSTS_PER_LOOKUP, `postIds takes at most ${MAX_POSTS_PER_LOOKUP} ids`),
      }),
    },
    resolve: async (_root, { postIds }, ctx) => {
      const posts = await postsForExternalIds(ctx, postIds);
      return postIds.map((postId, i) => ({ postId, post: posts[i] ?? null }));
    },
  }),
);

const PostInputRef = builder.inputType('PostInput', {
  description: 'A social post as the platform shows it.',
  fields: (t) => ({
    externalId: t.string({ required: true, description: "The platform's id of the post, 1 to 128 characters." }),
    url: t.string({ required: true, description: 'http(s) link to the post.' }),
    authorHandle: t.string({ required: true, description: 'Handle of the author.' }),
    text: t.string({ required: false, description: 'Text of the post, up to 5000 characters.' }),
  }),
});

builder.relayMutationField(
  'attachOfferToPost',
  {
    description: 'Input of attachOfferToPost.',
    inputFields: (t) => ({
      offerId: t.id({ required: true, description: 'Global id of one of your offers.' }),
      post: t.field({ type: PostInputRef, required: true, description: 'The post to attach it to; created if new.' }),
      idempotencyKey: idempotencyKeyField(t),
    }),
  },
  {
    description: 'Attaches one of your offers to a social post (merchant key). A post carries one offer; repeating is harmless.',
    resolve: (_root, { input }, ctx) =>
      withUserErrors(() => attachOfferToPost(ctx, { ...input, post: { ...input.post, text: input.post.text ?? undefined } })),
  },
  {
    description: 'Result of attachOfferToPost.',
    outputFields: (t) => ({
      post: t.expose('post', { type: PostRef, nullable: true, description: 'The post carrying the offer.' }),
      offer: t.expose('offer', { type: OfferRef, nullable: true, description: 'The offer.' }),
      userErrors: userErrorsField(t),
    }),
  },
);
