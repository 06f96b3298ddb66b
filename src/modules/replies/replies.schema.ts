/**
 * Social replies for the partner that delivered the posts: read in order, acknowledge once posted.
 * Also the `SocialPlatform` enum the social and orders modules share.
 */
import { builder } from '../../schema/builder.js';
import { idempotencyKeyField, pageArgs, userErrorsField, withUserErrors } from '../../schema/common.js';
import { SocialReplyRef } from './replies.refs.js';
import { REPLY_KINDS } from './replies.rules.js';
import { acknowledgeSocialReplies, listSocialReplies, MAX_ACKS_PER_CALL } from './replies.service.js';

export const SocialPlatformRef = builder.enumType('SocialPlatform', {
  description: 'A social platform whose posts hashback reads through its partner.',
  values: {
    X: { description: 'X (formerly Twitter).' },
    INSTAGRAM: { description: 'Instagram.' },
  },
});

export const SocialReplyKindRef = builder.enumType('SocialReplyKind', {
  description: 'Why a reply was written.',
  values: Object.fromEntries(Object.entries(REPLY_KINDS).map(([k, description]) => [k, { description }])) as Record<
    keyof typeof REPLY_KINDS,
    { description: string }
  >,
});

SocialReplyRef.implement({
  description:
    'What the platform should post in reply to a post it delivered. Public text: never card digits, an e-mail address, or any amount but the offer\'s public price.',
  fields: (t) => ({
    platform: t.expose('platform', { type: SocialPlatformRef, description: 'Where to post it.' }),
    inReplyToPostId: t.exposeString('in_reply_to_post_id', { description: "The platform's id of the post it answers." }),
    kind: t.field({ type: SocialReplyKindRef, description: 'Why it was written.', resolve: (r) => r.kind as keyof typeof REPLY_KINDS }),
    text: t.exposeString('text', { description: 'The text to post, at most 500 characters.' }),
    createdAt: t.expose('created_at', { type: 'DateTime', description: 'When it was written.' }),
    acknowledgedAt: t.expose('acknowledged_at', { type: 'DateTime', nullable: true, description: 'When the partner said it was posted.' }),
    platformPostId: t.exposeString('platform_post_id', { nullable: true, description: "The platform's id of the posted reply, once acknowledged." }),
  }),
});

const SocialReplyConnectionRef = builder.connectionObject(
  { type: SocialReplyRef, name: 'SocialReplyConnection', description: 'A page of replies, oldest first.' },
  { description: 'A reply in a page; its cursor resumes after it.' },
);

builder.queryFields((t) => ({
  socialReplies: t.field({
    type: SocialReplyConnectionRef,
    description:
      'Replies to the posts the calling partner delivered on one platform, oldest first (partner key with posts:write). Keep the last cursor and ask again with `after` for new ones.',
    args: {
      ...pageArgs,
      platform: t.arg({ type: SocialPlatformRef, required: true, description: 'The platform.' }),
      unacknowledgedOnly: t.arg.boolean({ required: false, defaultValue: false, description: 'Only replies not acknowledged yet.' }),
    },
    resolve: (_root, args, ctx) => listSocialReplies(ctx, args),
  }),
}));

const ReplyAckInputRef = builder.inputType('SocialReplyAckInput', {
  description: 'One posted reply.',
  fields: (t) => ({
    id: t.id({ required: true, description: 'Global id of the reply.' }),
    platformPostId: t.string({ required: true, description: "The platform's id of the posted reply, 1 to 128 characters." }),
  }),
});

builder.relayMutationField(
  'acknowledgeSocialReplies',
  {
    description: 'Input of acknowledgeSocialReplies.',
    inputFields: (t) => ({
      replies: t.field({ type: [ReplyAckInputRef], required: true, description: `1 to ${MAX_ACKS_PER_CALL} posted replies.` }),
      idempotencyKey: idempotencyKeyField(t),
    }),
  },
  {
    description:
      'Records that the calling partner posted these replies (partner key with posts:write). A reply acknowledged before keeps its first post id. A post answering a reply names it by that id, so a confirmation can reply to the prompt.',
    resolve: (_root, { input }, ctx) =>
      withUserErrors(() => acknowledgeSocialReplies(ctx, { ...input, replies: input.replies.map((r) => ({ id: String(r.id), platformPostId: r.platformPostId })) })),
  },
  {
    description: 'Result of acknowledgeSocialReplies.',
    outputFields: (t) => ({
      replies: t.expose('replies', { type: [SocialReplyRef], nullable: true, description: 'The replies as they are now, in the order given.' }),
      userErrors: userErrorsField(t),
    }),
  },
);
