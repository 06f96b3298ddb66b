/**
 * Test fixtures of the orders module: a merchant with a live PURCHASE offer, buyers with a card and
 * a verified social handle, and the service calls the social module makes (in a transaction of
 * their own here). Rows the orders module does not own (social accounts; cards with the sandbox's
 * fixed test numbers) are inserted directly: the social module's API is not what these tests are
 * about, and a fixed test number can be linked once per database through the API, while test files
 * share one Postgres database.
 */
import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { DB, HashtagBuying, OfferRow, SocialPlatform } from '../../../db/types.js';
import { createLogger, type Logger } from '../../logger.js';
import { dbId, randomCardNumber, type Harness } from '../../../test/harness.js';
import { encryptCardNumber } from '../cards/card-crypto.js';
import { confirmIntentFromPost, startIntentFromPost, type SettleDependencies } from './orders.service.js';

const DAY = 24 * 60 * 60 * 1000;
const hex = (n = 4) => randomBytes(n).toString('hex');

export interface World {
  merchant: { id: string; key: string; dbId: string };
  offerId: string;
  offerGlobalId: string;
  partnerId: string;
}

/** A merchant with a live PURCHASE offer ($15.00, `quantity` units) and a social partner. */
export async function newWorld(
  h: Harness,
  options: { quantity?: number; price?: number; perUserLimit?: number; confirmWindowMinutes?: number } = {},
): Promise<World> {
  const merchant = await h.newMerchant();
  const offerGlobalId = await h.newOffer(merchant.key, {
    kind: 'PURCHASE',
    title: `Gift card ${hex(2)}`,
    rewardType: null,
    rewardBasisPoints: null,
    budget: null,
    price: options.price ?? 1500,
    quantity: options.quantity ?? 5,
    hashtag: `#BuyGift${hex()}`,
    ...(options.perUserLimit !== undefined ? { perUserLimit: options.perUserLimit } : {}),
    ...(options.confirmWindowMinutes !== undefined ? { confirmWindowMinutes: options.confirmWindowMinutes } : {}),
  });
  const partner = await h.newPartner(['POSTS_WRITE']);
  return { merchant: { ...merchant, dbId: dbId(merchant.id) }, offerId: dbId(offerGlobalId), offerGlobalId, partnerId: dbId(partner.id) };
}

export interface Buyer {
  /** Global id and token (for the API), database id. */
  id: string;
  token: string;
  userId: string;
  email: string;
  cardId: string;
  cardNumber: string;
  socialAccountId: string;
  handle: string;
}

/** Inserts a linked card holding `number` directly (see the file comment); returns its id. */
export async function insertCard(h: Harness, userId: string, number: string): Promise<string> {
  const digits = number.replace(/\D/g, '');
  const sealed = encryptCardNumber(h.security.cards.ring, digits);
  const row = await h.db
    .insertInto('cards')
    .values({
      user_id: userId,
      network: digits.startsWith('5') ? 'MASTERCARD' : 'VISA',
      first6: digits.slice(0, 6),
      last4: digits.slice(-4),
      exp_month: 12,
      exp_year: new Date().getUTCFullYear() + 3,
      // Not the number's fingerprint: the fixed test numbers may be linked by many test buyers.
      fingerprint: randomBytes(32).toString('hex'),
      key_id: sealed.keyId,
      ciphertext: sealed.ciphertext,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

export async function insertSocialAccount(db: Kysely<DB>, userId: string, platform: SocialPlatform = 'X'): Promise<{ id: string; handle: string }> {
  const handle = `buyer_${hex(5)}`;
  const row = await db.insertInto('social_accounts').values({ user_id: userId, platform, handle, verified_at: new Date() }).returning('id').executeTakeFirstOrThrow();
  return { id: row.id, handle };
}

/**
 * A signed-up buyer with a verified handle and a card: a fresh approving number linked through the
 * API, or `cardNumber` (a sandbox test card) inserted directly; `setting` changes its hashtag
 * setting through the API.
 */
export async function newBuyer(h: Harness, options: { cardNumber?: string | null; setting?: HashtagBuying; dailyLimit?: number } = {}): Promise<Buyer> {
  const user = await h.newUser();
  const userId = dbId(user.id);
  let cardId = '';
  let cardNumber = '';
  if (options.cardNumber !== null) {
    if (options.cardNumber) {
      cardNumber = options.cardNumber.replace(/\D/g, '');
      cardId = await insertCard(h, userId, cardNumber);
    } else {
      const card = await h.linkCard(user.token, randomCardNumber());
      cardId = dbId(card.id);
      cardNumber = card.number;
    }
  }
  const account = await insertSocialAccount(h.db, userId);
  if (options.setting || options.dailyLimit !== undefined) {
    await h.mutate(
      'updateHashtagSettings',
      'mutation($input: UpdateHashtagSettingsInput!) { updateHashtagSettings(input: $input) { hashtagSettings { hashtagBuying } userErrors { field message code } } }',
      { ...(options.setting ? { hashtagBuying: options.setting } : {}), ...(options.dailyLimit !== undefined ? { dailyLimit: options.dailyLimit } : {}) },
      user.token,
    );
  }
  return { id: user.id, token: user.token, userId, email: user.email, cardId, cardNumber, socialAccountId: account.id, handle: account.handle };
}

export const offerRow = (db: Kysely<DB>, offerId: string): Promise<OfferRow> => db.selectFrom('offers').selectAll().where('id', '=', offerId).executeTakeFirstOrThrow();

/** What the social module does for a buy post, in a transaction of its own. */
export async function buyPost(h: Harness, world: World, buyer: Buyer, options: { now?: Date; postId?: string; offer?: OfferRow } = {}) {
  return h.db.transaction().execute(async (trx) =>
    startIntentFromPost(trx, {
      offer: options.offer ?? (await offerRow(trx, world.offerId)),
      userId: buyer.userId,
      socialAccountId: buyer.socialAccountId,
      partnerId: world.partnerId,
      platform: 'X',
      buyPostId: options.postId ?? `post-${hex(6)}`,
      handle: buyer.handle,
      now: options.now ?? new Date(),
    }),
  );
}

/** What the social module does for a confirm post, in a transaction of its own. */
export async function confirmPost(h: Harness, world: World, buyer: Buyer, options: { now?: Date; socialAccountId?: string } = {}) {
  return h.db.transaction().execute((trx) =>
    confirmIntentFromPost(trx, {
      userId: buyer.userId,
      socialAccountId: options.socialAccountId ?? buyer.socialAccountId,
      offerId: world.offerId,
      confirmPostId: `post-${hex(6)}`,
      now: options.now ?? new Date(),
    }),
  );
}

/** The dependencies settleIntent and the payments queue need, logging into `lines`. */
export function settleDeps(h: Harness, lines: string[]): SettleDependencies & { logger: Logger } {
  const logger = createLogger({ logLevel: 'debug' }, { write: (line: string) => void lines.push(line) });
  return { db: h.db, config: h.config, security: h.security, logger };
}

export async function stockOf(db: Kysely<DB>, offerId: string): Promise<{ available: number; held: number }> {
  const row = await db.selectFrom('offers').select(['quantity_remaining', 'quantity_held']).where('id', '=', offerId).executeTakeFirstOrThrow();
  return { available: Number(row.quantity_remaining), held: Number(row.quantity_held) };
}

export const inMinutes = (n: number, from = new Date()) => new Date(from.getTime() + n * 60_000);
export const daysAgo = (n: number) => new Date(Date.now() - n * DAY);
