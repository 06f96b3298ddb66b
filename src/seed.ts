/**
 * Demo data: approved merchants with locations and MIDs, live cashback offers (one on a social
 * post, a capped percentage, a fixed reward with a minimum spend), the #BuyGiftCard25 purchase
 * offer, and demo API keys. Goes through the services, so demo data obeys every product rule.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Kysely } from 'kysely';
import type { DB } from '../db/types.js';
import type { Context, Principal } from './context.js';
import { encodeGlobalId } from './lib/ids.js';
import type { Logger } from './logger.js';
import { mintApiKey, principalOf } from './modules/api-keys/api-keys.service.js';
import { createLocation } from './modules/locations/locations.service.js';
import { approveMerchant, createMerchant } from './modules/merchants/merchants.service.js';
import { createPartner } from './modules/partners/partners.service.js';
import { createOffer, publishOffer, type CreateOfferInput } from './modules/offers/offers.service.js';
import { attachOfferToPost } from './modules/posts/posts.service.js';

export interface DemoKeys {
  admin: string;
  merchant: string;
  partner: string;
}

export interface SeedResult {
  /** False when the demo catalogue was already there (only new keys were minted). */
  createdCatalogue: boolean;
  merchants: number;
  offers: number;
  keys: DemoKeys;
}

const DAY = 24 * 60 * 60 * 1000;
const DEMO_PARTNER = 'Demo partner';

interface DemoMerchant {
  name: string;
  category: string;
  socialHandle: string;
  locations: { name: string; channel: 'IN_STORE' | 'ONLINE'; timezone: string; address?: string; mids: { network: 'VISA' | 'MASTERCARD' | 'AMEX' | 'DISCOVER'; mid: string }[] }[];
  offers: (Omit<CreateOfferInput, 'locationIds' | 'endsAt' | 'startsAt'> & { post?: { externalId: string; url: string; text: string } })[];
}

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
        returnPeriodDays: 7,
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
        hashtag: '#BuyGiftCard25',
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
  return {
    createdCatalogue: !existing,
    merchants: existing ? 0 : DEMO.length,
    offers,
    keys: { admin: admin.secret, merchant: merchant.secret, partner: partner.secret },
  };
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
  ].join('\n');
}
