/**
 * Linking cards. The full number lives only in this request's memory: it is checked, encrypted
 * under the active key, fingerprinted with a keyed HMAC, and dropped. Responses show at most the
 * first 6 and last 4 digits; no CVV is ever asked for.
 */
import type { Kysely } from 'kysely';
import type { CardRow, DB } from '../../../db/types.js';
import type { Context } from '../../context.js';
import { requireRole } from '../../lib/authorization.js';
import { isUniqueViolation } from '../../lib/db-errors.js';
import { DomainError, fail, notFound, type ErrorCode } from '../../lib/errors.js';
import { idempotentCommand, rowsById } from '../../lib/idempotency.js';
import { parseGlobalId } from '../../lib/ids.js';
import type { Security } from '../../security.js';
import type { CardForCharge } from '../payments/payments.service.js';
import { reserveAll, withinLimit } from '../../rate-limits.js';
import { decryptCardNumber, encryptCardNumber, fingerprintCardNumber } from './card-crypto.js';
import { isExpired, parseCardNumber, validExpiry } from './card-number.js';
import {
  findLinkedCardByFingerprint,
  findLinkedCardsOfUser,
  findUserCardsByIds,
  insertCard,
  countCardsUnderOtherKeys,
  lockCardsToRotate,
  setCardCiphertext,
  unlinkUserCard,
} from './cards.repository.js';

/** Refusals that count against the card-link limits: what a card-testing run would see. */
const COUNTED_REFUSALS = new Set<ErrorCode>(['INVALID_CARD_NUMBER', 'UNSUPPORTED_CARD_NETWORK', 'CARD_EXPIRED', 'CARD_UNAVAILABLE', 'OUT_OF_RANGE']);

type LinkCardInput = { number: string; expMonth: number; expYear: number; idempotencyKey?: string | null };

/** A replay answers the card the key first linked, read again. */
const cardReplay = (userId: string) =>
  rowsById<{ card: CardRow }>({ card: async (trx, id) => (await findUserCardsByIds(trx, userId, [id]))[0] });

/**
 * Links a card within the card-link limits: a point per user and per address is taken before the
 * number is looked at and given back unless the link was refused, so a run of guessed numbers
 * (and the CARD_UNAVAILABLE answer it fishes for) stops after a few tries, however concurrent.
 */
export async function linkCard(ctx: Context, input: LinkCardInput): Promise<{ card: CardRow }> {
  const { userId } = requireRole(ctx.principal, 'user');
  const { rateLimits } = ctx;
  const giveBack = await withinLimit(ctx.logger, 'card link', () =>
    reserveAll([
      [rateLimits.cardLinkFailuresByAddress, ctx.clientAddress],
      [rateLimits.cardLinkFailuresByUser, userId],
    ]),
  );
  let counted = false;
  try {
    return await linkNewCard(ctx, userId, input);
  } catch (error) {
    counted = error instanceof DomainError && error.userErrors.some((e) => COUNTED_REFUSALS.has(e.code));
    throw error;
  } finally {
    if (!counted) await giveBack();
  }
}

async function linkNewCard(ctx: Context, userId: string, input: LinkCardInput): Promise<{ card: CardRow }> {
  const parsed = parseCardNumber(input.number);
  if (!parsed.ok) {
    if (parsed.reason === 'UNKNOWN_NETWORK') {
      fail('UNSUPPORTED_CARD_NETWORK', 'Only Visa, Mastercard, American Express and Discover cards can be linked.', ['number']);
    }
    fail('INVALID_CARD_NUMBER', 'The card number is not valid.', ['number']);
  }
  if (!validExpiry(input.expMonth, input.expYear)) fail('OUT_OF_RANGE', 'The expiry month or year is not valid.', ['expMonth']);
  if (isExpired(input.expMonth, input.expYear, new Date())) fail('CARD_EXPIRED', 'The card has expired.', ['expYear']);

  const fingerprint = fingerprintCardNumber(ctx.security.cards.fingerprintKey, parsed.digits);
  const refuseTaken = (holder: CardRow): never =>
    holder.user_id === userId
      ? fail('CARD_ALREADY_LINKED', 'You have already linked this card.', ['number'])
      : fail('CARD_UNAVAILABLE', 'This card cannot be linked.', ['number']);
  try {
    // The fingerprint stands for the number in the key's request hash: no card number is stored.
    const request = { fingerprint, expMonth: input.expMonth, expYear: input.expYear };
    return await idempotentCommand(
      ctx,
      { operation: 'linkCard', key: input.idempotencyKey, request },
      async (trx) => {
        const existing = await findLinkedCardByFingerprint(trx, fingerprint);
        if (existing) refuseTaken(existing);
        const { keyId, ciphertext } = encryptCardNumber(ctx.security.cards.ring, parsed.digits);
        const card = await insertCard(trx, {
          userId,
          network: parsed.network,
          first6: parsed.first6,
          last4: parsed.last4,
          expMonth: input.expMonth,
          expYear: input.expYear,
          fingerprint,
          keyId,
          ciphertext,
        });
        ctx.logger.info({ cardId: card.id, network: card.network, last4: card.last4 }, 'card linked');
        return { card };
      },
      cardReplay(userId),
    );
  } catch (error) {
    // Lost a race with another link of the same number: answer as the pre-check would have.
    if (!isUniqueViolation(error)) throw error;
    const winner = await findLinkedCardByFingerprint(ctx.db, fingerprint);
    if (winner) refuseTaken(winner);
    throw error;
  }
}

export async function unlinkCard(ctx: Context, input: { cardId: string; idempotencyKey?: string | null }): Promise<{ card: CardRow }> {
  const { userId } = requireRole(ctx.principal, 'user');
  const id = parseGlobalId(input.cardId, 'Card', ['cardId']);
  return idempotentCommand(
    ctx,
    { operation: 'unlinkCard', key: input.idempotencyKey, request: { id } },
    async (trx) => {
      const card = await unlinkUserCard(trx, userId, id);
      if (!card) notFound('Card', ['cardId']);
      ctx.logger.info({ cardId: card.id }, 'card unlinked');
      return { card };
    },
    cardReplay(userId),
  );
}

/** Cards the caller may see: only its own, linked or not. */
export function loadVisibleCards(ctx: Context, ids: readonly string[]): Promise<CardRow[]> {
  return ctx.principal.kind === 'user' ? findUserCardsByIds(ctx.db, ctx.principal.userId, ids) : Promise.resolve([]);
}

export function linkedCardsOf(ctx: Context, userId: string): Promise<CardRow[]> {
  return findLinkedCardsOfUser(ctx.db, userId);
}

/**
 * Re-encrypts every linked card sealed under an older key of the ring with the active key, a
 * locked batch per transaction. Cards under a key missing from the ring are left alone and
 * counted: the ring is incomplete, and guessing would lose them. Fingerprints use their own key,
 * so duplicate detection is unaffected.
 */
export async function rotateCardKeys(
  db: Kysely<DB>,
  security: Security,
  progress: (done: number) => void = () => {},
): Promise<{ rotated: number; underUnknownKeys: number }> {
  const { ring } = security.cards;
  const retired = ring.keyIds.filter((id) => id !== ring.activeKeyId);
  let rotated = 0;
  for (;;) {
    const moved = await db.transaction().execute(async (trx) => {
      const batch = await lockCardsToRotate(trx, retired, 200);
      for (const card of batch) {
        const digits = decryptCardNumber(ring, { keyId: card.key_id!, ciphertext: card.ciphertext! });
        const sealed = encryptCardNumber(ring, digits);
        await setCardCiphertext(trx, card.id, sealed.keyId, sealed.ciphertext);
      }
      return batch.length;
    });
    if (moved === 0) break;
    rotated += moved;
    progress(rotated);
  }
  return { rotated, underUnknownKeys: await countCardsUnderOtherKeys(db, ring.keyIds) };
}

/**
 * A linked card of `userId` as the payment gateway needs it, or undefined when the user has no such
 * linked card. Only the ciphertext is read here: `revealNumber` decrypts it each time it is called,
 * so the number exists only inside the gateway call that asks for it. It reads no database (it can
 * run inside the gateway's transaction) and hands back a fresh string the caller must not keep.
 */
export async function cardForCharge(
  db: Kysely<DB>,
  security: Security,
  userId: string,
  cardId: string,
): Promise<CardForCharge | undefined> {
  const [card] = await findUserCardsByIds(db, userId, [cardId]);
  if (!card || card.unlinked_at !== null || card.key_id === null || card.ciphertext === null) return undefined;
  const sealed = { keyId: card.key_id, ciphertext: card.ciphertext };
  const { ring } = security.cards;
  return { cardId: card.id, last4: card.last4, network: card.network, revealNumber: () => decryptCardNumber(ring, sealed) };
}

/**
 * The card a hashtag purchase charges: the user's most recently linked card that is still linked
 * and not expired (`now`, default the current time), by id and last 4 digits; undefined when none.
 */
export async function chargeableCardOfUser(db: Kysely<DB>, userId: string, now: Date = new Date()): Promise<{ id: string; last4: string } | undefined> {
  const cards = await findLinkedCardsOfUser(db, userId);
  // Oldest first: the last usable one is the most recently linked.
  const card = cards.reverse().find((c) => !isExpired(c.exp_month, c.exp_year, now));
  return card ? { id: card.id, last4: card.last4 } : undefined;
}

/** What other modules read or lock through this one (they never import its repository). */
export { userHasLinkedCard } from './cards.repository.js';
