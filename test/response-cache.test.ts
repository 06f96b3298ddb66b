/**
 * The response cache of anonymous public answers (src/server/response-cache.ts), with two app
 * instances on one Postgres database sharing the event relay (NOTIFY; the relay's poll is slowed
 * to a minute so only the signal can deliver in time). Whether an answer came from the cache is
 * seen by changing a row behind the application's back (no event): a cached answer still shows
 * the old value, a computed one the new. Malformed bodies are sent to one instance on either
 * database: the cache must leave them to yoga's own checks.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createApp, type App } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { openDatabase } from '../src/database.js';
import { createLogger } from '../src/logger.js';
import { generateCardKeys } from '../src/modules/cards/card-crypto.js';
import { loadSecurity } from '../src/security.js';
import { apiFixtures, databaseKind, dbId, httpGql, startHarness, unique, type ApiFixtures, type Gql, type Harness } from './harness.js';
import { adminQuery, useScratchDatabase } from './scratch-database.js';

const postgres = databaseKind() === 'postgres';

describe.skipIf(!postgres)('response cache across two instances (Postgres NOTIFY)', () => {
  const scratch = useScratchDatabase('response_cache', { poolSize: 2 });
  const keys = generateCardKeys();
  const secrets = { TOKEN_SECRET: 'response-cache-test-secret-0123456789abcdef', CARD_ENCRYPTION_KEYS: keys.encryptionKeys, CARD_FINGERPRINT_KEY: keys.fingerprintKey };
  const apps: App[] = [];
  let one: { app: App; gql: Gql; api: ApiFixtures };
  let two: { app: App; gql: Gql; api: ApiFixtures };

  async function startInstance() {
    const database = await openDatabase({ url: scratch.url, poolSize: 4 });
    const config = loadConfig({
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      JOBS: 'false',
      LIVE_EVENTS: 'true',
      EVENT_POLL_MS: '60000',
      DATABASE_URL: scratch.url,
      DATA_DIR: scratch.dataDir,
      ...secrets,
    });
    const logger = createLogger({ logLevel: 'silent' });
    const app = createApp({ config, database, logger, security: loadSecurity(config, () => undefined) });
    apps.push(app);
    const gql = httpGql('http://hashback.test/graphql', async (u, i) => app.yoga.fetch(u, i));
    return { app, gql, api: apiFixtures(gql, scratch.adminKey) };
  }

  beforeAll(async () => {
    one = await startInstance();
    two = await startInstance();
  });
  afterAll(async () => {
    await Promise.all(apps.map((app) => app.close()));
  });

  const cacheOf = (app: App) => {
    if (!app.responseCache) throw new Error('the response cache is off');
    return app.responseCache;
  };

  /** The first offer's title of `merchantId`'s feed, anonymously (or with `key`), with `extra` fields selected. */
  async function feedTitle(gql: Gql, merchantId: string, options: { extra?: string; key?: string } = {}): Promise<string> {
    return (await firstOffer(gql, merchantId, options)).title;
  }

  async function firstOffer(gql: Gql, merchantId: string, options: { extra?: string; key?: string } = {}): Promise<{ title: string; status: string }> {
    const res = await gql(
      `query Feed($merchantId: ID!) { offers(first: 5, filter: { merchantId: $merchantId }) { edges { node { id title status ${options.extra ?? ''} } } } }`,
      { merchantId },
      options.key,
    );
    if (res.errors) throw new Error(JSON.stringify(res.errors));
    return res.data.offers.edges[0].node;
  }

  /** Asks until an answer has been stored (the first after a drop only reads the next transition). */
  async function warm(gql: Gql, app: App, merchantId: string, extra?: string) {
    const storedBefore = cacheOf(app).stored;
    await vi.waitFor(
      async () => {
        await feedTitle(gql, merchantId, { extra });
        expect(cacheOf(app).stored).toBeGreaterThan(storedBefore);
      },
      { timeout: 10_000, interval: 20 },
    );
  }

  /** Changes a title without an event: only a computed answer can show it. */
  const retitleBehindTheBack = (offerId: string, title: string) =>
    adminQuery(scratch.url, 'update offers set title = $1 where id = $2', [title, dbId(offerId)]);

  /** Every event written so far has reached both instances (so none can drop an entry later). */
  async function eventsSettled() {
    await vi.waitFor(
      async () => {
        const [log] = await adminQuery<{ pending: number; head: number }>(
          scratch.url,
          'select count(*) filter (where position is null)::int as pending, coalesce(max(position), 0)::int as head from events',
        );
        expect(log!.pending).toBe(0);
        for (const app of [one.app, two.app]) expect(app.events!.bus.position).toBeGreaterThanOrEqual(log!.head);
      },
      { timeout: 10_000, interval: 20 },
    );
  }

  async function shop(title: string, overrides: Record<string, unknown> = {}) {
    const merchant = await one.api.newMerchant();
    const offerId = await one.api.newOffer(merchant.key, { title, ...overrides });
    await eventsSettled();
    return { merchant, offerId };
  }

  it('serves anonymous feed answers from memory, and drops them on both instances when an offer event arrives', async () => {
    const { merchant, offerId } = await shop('Coffee 10% back');
    await warm(two.gql, two.app, merchant.id);
    await warm(one.gql, one.app, merchant.id);

    // Cached: the row changed behind the application's back, the answers did not.
    await retitleBehindTheBack(offerId, 'Changed without an event');
    expect(await feedTitle(two.gql, merchant.id)).toBe('Coffee 10% back');
    expect(await feedTitle(one.gql, merchant.id)).toBe('Coffee 10% back');

    // An update on instance one writes an OFFER event; instance one drops its entries before answering.
    const droppedOnTwo = cacheOf(two.app).invalidations;
    await one.api.mutate(
      'updateOffer',
      'mutation($input: UpdateOfferInput!) { updateOffer(input: $input) { offer { id } userErrors { field message code } } }',
      { offerId, title: 'Coffee 12% back' },
      merchant.key,
    );
    expect(await feedTitle(one.gql, merchant.id)).toBe('Coffee 12% back');

    // Instance two drops its entries when the event reaches it through NOTIFY; from then on no
    // answer older than the event.
    await vi.waitFor(() => expect(cacheOf(two.app).invalidations).toBeGreaterThan(droppedOnTwo), { timeout: 10_000, interval: 20 });
    expect(await feedTitle(two.gql, merchant.id)).toBe('Coffee 12% back');
  });

  it('drops the answers on both instances when a merchant is suspended, so its offers leave the cached feed', async () => {
    const { merchant } = await shop('Tea 8% back');
    await warm(two.gql, two.app, merchant.id);
    const droppedOnTwo = cacheOf(two.app).invalidations;
    await one.api.mutate(
      'suspendMerchant',
      'mutation($input: SuspendMerchantInput!) { suspendMerchant(input: $input) { merchant { id } userErrors { field message code } } }',
      { merchantId: merchant.id },
      scratch.adminKey,
    );
    await vi.waitFor(() => expect(cacheOf(two.app).invalidations).toBeGreaterThan(droppedOnTwo), { timeout: 10_000, interval: 20 });
    const res = await two.gql('query($merchantId: ID!) { offers(first: 5, filter: { merchantId: $merchantId }) { edges { node { id } } } }', { merchantId: merchant.id });
    expect(res.data.offers.edges).toEqual([]);
  });

  it('never stores an answer that selects a viewer-dependent field or an owner count', async () => {
    const { merchant, offerId } = await shop('Books 5% back');
    await warm(two.gql, two.app, merchant.id); // a public answer is stored: the cache is working
    for (const extra of ['viewerHasActivated', 'activationCount', 'redemptionCount', 'rewardsTotal { amount }', 'locations { id }']) {
      // Several asks each: a public answer would have been stored by the second.
      const storedBefore = cacheOf(two.app).stored;
      for (let i = 0; i < 3; i++) await feedTitle(two.gql, merchant.id, { extra });
      expect(cacheOf(two.app).stored, extra).toBe(storedBefore);
      const fresh = unique('Books');
      await retitleBehindTheBack(offerId, fresh);
      expect(await feedTitle(two.gql, merchant.id, { extra }), extra).toBe(fresh);
    }
  });

  it('never answers an authenticated request from the cache, and never stores its answer', async () => {
    const { merchant, offerId } = await shop('Fuel 3% back');
    const user = await two.api.newUser();
    await eventsSettled();
    await warm(two.gql, two.app, merchant.id);
    await retitleBehindTheBack(offerId, 'Fuel 4% back');
    // The anonymous caller still gets the cached answer, the user and the merchant the row as it is.
    expect(await feedTitle(two.gql, merchant.id)).toBe('Fuel 3% back');
    expect(await feedTitle(two.gql, merchant.id, { key: user.token })).toBe('Fuel 4% back');
    expect(await feedTitle(two.gql, merchant.id, { key: merchant.key })).toBe('Fuel 4% back');

    // After a drop, authenticated answers are computed and never stored.
    cacheOf(two.app).invalidate('test');
    const storedBefore = cacheOf(two.app).stored;
    for (let i = 0; i < 3; i++) {
      await feedTitle(two.gql, merchant.id, { key: user.token });
      await feedTitle(two.gql, merchant.id, { key: merchant.key });
    }
    expect(cacheOf(two.app).stored).toBe(storedBefore);
  });

  it('keeps no answer past the next scheduled start of an offer', async () => {
    const startsAt = new Date(Date.now() + 3000);
    const { merchant } = await shop('Dining 8% back', { startsAt: startsAt.toISOString() });
    await warm(two.gql, two.app, merchant.id);
    const storedBefore = cacheOf(two.app).stored;
    expect(await firstOffer(two.gql, merchant.id)).toMatchObject({ title: 'Dining 8% back', status: 'SCHEDULED' });
    expect(cacheOf(two.app).stored, 'the answer came from the cache').toBe(storedBefore);
    // No job announces the start (JOBS is off) and no event arrives: only the cache's bound makes
    // the same question get a new answer once the start has passed.
    await vi.waitFor(() => expect(Date.now()).toBeGreaterThan(startsAt.getTime()), { timeout: 5000, interval: 50 });
    expect(await firstOffer(two.gql, merchant.id)).toMatchObject({ title: 'Dining 8% back', status: 'LIVE' });
  });
});

describe('response cache and malformed request bodies', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ LIVE_EVENTS: 'true' });
  });
  afterAll(() => h.close());

  const send = async (body: unknown, key?: string) => {
    const response = await h.app.yoga.fetch('http://hashback.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as { errors?: { message: string; extensions?: Record<string, unknown> }[] } };
  };

  it('answers a non-string query or operationName with the same 400 anonymously as with a key, logging no error', async () => {
    expect(h.app.responseCache, 'the response cache is on').toBeDefined();
    const logged = h.logs.length;
    const bodies = [
      { query: 123 },
      { query: ['{ eventCursor }'] },
      { query: { a: 1 } },
      { query: 'query A { eventCursor }', operationName: 5 },
      { query: 'query A { eventCursor }', operationName: ['A'] },
      { query: '{ eventCursor }', variables: 'x' },
    ];
    for (const body of bodies) {
      const withKey = await send(body, h.adminKey);
      const anonymous = await send(body);
      expect(withKey.status, JSON.stringify(body)).toBe(400);
      expect(anonymous, JSON.stringify(body)).toEqual(withKey);
    }
    // Variables nested past the limit: refused by the operation limits, not by the cache's hashing.
    const nested = `{"query": "query($a: ID!) { node(id: $a) { id } }", "variables": {"a": ${'['.repeat(100_000)}${']'.repeat(100_000)}}}`;
    const nestedWithKey = await send(nested, h.adminKey);
    expect(nestedWithKey.body.errors?.[0]?.message).toBe('The variables nest deeper than 16 levels.');
    expect(await send(nested)).toEqual(nestedWithKey);
    const errors = h.logs.slice(logged).filter((line) => /"level":(50|60)|TypeError/.test(line));
    expect(errors).toEqual([]);
  });
});
