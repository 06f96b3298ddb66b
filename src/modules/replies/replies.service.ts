/**
 * Social replies: what the platform should post back to a post it delivered (the confirm prompt,
 * done, sold out, expired, declined, how to verify). Other modules queue them in their own
 * transaction; the partner that delivered the post reads them in order (`socialReplies`) or
 * receives them as the webhook event `social_reply.created`, posts them, and acknowledges each
 * with the platform's id of the posted reply. One reply of a kind per post.
 */
import type { Transaction } from 'kysely';
import { z } from 'zod';
import type { DB, SocialPlatform, SocialReplyRow } from '../../../db/types.js';
import type { Context } from '../../context.js';
import { requirePartnerScope } from '../../lib/authorization.js';
import { DomainError, type UserError } from '../../lib/errors.js';
import { idempotentCommand, type WithIdempotencyKey } from '../../lib/idempotency.js';
import { decodeGlobalId, isUuid } from '../../lib/ids.js';
import { decodeCursor, encodeCursor, toPage, type Page } from '../../lib/pagination.js';
import { parseInput, text } from '../../lib/validation.js';
import { insertEvents } from '../../outbox/outbox.repository.js';
import { acknowledgeReplies, findRepliesOfPartner, insertReply, listReplies } from './replies.repository.js';
import { composeReply, type ReplyFacts, type ReplyKind } from './replies.rules.js';
import { SOCIAL_REPLY_TOPIC } from './replies.topics.js';

export const MAX_ACKS_PER_CALL = 500;

/**
 * Queues a reply to a delivered post, with its `social_reply.created` event, in the caller's
 * transaction. A second reply of the same kind to the same post is not stored.
 */
export async function queueReply(
  trx: Transaction<DB>,
  reply: { partnerId: string; platform: SocialPlatform; inReplyToPostId: string; kind: ReplyKind; subjectType: string; subjectId: string; facts: ReplyFacts },
): Promise<SocialReplyRow | undefined> {
  const row = await insertReply(trx, { ...reply, text: composeReply(reply.kind, reply.facts) });
  if (row) {
    await insertEvents(trx, [
      SOCIAL_REPLY_TOPIC.event('CREATED', row.id, {}, { platform: row.platform, inReplyToPostId: row.in_reply_to_post_id, kind: row.kind, text: row.text }),
    ]);
  }
  return row;
}

export async function listSocialReplies(
  ctx: Context,
  args: { platform: SocialPlatform; first: number; after?: string | null; unacknowledgedOnly?: boolean | null },
): Promise<Page<SocialReplyRow>> {
  const { partnerId } = requirePartnerScope(ctx.principal, 'posts:write');
  const afterPosition = args.after ? decodeCursor(args.after, ['int'] as const)[0] : 0;
  const rows = await listReplies(ctx.db, partnerId, {
    platform: args.platform,
    afterPosition,
    limit: args.first + 1,
    unacknowledgedOnly: args.unacknowledgedOnly ?? false,
  });
  return toPage(rows, args.first, args.after, (r) => encodeCursor([Number(r.position)]));
}

/** The calling partner's replies among `ids` (anyone else sees none). */
export async function loadVisibleReplies(ctx: Context, ids: readonly string[]): Promise<SocialReplyRow[]> {
  if (ctx.principal.kind !== 'partner') return [];
  return findRepliesOfPartner(ctx.db, ctx.principal.partnerId, ids);
}

const ackInput = z.object({
  replies: z
    .array(z.object({ id: z.string(), platformPostId: text(1, 128) }))
    .min(1, 'must list at least one reply')
    .max(MAX_ACKS_PER_CALL, `must list at most ${MAX_ACKS_PER_CALL} replies`),
});

/**
 * Records that the partner posted its replies: each gets the platform's post id, once (a reply
 * acknowledged before keeps its first id). Answers the listed replies as they are now, in the
 * order given. Another partner's reply, or an id that is no reply, is not found and nothing
 * changes.
 */
export async function acknowledgeSocialReplies(
  ctx: Context,
  input: z.input<typeof ackInput> & WithIdempotencyKey,
): Promise<{ replies: SocialReplyRow[] }> {
  const { partnerId } = requirePartnerScope(ctx.principal, 'posts:write');
  const data = parseInput(ackInput, input);
  const acks = data.replies.map((r, i) => {
    const decoded = decodeGlobalId(r.id);
    return { index: i, id: decoded?.typename === 'SocialReply' ? decoded.id : null, platformPostId: r.platformPostId };
  });
  const inOrder = async (trx: Transaction<DB>, ids: string[]) => {
    const byId = new Map((await findRepliesOfPartner(trx, partnerId, ids)).map((r) => [r.id, r]));
    return ids.flatMap((id) => byId.get(id) ?? []);
  };
  return idempotentCommand(
    ctx,
    { operation: 'acknowledgeSocialReplies', key: input.idempotencyKey, request: data },
    async (trx) => {
      const ids = acks.flatMap((a) => (a.id && isUuid(a.id) ? [a.id] : []));
      const known = new Set((await findRepliesOfPartner(trx, partnerId, ids)).map((r) => r.id));
      const errors: UserError[] = acks
        .filter((a) => !a.id || !known.has(a.id))
        .map((a) => ({ code: 'NOT_FOUND' as const, message: 'Reply not found.', field: ['replies', String(a.index), 'id'] }));
      if (errors.length > 0) throw new DomainError(errors);
      await acknowledgeReplies(
        trx,
        partnerId,
        acks.map((a) => ({ id: a.id!, platformPostId: a.platformPostId })),
        new Date(),
      );
      return { replies: await inOrder(trx, acks.map((a) => a.id!)) };
    },
    { save: (answer) => answer.replies.map((r) => r.id), load: async (trx, ids) => ({ replies: await inOrder(trx, ids) }) },
  );
}

export { findReplyByPlatformPost } from './replies.repository.js';
export type { ReplyKind } from './replies.rules.js';
