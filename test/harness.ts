/**
 * Test harness: the real app on the run's database (PGlite from the migrated template, or the
 * run's Postgres database), driven through its GraphQL API, with log lines captured. Fixtures
 * create what each test needs through the API, with unique names, so files run in parallel.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print, type DocumentNode } from 'graphql';
import { inject } from 'vitest';
import { createApp, type App } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { openDatabase, type Database } from '../src/database.js';
import { createLogger } from '../src/logger.js';
import { mintApiKey } from '../src/modules/api-keys/api-keys.service.js';
import { generateCardKeys } from '../src/modules/cards/card-crypto.js';
import { randomCardNumber } from '../src/modules/cards/card-number.js';
import { loadSecurity } from '../src/security.js';

export interface GraphQLResponse<T> {
  status: number;
  headers: Headers;
  data: T | null | undefined;
  errors?: { message: string; extensions?: Record<string, unknown>; path?: (string | number)[] }[];
}

export interface UserErrorShape {
  field: string[] | null;
  message: string;
  code: string;
}

const DAY = 24 * 60 * 60 * 1000;

/** A payload's user errors reduced to what tests compare: code and field. */
export const codes = (errors: UserErrorShape[]) => errors.map((e) => ({ code: e.code, field: e.field }));

export const unique = (prefix = 'x') => `${prefix}-${randomBytes(4).toString('hex')}`;

/** A fresh Luhn-valid card number (Visa by default), unique enough for parallel tests. */
export { randomCardNumber };

/** Which database this run's project uses. */
export const databaseKind = (): 'pglite' | 'postgres' => inject('database').kind;

export async function openTestDatabase(poolSize = 5): Promise<Database> {
  const target = inject('database');
  return target.kind === 'postgres'
    ? openDatabase({ url: target.url, poolSize })
    : openDatabase({ memory: true, loadDataDir: new Blob([fs.readFileSync(target.templatePath)]) });
}

/** A GraphQL request: a document, its variables and the caller's key or token. */
export type Gql = <TData = any, TVars = Record<string, unknown>>(
  document: TypedDocumentNode<TData, TVars> | DocumentNode | string,
  variables?: TVars,
  key?: string | null,
) => Promise<GraphQLResponse<TData>>;

/** `Gql` over HTTP to a server at `url` (another process), or through `fetcher`. */
export function httpGql(url: string, fetcher: (url: string, init: RequestInit) => Promise<Response> = (u, i) => fetch(u, i)): Gql {
  return async (document, variables, key) => {
    const response = await fetcher(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/graphql-response+json',
        ...(key ? { authorization: `Bearer ${key}` } : {}),
      },
      body: JSON.stringify({ query: typeof document === 'string' ? document : print(document), variables }),
    });
    const body = (await response.json()) as Omit<GraphQLResponse<never>, 'status' | 'headers'>;
    return { status: response.status, headers: response.headers, ...body };
  };
}

export type ApiFixtures = ReturnType<typeof apiFixtures>;

/** Fixtures created through the API of whichever server `gql` reaches, as `adminKey`'s admin. */
export function apiFixtures(gql: Gql, adminKey: string) {
  /** Runs a mutation that must succeed; returns its payload. */
  async function mutate<T = any>(name: string, document: string, input: Record<string, unknown>, key: string | null): Promise<T> {
    const res = await gql(document, { input }, key);
    if (res.errors) throw new Error(`${name}: ${JSON.stringify(res.errors)}`);
    const payload = (res.data as Record<string, { userErrors: UserErrorShape[] }>)[name]!;
    if (payload.userErrors.length > 0) throw new Error(`${name}: ${JSON.stringify(payload.userErrors)}`);
    return payload as T;
  }

  /** A merchant (approved unless told otherwise) with a merchant key. */
  async function newMerchant(options: { approved?: boolean; name?: string; country?: string; contactEmail?: string } = {}) {
    const { merchant } = await mutate<{ merchant: { id: string } }>(
      'createMerchant',
      'mutation($input: CreateMerchantInput!) { createMerchant(input: $input) { merchant { id } userErrors { field message code } } }',
      { name: options.name ?? unique('Merchant'), country: options.country ?? 'US', category: 'Coffee', ...(options.contactEmail ? { contactEmail: options.contactEmail } : {}) },
      adminKey,
    );
    if (options.approved !== false) {
      await mutate(
        'approveMerchant',
        'mutation($input: ApproveMerchantInput!) { approveMerchant(input: $input) { merchant { id } userErrors { field message code } } }',
        { merchantId: merchant.id },
        adminKey,
      );
    }
    const { secret } = await mutate<{ secret: string }>(
      'createApiKey',
      'mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret userErrors { field message code } } }',
      { name: 'merchant key', role: 'MERCHANT', merchantId: merchant.id },
      adminKey,
    );
    return { id: merchant.id, key: secret };
  }

  async function newLocation(merchantKey: string, overrides: Record<string, unknown> = {}): Promise<string> {
    const { location } = await mutate<{ location: { id: string } }>(
      'createLocation',
      'mutation($input: CreateLocationInput!) { createLocation(input: $input) { location { id } userErrors { field message code } } }',
      {
        name: unique('Store'),
        channel: 'IN_STORE',
        country: 'US',
        timezone: 'America/New_York',
        mids: [{ network: 'VISA', mid: unique('MID').toUpperCase() }],
        ...overrides,
      },
      merchantKey,
    );
    return location.id;
  }

  /** Valid createOffer input: a live 10% cashback offer unless overridden. */
  function offerInput(overrides: Record<string, unknown> = {}): Record<string, unknown> {
    return {
      kind: 'CASHBACK',
      title: unique('10% back'),
      currency: 'USD',
      rewardType: 'PERCENT',
      rewardBasisPoints: 1000,
      budget: 100_000,
      startsAt: new Date(Date.now() - DAY).toISOString(),
      endsAt: new Date(Date.now() + 30 * DAY).toISOString(),
      ...overrides,
    };
  }

  async function newOffer(
    merchantKey: string,
    overrides: Record<string, unknown> = {},
    options: { publish?: boolean } = {},
  ): Promise<string> {
    const locationIds = overrides.locationIds ?? [await newLocation(merchantKey)];
    const { offer } = await mutate<{ offer: { id: string } }>(
      'createOffer',
      'mutation($input: CreateOfferInput!) { createOffer(input: $input) { offer { id } userErrors { field message code } } }',
      offerInput({ ...overrides, locationIds }),
      merchantKey,
    );
    if (options.publish !== false) {
      await mutate(
        'publishOffer',
        'mutation($input: PublishOfferInput!) { publishOffer(input: $input) { offer { id } userErrors { field message code } } }',
        { offerId: offer.id },
        merchantKey,
      );
    }
    return offer.id;
  }

  /** A signed-up consumer with its token. */
  async function newUser(options: { country?: string } = {}) {
    const email = `${unique('user')}@example.com`;
    const res = await gql(
      'mutation($input: SignUpInput!) { signUp(input: $input) { token user { id } userErrors { field message code } } }',
      { input: { email, password: 'correct horse battery', displayName: 'Test User', country: options.country ?? 'US' } },
    );
    if (!res.data?.signUp?.token) throw new Error(`signUp: ${JSON.stringify(res)}`);
    return { id: res.data.signUp.user.id as string, token: res.data.signUp.token as string, email };
  }

  async function linkCard(token: string, number = randomCardNumber()) {
    const { card } = await mutate<{ card: { id: string } }>(
      'linkCard',
      'mutation($input: LinkCardInput!) { linkCard(input: $input) { card { id } userErrors { field message code } } }',
      { number, expMonth: 12, expYear: new Date().getUTCFullYear() + 3 },
      token,
    );
    return { id: card.id, number };
  }

  /** A key of another partner: `partnerId`'s, with its scopes unless narrowed to `scopes`. */
  async function newPartnerKey(partnerId: string, scopes?: string[]): Promise<{ keyId: string; key: string }> {
    const { secret, apiKey } = await mutate<{ secret: string; apiKey: { id: string } }>(
      'createApiKey',
      'mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret apiKey { id } userErrors { field message code } } }',
      { name: unique('partner key'), role: 'PARTNER', partnerId, ...(scopes ? { scopes } : {}) },
      adminKey,
    );
    return { keyId: apiKey.id, key: secret };
  }

  /** A new partner with the given scopes and one key holding them: `id` is the partner's global id. */
  async function newPartner(
    scopes: string[] = ['TRANSACTIONS_WRITE', 'CREDITS_WRITE'],
    options: { contactEmail?: string } = {},
  ): Promise<{ id: string; key: string; keyId: string }> {
    const { partner } = await mutate<{ partner: { id: string } }>(
      'createPartner',
      'mutation($input: CreatePartnerInput!) { createPartner(input: $input) { partner { id } userErrors { field message code } } }',
      { name: unique('partner'), scopes, ...options },
      adminKey,
    );
    return { id: partner.id, ...(await newPartnerKey(partner.id)) };
  }

  return { gql, mutate, newMerchant, newLocation, offerInput, newOffer, newUser, linkCard, newPartner, newPartnerKey };
}

export type Harness = Awaited<ReturnType<typeof startHarness>>;

/** The app on the run's database; `env` adds or overrides configuration variables. */
export async function startHarness(env: Record<string, string> = {}, options: { poolSize?: number } = {}) {
  const database = await openTestDatabase(options.poolSize);
  const logs: string[] = [];
  const logger = createLogger({ logLevel: 'debug' }, { write: (line: string) => void logs.push(line) });
  const keys = generateCardKeys();
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'debug',
    SHUTDOWN_TIMEOUT_MS: '2000',
    GRAPHIQL: 'true',
    // Background jobs run only where a test starts them: files share one Postgres database.
    JOBS: 'false',
    // Live events add statements after each mutation; tests of subscriptions turn them on.
    LIVE_EVENTS: 'false',
    // Test files share one client address (and, on Postgres, one rate-limit table): budgets are
    // lifted here; test/rate-limits.test.ts sets its own and gives each test its own address.
    RATE_LIMIT_ANONYMOUS: '100000000',
    RATE_LIMIT_USER: '100000000',
    RATE_LIMIT_API_KEY: '100000000',
    LOGIN_FAILURES_PER_ADDRESS: '1000000',
    SIGNUPS_PER_ADDRESS: '1000000',
    CARD_LINK_FAILURES_PER_USER: '1000000',
    CARD_LINK_FAILURES_PER_ADDRESS: '1000000',
    TOKEN_SECRET: randomBytes(32).toString('base64url'),
    CARD_ENCRYPTION_KEYS: keys.encryptionKeys,
    CARD_FINGERPRINT_KEY: keys.fingerprintKey,
    ...env,
  });
  const security = loadSecurity(config, (message) => logger.warn(message));
  const app: App = createApp({ config, database, logger, security });
  const { db } = database;
  const adminKey = (await mintApiKey(db, { name: unique('test admin'), role: 'ADMIN' })).secret;

  const gql = httpGql('http://hashback.test/graphql', async (url, init) => app.yoga.fetch(url, init));

  return {
    app,
    config,
    security,
    database,
    db,
    logs,
    adminKey,
    ...apiFixtures(gql, adminKey),
    close: () => app.close(),
  };
}

/** Database id behind a global id (for looking at rows). */
export function dbId(globalId: string): string {
  return Buffer.from(globalId, 'base64').toString('utf8').split(':')[1]!;
}
