/**
 * Demo data: approved merchants with locations and MIDs, live cashback offers (one on a social
 * post, a capped percentage, a fixed reward with a minimum spend), the #BuyGiftCard25 purchase
 * offer, demo API keys (admin, merchant, card partner, social platform), and a demo buyer whose
 * X handle is verified the way users do it (a code, then a post delivered by the social platform).
 * Goes through the services, so demo data obeys every product rule.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Kysely } from 'kysely';
import type { DB } from '../db/types.js';
import type { Context, Principal } from './context.js';
import { DomainError } from './lib/errors.js';
import { encodeGlobalId } from './lib/ids.js';
import type { Logger } from './logger.js';
import type { Budget, RateLimits } from './rate-limits.js';
import type { Security } from './security.js';
import { mintApiKey, principalOf } from './modules/api-keys/api-keys.service.js';
import { linkCard } from './modules/cards/cards.service.js';
import { createLocation } from './modules/locations/locations.service.js';
import { approveMerchant, createMerchant } from './modules/merchants/merchants.service.js';
import { createPartner } from './modules/partners/partners.service.js';
import { createOffer, publishOffer, type CreateOfferInput } from './modules/offers/offers.service.js';
import { updateHashtagSettings } from './modules/orders/orders.service.js';
import { attachOfferToPost } from './modules/posts/posts.service.js';
import { ingestPosts, startHandleVerification } from './modules/social/social.service.js';
import { signUp } from './modules/users/users.service.js';

export interface DemoKeys {
  admin: string;
  merchant: string;
  partner: string;
  /** The demo social platform's key (posts:write): delivers posts, reads and acknowledges replies. */
  social: string;
}

/** The demo buyer, as the summary prints it. The password is only known when the seed created it. */
export interface DemoBuyer {
  email: string;
  password: string | null;
  handle: string;
  platform: 'X';
  card: string;
  hashtagBuying: 'CONFIRM_BY_POST';
  created: boolean;
}

export interface SeedOptions {
  /**
   * The server's secrets: the demo buyer's card is sealed with its card keys, so the buyer is made
   * only when the seed is given them (`npm run seed` and the server's first start do).
   */
  security?: Security;
}

export interface SeedResult {
  /** False when the demo catalogue was already there (only new keys were minted). */
  createdCatalogue: boolean;
  merchants: number;
  offers: number;
  keys: DemoKeys;
  /** Absent when the seed had no card keys to link the buyer's card with. */
  buyer?: DemoBuyer;
}

const DAY = 24 * 60 * 60 * 1000;
const DEMO_PARTNER = 'Demo partner';
const DEMO_SOCIAL_PARTNER = 'Demo social platform';
const DEMO_BUYER = { email: 'demo-buyer@example.com', displayName: 'Demo Buyer', handle: '@demo_buyer' } as const;
/**
 * Sandbox test cards that always approve (sandbox-cards.ts). A card number is linked by one user
 * at a time: if someone in this database holds 4242…, the buyer gets the Mastercard one.
 */
const DEMO_BUYER_CARDS = ['4242 4242 4242 4242', '5555 5555 5555 4444'];

interface DemoMerchant {
  name: string;
  category: string;
  socialHandle: string;
  locations: { name: string; channel: 'IN_STORE' | 'ONLINE'; timezone: string; address?: string; mids: { network: 'VISA' | 'MASTERCARD' | 'AMEX' | 'DISCOVER'; mid: string }[] }[];
  offers: (Omit<CreateOfferInput, 'locationIds' | 'endsAt' | 'startsAt'> & { post?: { externalId: string; url: string; text: string } })[];
}

const GIFT_CARD_HASHTAG = '#BuyGiftCard25';
/** Derived by the offers service from the buy hashtag. */
const GIFT_CARD_CONFIRM_HASHTAG = '#ConfirmGiftCard25';

const DEMO: DemoMerchant[] = [
  {
    name: 'Blue Bottle Coffee',
    category: 'Coffee',
    socialHandle: '@bluebottle',
    locations: [
      { name: 'Blue Bottle — Bryant Park', channel: 'IN_STORE', timezone: 'America/New_York', address: '54 W 40th St, New York, NY', mids: [{ network: 'VISA', mid: 'BB-NYC-0001' }, { network: 'MASTERCARD', mid: 'BB-NYC-MC01' }] },
      { name: 'Blue Bottle — Online shop', channel: 'ONLINE', timezone: 'America/Los_Angeles', mids: [{ network: 'VISA', mid: 'BB-WEB-0001' }] },
    ],
    offers: [
      {
        kind: 'CASHBACK',
        title: '15% back on your morning coffee',
        description: 'Tap "Get Offer", then pay with your linked card at Blue Bottle.',
        currency: 'USD',
        rewardType: 'PERCENT',
        rewardBasisPoints: 1500,
        budget: 50_000,
        activationRequired: true,
        perUserLimit: 10,
        // No hold for returns: a demo purchase becomes a statement credit at once, so README's
        // walk-through (and a first try) reaches the credit in a minute, not a week.
        returnPeriodDays: 0,
        post: { externalId: 'demo-post-1001', url: 'https://social.example/bluebottle/status/1001', text: 'Mornings are better with 15% back. Tap Get Offer ☕' },
      },
      {
        kind: 'CASHBACK',
        title: '$5 back when you spend $40',
        description: 'Beans, gear and gifts: spend $40 or more in one purchase.',
        currency: 'USD',
        rewardType: 'FIXED',
        rewardAmount: 500,
        minSpend: 4_000,
        budget: 25_000,
        returnPeriodDays: 30,
      },
    ],
  },
  {
    name: 'Lumen Books',
    category: 'Books',
    socialHandle: '@lumenbooks',
    locations: [{ name: 'Lumen Books — Online', channel: 'ONLINE', timezone: 'America/Chicago', mids: [{ network: 'VISA', mid: 'LB-WEB-0001' }, { network: 'AMEX', mid: 'LB-WEB-AX01' }] }],
    offers: [
      {
        kind: 'CASHBACK',
        title: '10% back on books, up to $5',
        description: 'Any order at lumenbooks.example.',
        currency: 'USD',
        rewardType: 'PERCENT',
        rewardBasisPoints: 1000,
        maxReward: 500,
        budget: 100_000,
        returnPeriodDays: 30,
      },
    ],
  },
  {
    name: 'Gift Hub',
    category: 'Gift cards',
    socialHandle: '@gifthub',
    locations: [{ name: 'Gift Hub — Online', channel: 'ONLINE', timezone: 'America/New_York', mids: [{ network: 'VISA', mid: 'GH-WEB-0001' }] }],
    offers: [
      {
        kind: 'PURCHASE',
        title: '$25 gift card for $15',
        description: 'Post #BuyGiftCard25, then confirm with #ConfirmGiftCard25 within 15 minutes.',
        currency: 'USD',
        price: 1_500,
        quantity: 100,
        hashtag: GIFT_CARD_HASHTAG,
        confirmWindowMinutes: 15,
        channels: ['ONLINE'],
      },
    ],
  },
];

function contextFor(db: Kysely<DB>, principal: Principal, logger: Logger): Context {
  return {
    db,
    principal,
    logger,
    requestId: 'seed',
    clientAddress: 'seed',
    get security(): never {
      throw new Error('Seeding the catalogue handles no credentials.');
    },
    get rateLimits(): never {
      throw new Error('Seeding the catalogue is not rate limited.');
    },
    get config(): never {
      throw new Error('Seeding the catalogue reads no configuration.');
    },
  };
}

/** Seeding is not rate limited: every budget has room. */
const roomy = (policy: string): Budget => ({
  policy,
  limit: Number.MAX_SAFE_INTEGER,
  windowSeconds: 60,
  charge: async () => ({ policy, limit: Number.MAX_SAFE_INTEGER, windowSeconds: 60, remaining: Number.MAX_SAFE_INTEGER, resetSeconds: 60 }),
  refund: async () => {},
});
const UNLIMITED: RateLimits = {
  operations: { anonymous: roomy('anonymous'), user: roomy('user'), apiKey: roomy('api-key') },
  loginFailuresByEmail: roomy('login-email'),
  loginFailuresByAddress: roomy('login-address'),
  signUpsByAddress: roomy('signup-address'),
  cardLinkFailuresByUser: roomy('card-user'),
  cardLinkFailuresByAddress: roomy('card-address'),
  ingestItemsByPartner: roomy('ingest'),
  rejections: new Map(),
  close: async () => {},
};

/** A context for the steps a person or a partner takes (sign-up, card link, posts): with the card keys, never rate limited. */
function actingContextFor(db: Kysely<DB>, principal: Principal, logger: Logger, security: Security): Context {
  return {
    db,
    principal,
    logger,
    requestId: 'seed',
    clientAddress: 'seed',
    security,
    rateLimits: UNLIMITED,
    get config(): never {
      // Only a confirmed purchase (a charge) reads the configuration; the seed confirms none.
      throw new Error('Seeding the demo buyer reads no configuration.');
    },
  };
}

/** Fails loudly if a demo step is refused: demo data that breaks a rule is a bug. */
async function must<T>(step: string, result: Promise<T>): Promise<T> {
  try {
    return await result;
  } catch (error) {
    throw new Error(`Seeding failed at "${step}": ${(error as Error).message}`, { cause: error });
  }
}

export async function seedDemoData(
  db: Kysely<DB>,
  logger: Logger,
  progress: (line: string) => void = () => {},
  options: SeedOptions = {},
): Promise<SeedResult> {
  const admin = await mintApiKey(db, { name: 'Demo admin', role: 'ADMIN' });
  const adminCtx = contextFor(db, principalOf(admin.apiKey), logger);
  const existing = await db.selectFrom('merchants').select('id').where('name', '=', DEMO[0]!.name).executeTakeFirst();

  let firstMerchantId = existing?.id;
  let offers = 0;
  if (!existing) {
    const now = Date.now();
    for (const demo of DEMO) {
      const { merchant } = await must(
        `merchant ${demo.name}`,
        createMerchant(adminCtx, { name: demo.name, country: 'US', category: demo.category, socialHandle: demo.socialHandle }),
      );
      const merchantGlobalId = encodeGlobalId('Merchant', merchant.id);
      await must(`approve ${demo.name}`, approveMerchant(adminCtx, { merchantId: merchantGlobalId }));
      firstMerchantId ??= merchant.id;
      // The catalogue is built as the merchant itself would, before any merchant key exists.
      const merchantCtx = contextFor(db, { kind: 'merchant', apiKeyId: 'seed', merchantId: merchant.id }, logger);
      const locationIds: string[] = [];
      for (const location of demo.locations) {
        const created = await must(`location ${location.name}`, createLocation(merchantCtx, { ...location, country: 'US' }));
        locationIds.push(encodeGlobalId('Location', created.location.id));
      }
      for (const { post, ...offer } of demo.offers) {
        const { offer: row } = await must(
          `offer ${offer.title}`,
          createOffer(merchantCtx, { ...offer, startsAt: new Date(now - DAY), endsAt: new Date(now + 90 * DAY), locationIds }),
        );
        const offerId = encodeGlobalId('Offer', row.id);
        await must(`publish ${offer.title}`, publishOffer(merchantCtx, { offerId }));
        if (post) {
          await must(
            `post ${post.externalId}`,
            attachOfferToPost(merchantCtx, { offerId, post: { ...post, authorHandle: demo.socialHandle } }),
          );
        }
        offers++;
      }
      progress(`  merchant ${demo.name}: ${demo.locations.length} location(s), ${demo.offers.length} offer(s)`);
    }
  } else {
    progress('  demo catalogue already present: minting new demo keys only');
  }

  const merchant = await mintApiKey(db, { name: `Demo merchant (${DEMO[0]!.name})`, role: 'MERCHANT', merchantId: firstMerchantId! });
  // One demo partner across seeds: each seed issues it a new key, and it keeps what it ingested.
  const demoPartner =
    (await db.selectFrom('partners').select('id').where('name', '=', DEMO_PARTNER).orderBy('created_at').executeTakeFirst()) ??
    (await must('demo partner', createPartner(adminCtx, { name: DEMO_PARTNER, scopes: ['transactions:write', 'credits:write', 'posts:write'] }))).partner;
  const partner = await mintApiKey(db, { name: 'Demo partner key', role: 'PARTNER', partnerId: demoPartner.id });
  // The social platform is a partner of its own, holding posts:write only, like a real one would.
  const socialPartner =
    (await db.selectFrom('partners').select('id').where('name', '=', DEMO_SOCIAL_PARTNER).orderBy('created_at').executeTakeFirst()) ??
    (await must('demo social platform', createPartner(adminCtx, { name: DEMO_SOCIAL_PARTNER, scopes: ['posts:write'] }))).partner;
  const social = await mintApiKey(db, { name: 'Demo social platform key', role: 'PARTNER', partnerId: socialPartner.id });

  let buyer: DemoBuyer | undefined;
  if (options.security) {
    const socialCtx = actingContextFor(db, principalOf(social.apiKey), logger, options.security);
    buyer = await seedDemoBuyer(db, logger, options.security, socialCtx);
    progress(buyer.created ? `  demo buyer ${buyer.email}: card ${buyer.card}, ${buyer.handle} verified on X` : `  demo buyer ${buyer.email} already present`);
  } else {
    progress('  no card keys given: the demo buyer is left out');
  }
  return {
    createdCatalogue: !existing,
    merchants: existing ? 0 : DEMO.length,
    offers,
    keys: { admin: admin.secret, merchant: merchant.secret, partner: partner.secret, social: social.secret },
    ...(buyer ? { buyer } : {}),
  };
}

/**
 * The demo buyer, made as a person would: sign up, link an always-approving sandbox card, prove
 * @demo_buyer on X (a code from startHandleVerification, posted and delivered by the demo social
 * platform), and confirm purchases by post. Made once: a later seed finds it by its e-mail.
 */
async function seedDemoBuyer(db: Kysely<DB>, logger: Logger, security: Security, socialCtx: Context): Promise<DemoBuyer> {
  const described = { email: DEMO_BUYER.email, handle: DEMO_BUYER.handle, platform: 'X' as const, hashtagBuying: 'CONFIRM_BY_POST' as const };
  const existing = await db.selectFrom('users').select('id').where('email', '=', DEMO_BUYER.email).executeTakeFirst();
  if (existing) {
    const card = await db
      .selectFrom('cards')
      .select(['network', 'last4'])
      .where('user_id', '=', existing.id)
      .where('unlinked_at', 'is', null)
      .orderBy('linked_at')
      .executeTakeFirst();
    return { ...described, password: null, card: card ? `${card.network} ••${card.last4}` : 'none', created: false };
  }

  // A password nobody else knows, shown once in the summary (never stored in clear).
  const password = `demo-${randomBytes(9).toString('base64url')}`;
  const anonymousCtx = actingContextFor(db, { kind: 'anonymous' }, logger, security);
  const { user } = await must('demo buyer sign-up', signUp(anonymousCtx, { email: DEMO_BUYER.email, password, displayName: DEMO_BUYER.displayName, country: 'US' }));
  const buyerCtx = actingContextFor(db, { kind: 'user', userId: user.id }, logger, security);

  let linked: { network: string; last4: string } | undefined;
  for (const number of DEMO_BUYER_CARDS) {
    try {
      ({ card: linked } = await linkCard(buyerCtx, { number, expMonth: 12, expYear: new Date().getUTCFullYear() + 3 }));
      break;
    } catch (error) {
      // Someone else in this database linked that test card: try the next one.
      if (error instanceof DomainError && error.userErrors.some((e) => e.code === 'CARD_UNAVAILABLE')) continue;
      throw new Error(`Seeding failed at "demo buyer card": ${(error as Error).message}`, { cause: error });
    }
  }
  if (!linked) throw new Error(`Seeding failed at "demo buyer card": every approving test card (${DEMO_BUYER_CARDS.map((n) => `••${n.slice(-4)}`).join(', ')}) is linked by another user.`);

  const { verification } = await must('demo buyer handle', startHandleVerification(buyerCtx, { platform: 'X', handle: DEMO_BUYER.handle }));
  const { results } = await must(
    'demo buyer handle proof',
    ingestPosts(socialCtx, {
      posts: [
        {
          platform: 'X',
          postId: `demo-verify-${verification.code}`,
          authorHandle: DEMO_BUYER.handle,
          text: `Linking my hashback account ${verification.code}`,
          postedAt: new Date(),
        },
      ],
    }),
  );
  if (results[0]?.outcome !== 'VERIFIED_HANDLE') {
    throw new Error(`Seeding failed at "demo buyer handle proof": the post answered ${results[0]?.outcome} (${results[0]?.reason ?? 'no reason'}).`);
  }
  await must('demo buyer settings', updateHashtagSettings(buyerCtx, { hashtagBuying: 'CONFIRM_BY_POST' }));
  return { ...described, password, card: `${linked.network} ••${linked.last4}`, created: true };
}

/** Where the demo keys are kept: beside the embedded database, where `npm run simulate` looks. */
export function demoKeysFile(dataDir: string): string {
  return path.join(dataDir, 'demo-keys.json');
}

/**
 * Saves the demo keys (owner-only file) with the database they belong to (`embedded`, or
 * host:port/db of a Postgres server, never its credentials), so a later start can tell whether
 * they are for the database it opened. Returns the file's path.
 */
export function saveDemoKeys(dataDir: string, keys: DemoKeys, database: string): string {
  const file = demoKeysFile(dataDir);
  fs.mkdirSync(dataDir, { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify({ ...keys, database, savedAt: new Date().toISOString() }, null, 2)}\n`, { mode: 0o600 });
  return file;
}

/** The demo keys file for `database`, if one was saved for it (files without `database` are the embedded one's). */
export function findDemoKeys(dataDir: string, database: string): string | undefined {
  const file = demoKeysFile(dataDir);
  try {
    const saved = JSON.parse(fs.readFileSync(file, 'utf8')) as { database?: unknown; admin?: unknown };
    return typeof saved.admin === 'string' && (saved.database ?? 'embedded') === database ? file : undefined;
  } catch {
    return undefined;
  }
}

/** Whether the demo catalogue is there (a hint for an empty Postgres database). */
export async function hasDemoCatalogue(db: Kysely<DB>): Promise<boolean> {
  return (await db.selectFrom('merchants').select('id').where('name', '=', DEMO[0]!.name).executeTakeFirst()) !== undefined;
}

export function describeSeed(result: SeedResult): string {
  return [
    result.createdCatalogue
      ? `Demo catalogue: ${result.merchants} approved merchants, ${result.offers} live offers.`
      : 'Demo catalogue was already there.',
    'Demo API keys (shown once; use as "Authorization: Bearer <key>"):',
    `  admin     ${result.keys.admin}`,
    `  merchant  ${result.keys.merchant}   (Blue Bottle Coffee)`,
    `  partner   ${result.keys.partner}   (transactions, credits, posts)`,
    `  social    ${result.keys.social}   (Demo social platform: POSTS_WRITE — ingestPosts, socialReplies)`,
    ...describeBuyer(result.buyer),
  ].join('\n');
}

function describeBuyer(buyer: DemoBuyer | undefined): string[] {
  if (!buyer) return [];
  return [
    'Buy by hashtag:',
    `  offer     "$25 gift card for $15" (Gift Hub): post ${GIFT_CARD_HASHTAG}, then ${GIFT_CARD_CONFIRM_HASHTAG} within 15 minutes`,
    `  buyer     ${buyer.email}   password ${buyer.password ?? '(shown when it was first seeded)'}`,
    `            ${buyer.handle} verified on ${buyer.platform}, card ${buyer.card}, hashtag buying ${buyer.hashtagBuying}`,
  ];
}
