/**
 * Social accounts (the signed-in user's verified handles, proving and unlinking them) and
 * `ingestPosts` for social partners.
 */
import type { UserError } from '../../lib/errors.js';
import { builder } from '../../schema/builder.js';
import { CARD_NUMBER_ALLOWED } from '../../schema/card-number-guard.js';
import { idempotencyKeyField, UserErrorRef, userErrorsField, withUserErrors, type PayloadFieldBuilder } from '../../schema/common.js';
import { OfferRef } from '../offers/offers.refs.js';
import { PurchaseIntentRef } from '../orders/orders.refs.js';
import { SocialPlatformRef } from '../replies/replies.schema.js';
import { UserRef } from '../users/users.refs.js';
import { SocialAccountRef } from './social.refs.js';
import { ingestPosts, MAX_POSTS_PER_CALL, POST_REASONS, socialAccountsOf, startHandleVerification, unlinkSocialAccount, type PostResult } from './social.service.js';

const SocialAccountStatusRef = builder.enumType('SocialAccountStatus', {
  description: 'Whether a handle acts for its user.',
  values: {
    VERIFIED: { description: 'Proven by a post; its posts buy, confirm and activate for the user.' },
    MOVED: { description: 'Another user proved the handle later: it acts for them now.' },
    UNLINKED: { description: 'The user unlinked it.' },
  },
});

SocialAccountRef.implement({
  description: "A social handle the signed-in user proved by posting a code. Visible to its user only.",
  fields: (t) => ({
    platform: t.expose('platform', { type: SocialPlatformRef, description: 'The platform.' }),
    handle: t.exposeString('handle', { description: 'The handle, lower case, without "@".' }),
    status: t.expose('status', { type: SocialAccountStatusRef, description: 'Whether it acts for the user.' }),
    verifiedAt: t.expose('verified_at', { type: 'DateTime', description: 'When the proof was read.' }),
  }),
});

builder.objectFields(UserRef, (t) => ({
  socialAccounts: t.field({
    type: [SocialAccountRef],
    description: "The user's verified handles, oldest first.",
    resolve: (user, _args, ctx) => socialAccountsOf(ctx, user.id),
  }),
}));

const HandleVerificationRef = builder
  .objectRef<{ platform: 'X' | 'INSTAGRAM'; handle: string; code: string; expiresAt: Date }>('HandleVerification')
  .implement({
    description: 'A code to post from the handle, proving it is yours.',
    fields: (t) => ({
      platform: t.expose('platform', { type: SocialPlatformRef, description: 'The platform.' }),
      handle: t.exposeString('handle', { description: 'The handle, lower case, without "@".' }),
      code: t.exposeString('code', { description: 'Post this code (e.g. "HB-7K4Q9M") from the handle; anywhere in the text.' }),
      expiresAt: t.expose('expiresAt', { type: 'DateTime', description: 'The code works until then (30 minutes).' }),
    }),
  });

builder.relayMutationField(
  'startHandleVerification',
  {
    description: 'Input of startHandleVerification.',
    inputFields: (t) => ({
      platform: t.field({ type: SocialPlatformRef, required: true, description: 'The platform.' }),
      handle: t.string({ required: true, description: 'Your handle, with or without "@".' }),
      idempotencyKey: idempotencyKeyField(t),
    }),
  },
  {
    description:
      'Starts proving a handle (signed-in user): post the code from it within 30 minutes. When the social partner delivers that post, the handle is yours; if another user held it, it moves to you and their pending purchases are cancelled.',
    resolve: (_root, { input }, ctx) => withUserErrors(() => startHandleVerification(ctx, input)),
  },
  {
    description: 'Result of startHandleVerification.',
    outputFields: (t) => ({
      verification: t.expose('verification', { type: HandleVerificationRef, nullable: true, description: 'The code to post.' }),
      userErrors: userErrorsField(t),
    }),
  },
);

builder.relayMutationField(
  'unlinkSocialAccount',
  {
    description: 'Input of unlinkSocialAccount.',
    inputFields: (t) => ({
      accountId: t.id({ required: true, description: 'Global id of one of your social accounts.' }),
      idempotencyKey: idempotencyKeyField(t),
    }),
  },
  {
    description: 'Unlinks one of your handles: its posts no longer act for you, and its purchases awaiting confirmation are cancelled.',
    resolve: (_root, { input }, ctx) => withUserErrors(() => unlinkSocialAccount(ctx, { ...input, accountId: String(input.accountId) })),
  },
  {
    description: 'Result of unlinkSocialAccount.',
    outputFields: (t) => ({
      account: t.expose('account', { type: SocialAccountRef, nullable: true, description: 'The account after the change.' }),
      userErrors: userErrorsField(t),
    }),
  },
);

const PostOutcomeRef = builder.enumType('PostOutcome', {
  description: 'What a delivered post did.',
  values: {
    VERIFIED_HANDLE: { description: 'It held a verification code: the handle is now its user\'s.' },
    INTENT_CREATED: { description: 'A buy hashtag from a verified handle: a purchase awaits confirmation, one unit held.' },
    ORDER_PLACED: { description: 'A confirm hashtag: the card was charged and the order placed.' },
    PAYMENT_PENDING: { description: 'A confirm hashtag: confirmed, but the payment gateway has not answered yet; it is retried with the same key (one charge).' },
    OFFER_ACTIVATED: { description: 'An activation hashtag: the cashback offer is saved for the user ("Get Offer").' },
    IGNORED: { description: 'Nothing for hashback in it (no hashtag of a published offer, or none at all).' },
    DUPLICATE: { description: 'This partner delivered this post before (perhaps edited): nothing changed; the first outcome is returned.' },
    REJECTED: { description: 'Refused: see `reason` (or `errors` when the item is malformed and was not stored).' },
  },
});

const PostReasonRef = builder.enumType('PostReason', {
  description: 'Why a post did nothing.',
  values: Object.fromEntries(Object.entries(POST_REASONS).map(([k, description]) => [k, { description }])) as Record<keyof typeof POST_REASONS, { description: string }>,
});

const PostResultRef = builder.objectRef<PostResult>('PostResult').implement({
  description: 'The result of one delivered post, in the order sent.',
  fields: (t) => ({
    platform: t.expose('platform', { type: SocialPlatformRef, description: 'The platform.' }),
    postId: t.exposeString('postId', { description: "The platform's id of the post." }),
    outcome: t.expose('outcome', { type: PostOutcomeRef, description: 'What it did.' }),
    reason: t.field({ type: PostReasonRef, nullable: true, description: 'Why it did nothing; null otherwise.', resolve: (r) => r.reason }),
    errors: t.field({ type: [UserErrorRef], description: 'Why a malformed item was refused; empty otherwise.', resolve: (r) => r.errors }),
    offer: t.field({ type: OfferRef, nullable: true, description: 'The offer its hashtag named.', resolve: (r) => r.offerId }),
    purchaseIntent: t.field({
      type: PurchaseIntentRef,
      nullable: true,
      description: "The purchase it started or confirmed (visible to the buyer only: null for the partner).",
      resolve: (r) => r.intentId,
    }),
  }),
});

const PostInputRef = builder.inputType('SocialPostInput', {
  description: 'One post as the platform shows it.',
  fields: (t) => ({
    platform: t.field({ type: SocialPlatformRef, required: true, description: 'The platform.' }),
    postId: t.string({ required: true, description: "The platform's id of the post, 1 to 128 characters. The same post again (even edited) is a DUPLICATE." }),
    authorHandle: t.string({ required: true, description: 'Who posted it, with or without "@".' }),
    // People type anything; a card number in a post is redacted before storage, never refused.
    text: t.string({ required: true, description: 'The text, at most 5,000 characters. Card numbers in it are redacted before it is stored.', extensions: CARD_NUMBER_ALLOWED }),
    postedAt: t.field({ type: 'DateTime', required: true, description: 'When it was posted.' }),
    inReplyToPostId: t.string({ required: false, description: "The post it answers (the platform's id), if any: e.g. a confirmation answering the prompt." }),
    url: t.string({ required: false, description: 'Link to the post.' }),
  }),
});

builder.relayMutationField(
  'ingestPosts',
  {
    description: 'Input of ingestPosts.',
    inputFields: (t) => ({
      posts: t.field({ type: [PostInputRef], required: true, description: `1 to ${MAX_POSTS_PER_CALL} posts.` }),
      idempotencyKey: idempotencyKeyField(t),
    }),
  },
  {
    description:
      'Delivers posts the platform saw (partners with the posts:write scope). One result per post, in order. From a verified handle, a verification code proves a handle, a buy hashtag starts a purchase, a confirm hashtag confirms it (and charges the card), an activation hashtag activates a cashback offer. What the platform should post back appears in `socialReplies`.',
    resolve: (_root, { input }, ctx) => withUserErrors(() => ingestPosts(ctx, input)),
  },
  {
    description: 'Result of ingestPosts.',
    outputFields: (t: PayloadFieldBuilder<{ results?: PostResult[]; userErrors: UserError[] }>) => ({
      results: t.field({
        type: [PostResultRef],
        nullable: true,
        description: 'One result per post, in the order sent; null when the whole call was refused.',
        resolve: (p) => p.results ?? null,
      }),
      userErrors: userErrorsField(t),
    }),
  },
);
