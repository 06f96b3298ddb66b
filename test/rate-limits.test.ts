/**
 * Rate limits hold under concurrency: each budget admits exactly its size, however many attempts
 * arrive at once. On the embedded database the limits are counted in memory; on Postgres in the
 * shared `rate_limits` table (what several instances share). Each test speaks from its own client
 * address (X-Forwarded-For behind one trusted proxy) so tests do not share budgets.
 */
import { randomBytes } from 'node:crypto';
import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { externalId, item, newShop, newShopper } from './cashback-fixtures.js';
import { apiFixtures, databaseKind, httpGql, randomCardNumber, startHarness, unique, type Harness } from './harness.js';

const LIMITS = {
  TRUST_PROXY_HOPS: '1',
  LOGIN_FAILURES_PER_EMAIL: '5',
  LOGIN_FAILURES_PER_ADDRESS: '20',
  SIGNUPS_PER_ADDRESS: '20',
  CARD_LINK_FAILURES_PER_USER: '5',
  CARD_LINK_FAILURES_PER_ADDRESS: '20',
  INGEST_ITEMS_PER_MINUTE: '10',
  WS_SUBSCRIPTIONS_PER_CONNECTION: '3',
  WS_CONNECTIONS_PER_ADDRESS: '3',
  WS_INIT_TIMEOUT_MS: '300',
  LIVE_EVENTS: 'true',
};

let h: Harness;

beforeAll(async () => {
  h = await startHarness(LIMITS);
});
afterAll(() => h.close());

const newAddress = () => `203.0.113.${randomBytes(1)[0]}-${randomBytes(4).toString('hex')}`;

/** The API as seen from one client address. */
function from(address: string) {
  const gql = httpGql('http://hashback.test/graphql', async (url, init) =>
    h.app.yoga.fetch(url, { ...init, headers: { ...(init.headers as Record<string, string>), 'x-forwarded-for': address } }),
  );
  return apiFixtures(gql, h.adminKey);
}

const LOG_IN = 'mutation($input: LogInInput!) { logIn(input: $input) { token userErrors { code } } }';
const SIGN_UP = 'mutation($input: SignUpInput!) { signUp(input: $input) { token userErrors { code } } }';
const LINK = 'mutation($input: LinkCardInput!) { linkCard(input: $input) { card { id } userErrors { code } } }';

const tally = (codes: string[]) => codes.reduce<Record<string, number>>((t, c) => ((t[c] = (t[c] ?? 0) + 1), t), {});

describe('logIn', () => {
  it('checks exactly 5 passwords for one e-mail when 200 wrong attempts arrive at once', async () => {
    const api = from(newAddress());
    const user = await api.newUser();
    const attempts = await Promise.all(
      Array.from({ length: 200 }, (_, i) => api.gql(LOG_IN, { input: { email: user.email, password: `wrong password ${i}` } })),
    );
    const codes = attempts.map((r) => r.data.logIn.userErrors[0].code as string);
    expect(tally(codes)).toEqual({ INVALID_CREDENTIALS: 5, RATE_LIMITED: 195 });
    const checked = await h.db.selectFrom('login_attempts').select('id').where('email_key', '=', user.email.toLowerCase()).execute();
    expect(checked).toHaveLength(5);
    // The right password is refused too until the window ends: a guesser learns nothing.
    const right = await api.gql(LOG_IN, { input: { email: user.email, password: 'correct horse battery' } });
    expect(right.data.logIn.userErrors[0].code).toBe('RATE_LIMITED');
  });

  it('checks exactly 20 passwords from one address trying 100 e-mails at once', async () => {
    const api = from(newAddress());
    const attempts = await Promise.all(
      Array.from({ length: 100 }, () => api.gql(LOG_IN, { input: { email: `${unique('guess')}@example.com`, password: 'wrong password' } })),
    );
    expect(tally(attempts.map((r) => r.data.logIn.userErrors[0].code))).toEqual({ INVALID_CREDENTIALS: 20, RATE_LIMITED: 80 });
  });

  it('does not count successful log-ins', async () => {
    const api = from(newAddress());
    const user = await api.newUser();
    for (let i = 0; i < 8; i++) {
      const res = await api.gql(LOG_IN, { input: { email: user.email, password: 'correct horse battery' } });
      expect(res.data.logIn.token).toEqual(expect.any(String));
    }
  });
});

describe('signUp', () => {
  it('admits 20 sign-ups an hour from one address, however many arrive at once', async () => {
    const api = from(newAddress());
    const results = await Promise.all(
      Array.from({ length: 30 }, () =>
        api.gql(SIGN_UP, { input: { email: `${unique('bulk')}@example.com`, password: 'correct horse battery', displayName: 'Bulk', country: 'US' } }),
      ),
    );
    expect(results.filter((r) => r.data.signUp.token)).toHaveLength(20);
    expect(tally(results.flatMap((r) => r.data.signUp.userErrors.map((e: { code: string }) => e.code)))).toEqual({ RATE_LIMITED: 10 });
  });
});

describe('linkCard (card testing)', () => {
  it('stops a user fishing for linked numbers after 5 refusals, and never says more', async () => {
    const owner = from(newAddress());
    const holders = await Promise.all(Array.from({ length: 6 }, () => owner.newUser()));
    const taken = await Promise.all(holders.map((u) => owner.linkCard(u.token)));
    const api = from(newAddress());
    const tester = await api.newUser();
    const year = new Date().getUTCFullYear() + 2;
    const tries = await Promise.all(
      [...taken.map((c) => c.number), ...Array.from({ length: 24 }, () => randomCardNumber().slice(0, -1) + 'x')].map((number) =>
        api.gql(LINK, { input: { number, expMonth: 1, expYear: year } }, tester.token),
      ),
    );
    const codes = tally(tries.map((r) => r.data.linkCard.userErrors[0]?.code ?? 'LINKED'));
    expect(codes.RATE_LIMITED).toBe(25);
    expect((codes.CARD_UNAVAILABLE ?? 0) + (codes.INVALID_CARD_NUMBER ?? 0)).toBe(5);
    // Once limited, even a number someone else linked answers RATE_LIMITED, not CARD_UNAVAILABLE.
    const again = await api.gql(LINK, { input: { number: taken[0]!.number, expMonth: 1, expYear: year } }, tester.token);
    expect(again.data.linkCard.userErrors[0].code).toBe('RATE_LIMITED');
    const cards = await h.db.selectFrom('cards').select('cards.id').innerJoin('users', 'users.id', 'cards.user_id').where('users.email_key', '=', tester.email.toLowerCase()).execute();
    expect(cards).toEqual([]);
  });

  it('stops one address spreading refusals over many users after 20', async () => {
    const api = from(newAddress());
    const users = await Promise.all(Array.from({ length: 6 }, () => api.newUser()));
    const year = new Date().getUTCFullYear() + 2;
    const tries = await Promise.all(
      users.flatMap((u) => Array.from({ length: 5 }, () => api.gql(LINK, { input: { number: '4000 0000 0000 0001', expMonth: 1, expYear: year } }, u.token))),
    );
    expect(tally(tries.map((r) => r.data.linkCard.userErrors[0].code))).toEqual({ INVALID_CARD_NUMBER: 20, RATE_LIMITED: 10 });
  });

  it('does not count cards that link', async () => {
    const api = from(newAddress());
    const user = await api.newUser();
    for (let i = 0; i < 7; i++) await api.linkCard(user.token);
    const cards = await h.db.selectFrom('cards').select('cards.id').innerJoin('users', 'users.id', 'cards.user_id').where('users.email_key', '=', user.email.toLowerCase()).execute();
    expect(cards).toHaveLength(7);
  });
});

describe('ingestTransactions', () => {
  it('admits INGEST_ITEMS_PER_MINUTE items per partner; a batch over the rest changes nothing', async () => {
    const api = from(newAddress());
    const shop = await newShop(api);
    const shopper = await newShopper(api, shop.offerId);
    const partner = await api.newPartner();
    const first = Array.from({ length: 6 }, () => item(shop, shopper.card.number));
    const second = Array.from({ length: 6 }, () => item(shop, shopper.card.number, { externalId: externalId('late') }));
    const ok = await api.gql(
      'mutation($input: IngestTransactionsInput!) { ingestTransactions(input: $input) { results { outcome } userErrors { code } } }',
      { input: { transactions: first } },
      partner.key,
    );
    expect(ok.data.ingestTransactions.results).toHaveLength(6);
    const refused = await api.gql(
      'mutation($input: IngestTransactionsInput!) { ingestTransactions(input: $input) { results { outcome } userErrors { code } } }',
      { input: { transactions: second } },
      partner.key,
    );
    expect(refused.data.ingestTransactions).toEqual({ results: null, userErrors: [{ code: 'RATE_LIMITED' }] });
    const stored = await h.db.selectFrom('transactions').select('id').where('external_id', 'in', second.map((t) => t.externalId as string)).execute();
    expect(stored).toEqual([]);
  });
});

describe('operations', () => {
  it('charges each operation its cost; past the budget answers 429 with Retry-After and RateLimit headers', async () => {
    const small = await startHarness({ ...LIMITS, RATE_LIMIT_ANONYMOUS: '100' });
    try {
      await chargeUntilLimited(small);
    } finally {
      await small.close();
    }
  });
});

async function chargeUntilLimited(h: Harness) {
  {
    const address = newAddress();
    const query = JSON.stringify({ query: '{ offers(first: 5) { edges { node { id merchant { name } } } } }' });
    const send = () =>
      h.app.yoga.fetch('http://hashback.test/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': address },
        body: query,
      });
    const first = await send();
    const body = (await first.json()) as { extensions: { cost: { requested: number } } };
    const cost = body.extensions.cost.requested;
    expect(first.headers.get('ratelimit-policy')).toBe('"anonymous";q=100;w=60');
    expect(first.headers.get('ratelimit')).toMatch(new RegExp(`^"anonymous";r=${100 - cost};t=\\d+$`));
    const admitted = Math.floor(100 / cost);
    const rest = await Promise.all(Array.from({ length: admitted + 3 }, () => send()));
    const statuses = tally(rest.map((r) => String(r.status)));
    expect(statuses).toEqual({ '200': admitted - 1, '429': 4 });
    const limited = rest.find((r) => r.status === 429)!;
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(limited.headers.get('ratelimit')).toMatch(/^"anonymous";r=0;t=\d+$/);
    const error = ((await limited.json()) as { errors: { extensions: { code: string } }[] }).errors[0]!;
    expect(error.extensions.code).toBe('RATE_LIMITED');
  }
}

describe('WebSocket', () => {
  let url: string;
  beforeAll(async () => {
    url = (await h.app.listen(0, '127.0.0.1')).replace('http', 'ws');
  });

  const open = (address: string) =>
    new Promise<WebSocket>((resolve, reject) => {
      const socket = new WebSocket(url, 'graphql-transport-ws', { headers: { 'x-forwarded-for': address } });
      socket.once('open', () => resolve(socket)).once('error', reject);
    });
  const closeOf = (socket: WebSocket) => new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));

  it('closes a connection that sends no connection_init in time (4408)', async () => {
    const socket = await open(newAddress());
    expect(await closeOf(socket)).toBe(4408);
  });

  it('closes connections beyond WS_CONNECTIONS_PER_ADDRESS from one address (1013), and admits another address', async () => {
    const address = newAddress();
    const sockets = await Promise.all(Array.from({ length: 3 }, () => open(address)));
    const extra = await open(address);
    expect(await closeOf(extra)).toBe(1013);
    const other = await open(newAddress());
    const otherClosed = closeOf(other);
    other.send(JSON.stringify({ type: 'connection_init' }));
    const ack = await new Promise<string>((resolve) => other.once('message', (m) => resolve(String(m))));
    expect(JSON.parse(ack).type).toBe('connection_ack');
    other.close();
    await otherClosed;
    // One leaves; one more may come.
    const left = closeOf(sockets[0]!);
    sockets[0]!.close();
    await left;
    const again = await open(address);
    again.send(JSON.stringify({ type: 'connection_init' }));
    const ack2 = await new Promise<string>((resolve) => again.once('message', (m) => resolve(String(m))));
    expect(JSON.parse(ack2).type).toBe('connection_ack');
    for (const s of [...sockets.slice(1), again]) s.close();
  });

  it(`refuses a subscription beyond WS_SUBSCRIPTIONS_PER_CONNECTION on one connection`, async () => {
    const client = createClient({ url, webSocketImpl: WebSocket, retryAttempts: 0, lazy: true });
    try {
      const errors: unknown[] = [];
      const subscribe = () =>
        new Promise<void>((resolve) => {
          client.subscribe(
            { query: 'subscription { offerFeed { type } }' },
            { next: () => undefined, error: (e) => (errors.push(e), resolve()), complete: () => resolve() },
          );
          setImmediate(resolve);
        });
      for (let i = 0; i < 4; i++) await subscribe();
      await expect.poll(() => errors.length).toBe(1);
      expect(JSON.stringify(errors[0])).toMatch(/holds 3 operations/);
    } finally {
      await client.dispose();
    }
  });
});

it('keeps its counts where every instance sees them (Postgres: the rate_limits table)', async () => {
  if (databaseKind() !== 'postgres') {
    expect(h.database.url).toBeUndefined();
    return;
  }
  const rows = await h.db.selectFrom('rate_limits').select(['key', 'points']).where('key', 'like', 'hb:login-email:%').execute();
  expect(rows.length).toBeGreaterThan(0);
  // E-mail addresses are not stored in the keys.
  expect(rows.some((r) => r.key.includes('@'))).toBe(false);
});

describe('charges to one key while a store call is in flight', () => {
  it('go to the store together, and each learns its exact place in the window', async () => {
    const { coalesceCharges } = await import('../src/rate-limits.js');
    const { RateLimiterMemory, RateLimiterRes } = await import('rate-limiter-flexible');
    const limiter = new RateLimiterMemory({ points: 10, duration: 60 });
    const calls: number[] = [];
    const count = coalesceCharges(async (key, points) => {
      calls.push(points);
      // A store answers after a round trip: the charges made meanwhile wait for the next call.
      await new Promise<void>((resolve) => setImmediate(resolve));
      const res = await limiter.consume(key, points).catch((e: unknown) => {
        if (e instanceof RateLimiterRes) return e;
        throw e;
      });
      return { consumed: res.consumedPoints, msBeforeNext: res.msBeforeNext };
    });
    const counted = await Promise.all(Array.from({ length: 40 }, (_, i) => count('k', 1 + (i % 2))));
    // Every point was counted once, in far fewer store calls than charges.
    expect(calls.reduce((a, b) => a + b, 0)).toBe(60);
    expect(calls.length).toBeLessThan(5);
    // Each charge's position is the running total in the order the charges were made.
    let total = 0;
    expect(counted.map((c) => c.consumed)).toEqual(Array.from({ length: 40 }, (_, i) => (total += 1 + (i % 2))));
    // Another key is not held up by this one's batch.
    expect((await count('other', 3)).consumed).toBe(3);
  });

  it('fail together when the store fails, and the next charge goes to the store again', async () => {
    const { coalesceCharges } = await import('../src/rate-limits.js');
    let fail = true;
    const count = coalesceCharges(async (_key, points) => {
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (fail) throw new Error('store down');
      return { consumed: points, msBeforeNext: 1000 };
    });
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => count('k', 1)));
    expect(results.map((r) => r.status)).toEqual(Array(5).fill('rejected'));
    fail = false;
    expect(await count('k', 2)).toEqual({ consumed: 2, msBeforeNext: 1000 });
  });

  it('keep a budget exact: of 100 concurrent charges of a budget of 7, 7 pass with remaining 6 down to 0', async () => {
    const { createRateLimits, RateLimitExceeded } = await import('../src/rate-limits.js');
    const { createLogger } = await import('../src/logger.js');
    const limits = createRateLimits({
      config: { rateLimits: { ...h.config.rateLimits, loginFailuresPerEmail: 7 }, redisUrl: undefined },
      postgresUrl: h.database.url,
      logger: createLogger({ logLevel: 'silent' }),
    });
    try {
      const key = unique('exact');
      const results = await Promise.allSettled(Array.from({ length: 100 }, () => limits.loginFailuresByEmail.charge(key)));
      const passed = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value.remaining] : []));
      expect(passed.sort((a, b) => b - a)).toEqual([6, 5, 4, 3, 2, 1, 0]);
      for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(RateLimitExceeded);
    } finally {
      await limits.close();
    }
  });
});

describe('shared across instances', () => {
  /** Every store this run can reach: memory always; Postgres and Redis when the run has them. */
  async function stores(): Promise<{ name: string; postgresUrl?: string; redisUrl?: string }[]> {
    const found: { name: string; postgresUrl?: string; redisUrl?: string }[] = [];
    if (h.database.url) found.push({ name: 'postgres', postgresUrl: h.database.url });
    const redisUrl = process.env.TEST_REDIS_URL;
    if (redisUrl) {
      const { Redis } = await import('ioredis');
      const probe = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      const up = await probe.connect().then(
        () => true,
        () => false,
      );
      probe.disconnect();
      if (up) found.push({ name: 'redis', redisUrl });
    }
    return found;
  }

  it('two instances on one store admit exactly the budget between them, 200 attempts at once', async () => {
    const { createRateLimits } = await import('../src/rate-limits.js');
    const { createLogger } = await import('../src/logger.js');
    const logger = createLogger({ logLevel: 'silent' });
    const checked = await stores();
    for (const store of checked) {
      const config = { rateLimits: h.config.rateLimits, redisUrl: store.redisUrl };
      const a = createRateLimits({ config, postgresUrl: store.postgresUrl, logger });
      const b = createRateLimits({ config, postgresUrl: store.postgresUrl, logger });
      try {
        const key = unique(store.name);
        const results = await Promise.allSettled(
          Array.from({ length: 200 }, (_, i) => (i % 2 ? a : b).loginFailuresByEmail.charge(key)),
        );
        expect({ store: store.name, admitted: results.filter((r) => r.status === 'fulfilled').length }).toEqual({ store: store.name, admitted: 5 });
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    }
    // Postgres runs always have that store; Redis is checked when TEST_REDIS_URL answers.
    if (databaseKind() === 'postgres') expect(checked.map((s) => s.name)).toContain('postgres');
  });
});
