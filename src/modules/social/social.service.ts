/**
 * Social accounts and the posts social partners deliver.
 *
 * A user proves a handle by posting a short code: `startHandleVerification` gives it, and when
 * the partner's feed (`ingestPosts`) shows a post from that handle holding the code, the handle
 * becomes the user's. One verified owner per (platform, handle): a later proof by another user
 * moves it, and the previous owner's open purchase intents are cancelled.
 *
 * `ingestPosts` reads each post once per (platform, post id), whichever partner delivers it — a
 * replay, an edited version or another partner's relay of it never acts twice — redacts card
 * numbers from its text before storing it, and then,
 * from a verified handle: a verification code proves the handle, a confirm hashtag confirms the
 * author's open purchase intent, a buy hashtag starts one, an activation hashtag is "Get Offer".
 * Every post gets an outcome and, when nothing happened, a reason. Confirmed intents are charged
 * right after the batch commits (and by the payments queue if this process dies first).
 */
import type { Kysely, Transaction } from 'kysely';
import { z } from 'zod';
import type { DB, OfferRow, PostOutcome, SocialAccountRow, SocialPlatform, SocialPostRow } from '../../../db/types.js';
import type { Context } from '../../context.js';
import { principalKey, requirePartnerScope, requireRole } from '../../lib/authorization.js';
import { fail, notFound, type ErrorCode, type UserError } from '../../lib/errors.js';
import { idempotent, idempotentCommand, type WithIdempotencyKey } from '../../lib/idempotency.js';
import { isUuid, parseGlobalId } from '../../lib/ids.js';
import { inRetryingTransaction } from '../../lib/retry.js';
import { parseInput } from '../../lib/validation.js';
import { withinLimit } from '../../rate-limits.js';
import { activateOfferForUser } from '../activations/activations.service.js';
import { findPublishedOffersByHashtags } from '../offers/offers.service.js';
import {
  cancelOpenIntentsOfAccount,
  confirmIntentFromPost,
  findIntentByBuyPost,
  settleIntent,
  startIntentFromPost,
  type SettleOutcome,
} from '../orders/orders.service.js';
import { findReplyByPlatformPost, queueReply, type ReplyKind } from '../replies/replies.service.js';
import { extractHashtags, findVerificationCodes, generateVerificationCode, isValidHandle, normalizeHandle, redactCardNumbers } from './hashtags.rules.js';
import {
  claimPost,
  endAccount,
  findAccountsOfUser,
  findOpenVerifications,
  findPostsByIds,
  findPosts,
  insertInertPosts,
  findUserAccountsByIds,
  findVerifiedAccountForUpdate,
  insertVerification,
  insertVerifiedAccount,
  markVerificationUsed,
  setPostOutcome,
} from './social.repository.js';
import { truncate } from '../../lib/text.js';

export const MAX_POSTS_PER_CALL = 500;
/** How long a handle verification code stays valid. */
export const VERIFICATION_TTL_MS = 30 * 60_000;
/** How far ahead of the server's clock a post may be dated (clock skew between systems). */
const MAX_FUTURE_MS = 24 * 3_600_000;

/** Why a post did nothing (or was refused). */
export const POST_REASONS = {
  HANDLE_NOT_VERIFIED: 'The author handle is not verified by any user: link it in the app first.',
  NO_CARD_LINKED: 'The buyer has no card to charge.',
  NO_MATCHING_OFFER: 'No published offer answers to its hashtags.',
  OFFER_NOT_LIVE: 'The offer is not live (scheduled, paused, ended, or not available to the buyer).',
  SOLD_OUT: 'No unit of the offer is left.',
  NO_OPEN_INTENT: 'A confirmation without a purchase awaiting confirmation by this handle.',
  INTENT_EXPIRED: 'The confirmation came after the window.',
  NOT_INTENT_OWNER: 'The confirmation answers a purchase started by another handle.',
  SPENDING_LIMIT_REACHED: "The buyer's daily spending limit would be exceeded.",
  USER_LIMIT_REACHED: 'The buyer has bought as many units as the offer allows.',
  PAYMENT_DECLINED: 'The card was declined.',
  HASHTAG_BUYING_OFF: 'The buyer turned buying by hashtag off.',
  CONFIRM_IN_APP_ONLY: 'The buyer confirms purchases in the app only: a post cannot confirm.',
  INTENT_ALREADY_OPEN: 'The buyer already has a purchase of this offer awaiting confirmation.',
} as const;
export type PostReason = keyof typeof POST_REASONS;

export type PostResultOutcome = PostOutcome | 'DUPLICATE';

export interface PostResult {
  platform: SocialPlatform;
  postId: string;
  outcome: PostResultOutcome;
  reason: PostReason | null;
  errors: UserError[];
  offerId: string | null;
  intentId: string | null;
}

export interface PostInput {
  platform: SocialPlatform;
  postId: string;
  authorHandle: string;
  text: string;
  postedAt: Date;
  inReplyToPostId?: string | null;
  url?: string | null;
}

// ------------------------------------------------------------------ handle verification

const verificationInput = z.object({
  platform: z.enum(['X', 'INSTAGRAM']),
  handle: z.string().max(64, 'must be at most 64 characters'),
});

function parseVerification(raw: z.input<typeof verificationInput>): { platform: SocialPlatform; handle: string } {
  const parsed = parseInput(verificationInput, { platform: raw.platform, handle: raw.handle });
  const handle = normalizeHandle(parsed.handle);
  if (!isValidHandle(parsed.platform, handle)) fail('INVALID_HANDLE', `Not a valid ${parsed.platform === 'X' ? 'X' : 'Instagram'} handle.`, ['handle']);
  return { platform: parsed.platform, handle };
}

/** A code the signed-in user posts from the handle, valid for 30 minutes. */
export async function startHandleVerification(
  ctx: Context,
  input: z.input<typeof verificationInput> & WithIdempotencyKey,
): Promise<{ verification: { platform: SocialPlatform; handle: string; code: string; expiresAt: Date } }> {
  const { userId } = requireRole(ctx.principal, 'user');
  const data = parseVerification(input);
  return idempotentCommand(ctx, { operation: 'startHandleVerification', key: input.idempotencyKey, request: data }, async (trx) => {
    const expiresAt = new Date(Date.now() + VERIFICATION_TTL_MS);
    // A code is unique among all proofs; a collision (31^6 codes) just draws again.
    for (;;) {
      const row = await insertVerification(trx, { userId, platform: data.platform, handle: data.handle, code: generateVerificationCode(), expiresAt });
      if (row) return { verification: { platform: data.platform, handle: data.handle, code: row.code, expiresAt: row.expires_at } };
    }
  });
}

/** The user's verified handles. */
export function socialAccountsOf(ctx: Context, userId: string): Promise<SocialAccountRow[]> {
  return findAccountsOfUser(ctx.db, userId, { verifiedOnly: true });
}

export function loadVisibleSocialAccounts(ctx: Context, ids: readonly string[]): Promise<SocialAccountRow[]> {
  if (ctx.principal.kind !== 'user') return Promise.resolve([]);
  return findUserAccountsByIds(ctx.db, ctx.principal.userId, ids.filter(isUuid));
}

/** The user unlinks one of their handles: it stops acting, and its open intents are cancelled. */
export async function unlinkSocialAccount(ctx: Context, input: { accountId: string } & WithIdempotencyKey): Promise<{ account: SocialAccountRow }> {
  const { userId } = requireRole(ctx.principal, 'user');
  const id = parseGlobalId(input.accountId, 'SocialAccount', ['accountId']);
  const reload = async (trx: Transaction<DB>, accountId: string) => (await findUserAccountsByIds(trx, userId, [accountId]))[0];
  return idempotentCommand(
    ctx,
    { operation: 'unlinkSocialAccount', key: input.idempotencyKey, request: { id } },
    async (trx) => {
      const [account] = await findUserAccountsByIds(trx, userId, isUuid(id) ? [id] : []);
      if (!account) notFound('SocialAccount', ['accountId']);
      const now = new Date();
      if (await endAccount(trx, account.id, 'UNLINKED', now)) await cancelOpenIntentsOfAccount(trx, account.id, 'UNLINKED', now);
      return { account: (await reload(trx, account.id))! };
    },
    { save: (a) => a.account.id, load: async (trx, accountId) => ({ account: (await reload(trx, accountId))! }) },
  );
}

// ------------------------------------------------------------------ ingest

type Parsed = { index: number; post: PostInput & { handle: string; text: string } } | { index: number; rejected: UserError[]; post: PostInput };

function parseItem(input: PostInput, index: number, now: Date): Parsed {
  const errors: UserError[] = [];
  const reject = (code: ErrorCode, message: string, field: string) => errors.push({ code, message, field: ['posts', String(index), field] });
  const length = (value: string | null | undefined, field: string, max: number) => {
    if (value != null && (value.length < 1 || value.length > max)) reject('INVALID_LENGTH', `${field} must be 1 to ${max} characters.`, field);
  };
  length(input.postId, 'postId', 128);
  length(input.inReplyToPostId, 'inReplyToPostId', 128);
  if (input.text.length > 5000) reject('INVALID_LENGTH', 'text must be at most 5000 characters.', 'text');
  const handle = normalizeHandle(input.authorHandle);
  if (!isValidHandle(input.platform, handle)) reject('INVALID_HANDLE', `authorHandle is not a valid ${input.platform === 'X' ? 'X' : 'Instagram'} handle.`, 'authorHandle');
  if (input.url != null && !/^https?:\/\/[^\s]{1,2040}$/i.test(input.url)) reject('INVALID_INPUT', 'url must be an http(s) URL of at most 2048 characters.', 'url');
  if (input.postedAt.getTime() > now.getTime() + MAX_FUTURE_MS) reject('OUT_OF_RANGE', 'postedAt is in the future.', 'postedAt');
  if (errors.length > 0) return { index, rejected: errors, post: input };
  // The text people type may hold a card number: it never reaches storage.
  return { index, post: { ...input, handle, text: redactCardNumbers(input.text).text } };
}

interface Acted {
  outcome: PostOutcome;
  reason: PostReason | null;
  offerId?: string | null;
  intentId?: string | null;
  /** An intent confirmed by this post: charged after commit. */
  confirmed?: string;
}

/** What a post's (redacted) text holds for hashback: verification codes and hashtags ("#tag", case-folded). */
function readPost(text: string): { codes: string[]; tags: string[] } {
  return { codes: findVerificationCodes(text), tags: extractHashtags(text).map((t) => `#${t}`) };
}

/** The published offers a post's hashtags name, by role (the newest offer first in each). */
function offersNamed(tags: readonly string[], offers: readonly OfferRow[]) {
  const withTag = (column: 'hashtag' | 'confirm_hashtag' | 'activation_hashtag') =>
    offers.find((o) => o[column] !== null && tags.includes(o[column]!.toLowerCase()));
  return { confirmOf: withTag('confirm_hashtag'), buyOf: withTag('hashtag'), activationOf: withTag('activation_hashtag') };
}

/**
 * What a claimed post does, in the batch's transaction. `offers` are the published offers any
 * post of the batch names, read once at its start (stock itself moves by conditional updates).
 */
async function actOnPost(trx: Transaction<DB>, partnerId: string, row: SocialPostRow, now: Date, offers: readonly OfferRow[]): Promise<Acted> {
  const platform = row.platform;
  const handle = row.author_handle;
  const reply = (kind: ReplyKind, facts: { offer?: OfferRow } = {}) =>
    queueReply(trx, {
      partnerId,
      platform,
      inReplyToPostId: row.post_id,
      kind,
      subjectType: 'SocialPost',
      subjectId: row.id,
      facts: { handle, offerTitle: facts.offer?.title, price: facts.offer?.price ? { amount: facts.offer.price, currency: facts.offer.currency } : undefined },
    });

  const { codes, tags } = readPost(row.text);
  // A proof of a handle.
  if (codes.length > 0) {
    const [proof] = await findOpenVerifications(trx, platform, handle, codes, now);
    if (proof) {
      await markVerificationUsed(trx, proof.id, now);
      const owner = await findVerifiedAccountForUpdate(trx, platform, handle);
      if (owner?.user_id !== proof.user_id) {
        if (owner) {
          // The handle changed hands: the previous owner's account ends, with its open intents.
          await endAccount(trx, owner.id, 'MOVED', now);
          await cancelOpenIntentsOfAccount(trx, owner.id, 'HANDLE_MOVED', now);
        }
        await insertVerifiedAccount(trx, { userId: proof.user_id, platform, handle, now });
      }
      await reply('HANDLE_VERIFIED');
      return { outcome: 'VERIFIED_HANDLE', reason: null };
    }
  }

  if (tags.length === 0) return { outcome: 'IGNORED', reason: null };
  const { confirmOf, buyOf, activationOf } = offersNamed(tags, offers);
  const offer = confirmOf ?? buyOf ?? activationOf;
  if (!offer) return { outcome: 'IGNORED', reason: 'NO_MATCHING_OFFER' };

  const account = await findVerifiedAccountForUpdate(trx, platform, handle);
  if (!account) {
    await reply('VERIFY_HANDLE');
    return { outcome: 'REJECTED', reason: 'HANDLE_NOT_VERIFIED', offerId: offer.id };
  }

  if (confirmOf) {
    // A confirmation answering (the prompt to) a purchase someone else started changes nothing.
    if (row.in_reply_to_post_id) {
      const prompt = await findReplyByPlatformPost(trx, partnerId, platform, row.in_reply_to_post_id);
      const buyPostId = prompt ? prompt.in_reply_to_post_id : row.in_reply_to_post_id;
      const answered = await findIntentByBuyPost(trx, partnerId, platform, buyPostId);
      if (answered && answered.social_account_id !== account.id) return { outcome: 'REJECTED', reason: 'NOT_INTENT_OWNER', offerId: confirmOf.id };
    }
    const confirmed = await confirmIntentFromPost(trx, { userId: account.user_id, socialAccountId: account.id, offerId: confirmOf.id, confirmPostId: row.post_id, now });
    if (!confirmed.ok) return { outcome: 'REJECTED', reason: confirmed.reason, offerId: confirmOf.id };
    return { outcome: 'PAYMENT_PENDING', reason: null, offerId: confirmOf.id, intentId: confirmed.intent.id, confirmed: confirmed.intent.id };
  }

  if (buyOf) {
    const started = await startIntentFromPost(trx, {
      offer: buyOf,
      userId: account.user_id,
      socialAccountId: account.id,
      partnerId,
      platform,
      buyPostId: row.post_id,
      handle,
      now,
    });
    if (started.ok) return { outcome: 'INTENT_CREATED', reason: null, offerId: buyOf.id, intentId: started.intent.id };
    await reply(started.reason === 'SOLD_OUT' ? 'SOLD_OUT' : started.reason === 'NO_CARD_LINKED' ? 'NO_CARD_LINKED' : 'NOT_ALLOWED', { offer: buyOf });
    return { outcome: 'REJECTED', reason: started.reason, offerId: buyOf.id };
  }

  const activated = await activateOfferForUser(trx, activationOf!, account.user_id, now);
  if (!activated.ok) {
    const reason: PostReason = activated.code === 'NO_CARD_LINKED' ? 'NO_CARD_LINKED' : 'OFFER_NOT_LIVE';
    return { outcome: 'REJECTED', reason, offerId: activationOf!.id };
  }
  await reply('OFFER_ACTIVATED', { offer: activationOf! });
  return { outcome: 'OFFER_ACTIVATED', reason: null, offerId: activationOf!.id };
}

type StoredResult = PostResult & { rowId?: string };

const resultOf = (row: SocialPostRow, duplicate: boolean): PostResult => ({
  platform: row.platform,
  postId: row.post_id,
  outcome: duplicate ? 'DUPLICATE' : row.outcome,
  reason: (row.reason as PostReason | null) ?? null,
  errors: [],
  offerId: row.offer_id,
  intentId: row.intent_id,
});

/** The settled charge as the confirming post's outcome. */
function settledOutcome(settled: SettleOutcome): Pick<Acted, 'outcome' | 'reason'> {
  if (settled.status === 'CHARGED') return { outcome: 'ORDER_PLACED', reason: null };
  if (settled.status === 'DECLINED') return { outcome: 'REJECTED', reason: 'PAYMENT_DECLINED' };
  return { outcome: 'PAYMENT_PENDING', reason: null };
}

export async function ingestPosts(
  ctx: Context,
  input: { posts: readonly PostInput[]; idempotencyKey?: string | null },
): Promise<{ results: PostResult[] }> {
  const partner = requirePartnerScope(ctx.principal, 'posts:write');
  const count = input.posts.length;
  if (count < 1 || count > MAX_POSTS_PER_CALL) fail('OUT_OF_RANGE', `Send 1 to ${MAX_POSTS_PER_CALL} posts per call.`, ['posts']);
  await withinLimit(ctx.logger, 'ingest', () => ctx.rateLimits.ingestItemsByPartner.charge(partner.partnerId, count));
  const now = new Date();
  const items = input.posts.map((p, i) => parseItem(p, i, now));

  let confirmed: { index: number; rowId: string; intentId: string }[] = [];
  const stored = await inRetryingTransaction(ctx.db, (trx) => {
    confirmed = [];
    return idempotent(
      trx,
      { principal: principalKey(ctx.principal), operation: 'ingestPosts', key: input.idempotencyKey, request: items },
      async () => {
        const out: StoredResult[] = new Array(items.length);
        const keyOf = (p: PostInput) => `${p.platform}:${p.postId}`;
        const toStore = (p: Extract<Parsed, { post: { handle: string } }>['post']) => ({
          partner_id: partner.partnerId,
          platform: p.platform,
          post_id: p.postId,
          author_handle: p.handle,
          text: p.text,
          posted_at: p.postedAt,
          in_reply_to_post_id: p.inReplyToPostId ?? null,
          url: p.url ?? null,
        });
        // The first delivery of a post in the batch decides; later copies are its duplicates.
        const first = new Map<string, number>();
        const copies: { index: number; of: number }[] = [];
        const posts: { index: number; post: Extract<Parsed, { post: { handle: string } }>['post']; read: ReturnType<typeof readPost> }[] = [];
        for (const item of items) {
          if ('rejected' in item) {
            // Named back as sent, but never at length (a refusal does not quote its input).
            out[item.index] = { platform: item.post.platform, postId: truncate(item.post.postId, 128), outcome: 'REJECTED', reason: null, errors: item.rejected, offerId: null, intentId: null };
            continue;
          }
          const seen = first.get(keyOf(item.post));
          if (seen !== undefined) copies.push({ index: item.index, of: seen });
          else {
            first.set(keyOf(item.post), item.index);
            posts.push({ index: item.index, post: item.post, read: readPost(item.post.text) });
          }
        }
        const offers = await findPublishedOffersByHashtags(trx, [...new Set(posts.flatMap((p) => p.read.tags))]);
        // Most posts are noise: those that cannot act are stored with their outcome in one statement.
        const canAct = (p: (typeof posts)[number]) => {
          const named = offersNamed(p.read.tags, offers);
          return p.read.codes.length > 0 || Boolean(named.confirmOf ?? named.buyOf ?? named.activationOf);
        };
        const inert = posts.filter((p) => !canAct(p));
        const stored = new Map(
          (
            await insertInertPosts(
              trx,
              inert.map((p) => ({ ...toStore(p.post), outcome: 'IGNORED' as const, reason: p.read.tags.length > 0 ? 'NO_MATCHING_OFFER' : null })),
            )
          ).map((row) => [`${row.platform}:${row.post_id}`, row]),
        );
        const earlier = new Map(
          (await findPosts(trx, inert.filter((p) => !stored.has(keyOf(p.post))).map((p) => p.post))).map((row) => [
            `${row.platform}:${row.post_id}`,
            row,
          ]),
        );
        for (const p of inert) {
          const row = stored.get(keyOf(p.post));
          const firstRow = row ?? earlier.get(keyOf(p.post))!;
          out[p.index] = { ...resultOf(firstRow, !row), rowId: firstRow.id };
        }
        for (const p of posts.filter(canAct)) {
          const row = await claimPost(trx, toStore(p.post));
          if (!row) {
            const [firstRow] = await findPosts(trx, [p.post]);
            out[p.index] = { ...resultOf(firstRow!, true), rowId: firstRow!.id };
            continue;
          }
          const acted = await actOnPost(trx, partner.partnerId, row, now, offers);
          const outcome = { outcome: acted.outcome, reason: acted.reason, offer_id: acted.offerId ?? null, intent_id: acted.intentId ?? null };
          await setPostOutcome(trx, row.id, outcome);
          if (acted.confirmed) confirmed.push({ index: p.index, rowId: row.id, intentId: acted.confirmed });
          out[p.index] = { ...resultOf({ ...row, ...outcome }, false), rowId: row.id };
        }
        for (const c of copies) out[c.index] = { ...out[c.of]!, outcome: 'DUPLICATE' };
        return out;
      },
      {
        // A replay answers each post as it is now (a confirmation charged since reads ORDER_PLACED).
        save: (answer) => answer.map((r) => (r.rowId ? { rowId: r.rowId, duplicate: r.outcome === 'DUPLICATE' } : r)),
        load: async (trx, saved) => {
          const rows = new Map((await findPostsByIds(trx, saved.flatMap((r) => ('duplicate' in r ? [r.rowId] : [])))).map((row) => [row.id, row]));
          return saved.map((r) => ('duplicate' in r ? { ...resultOf(rows.get(r.rowId)!, r.duplicate), rowId: r.rowId } : r));
        },
      },
    );
  });

  // Charge what was confirmed, now that the confirmation is committed. A failure here leaves the
  // intent CONFIRMED with its job on the payments queue, which charges it with the same key.
  const results = stored.map(({ rowId: _rowId, ...r }) => r as PostResult);
  for (const c of confirmed) {
    try {
      const settled = settledOutcome(await settleIntent({ db: ctx.db, config: ctx.config, security: ctx.security, logger: ctx.logger }, c.intentId));
      await setPostOutcome(ctx.db, c.rowId, settled);
      results[c.index] = { ...results[c.index]!, ...settled };
    } catch (error) {
      ctx.logger.warn({ err: error, intentId: c.intentId }, 'charge after confirmation failed; the payments queue retries it');
    }
  }
  const tally: Record<string, number> = {};
  for (const r of results) tally[r.outcome] = (tally[r.outcome] ?? 0) + 1;
  ctx.logger.info({ items: count, ...tally }, 'posts ingested');
  return { results };
}
