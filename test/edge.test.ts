/**
 * The edge of the API under hostile input: operation limits, sizes, suggestions, introspection,
 * cross-site posts and CORS. Each case is one an attacker measured against the server before
 * these limits existed (fragment bombs, wide variables, aliases, huge bodies and messages).
 */
import { getIntrospectionQuery } from 'graphql';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { COST, OPERATION_LIMITS } from '../src/server/limits.js';
import { startHarness, unique, type Harness } from './harness.js';

let dev: Harness;
let prod: Harness;

beforeAll(async () => {
  [dev, prod] = await Promise.all([startHarness(), startHarness({ NODE_ENV: 'production', GRAPHIQL: 'false' })]);
});
afterAll(() => Promise.all([dev.close(), prod.close()]));

/** A raw request to an app, as any client could send it. */
async function send(h: Harness, init: RequestInit & { path?: string } = {}) {
  const response = await h.app.yoga.fetch(`http://hashback.test${init.path ?? '/graphql'}`, { method: 'POST', ...init });
  const text = await response.text();
  let body: any;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: response.status, headers: response.headers, text, body };
}

const post = (h: Harness, payload: unknown, headers: Record<string, string> = {}) =>
  send(h, { headers: { 'content-type': 'application/json', ...headers }, body: typeof payload === 'string' ? payload : JSON.stringify(payload) });

const messages = (r: { body: any }) => (r.body?.errors ?? []).map((e: { message: string }) => e.message) as string[];

/** Fragments that each spread the next twice: 2^levels paths through a document under 2 KB. */
function fragmentBomb(levels: number): string {
  const fragments = Array.from({ length: levels }, (_, i) =>
    i === levels - 1
      ? `fragment F${i} on Offer { id }`
      : `fragment F${i} on Offer { merchant { offers(first: 1) { edges { node { ...F${i + 1} ...F${i + 1} } } } } }`,
  );
  return `query Bomb { offers(first: 1) { edges { node { ...F0 } } } } ${fragments.join(' ')}`;
}

describe('operation limits', () => {
  it('refuses a fragment bomb by its depth, computed once per fragment', async () => {
    const query = fragmentBomb(40);
    expect(query.length).toBeLessThan(5000);
    const res = await post(dev, { query });
    expect(res.body.data).toBeUndefined();
    expect(messages(res)).toEqual([expect.stringMatching(/depth limit of 12 exceeded/i)]);
    expect(res.text.length).toBeLessThan(1000);
  });

  it('refuses more aliases than the limit, before running any of them', async () => {
    const cursors = Array.from({ length: 1000 }, (_, i) => `a${i}: eventCursor`).join(' ');
    const before = dev.database.statementCount();
    const res = await post(dev, { query: `{ ${cursors} }` });
    expect(res.body.data).toBeUndefined();
    expect(messages(res).join(' ')).toMatch(new RegExp(`Aliases limit of ${OPERATION_LIMITS.aliases} exceeded`));
    expect(dev.database.statementCount() - before).toBe(0);

    const feeds = Array.from({ length: 227 }, (_, i) => `f${i}: offers(first: 100) { edges { node { id merchant { name } } } }`).join(' ');
    const wide = await post(dev, { query: `{ ${feeds} }` });
    expect(wide.body.data).toBeUndefined();
    expect(wide.text.length).toBeLessThan(2000);
  });

  it(`refuses more than ${OPERATION_LIMITS.sameRootField} root fields of one name`, async () => {
    const n = OPERATION_LIMITS.sameRootField + 1;
    const res = await post(dev, { query: `{ ${Array.from({ length: n }, (_, i) => `c${i}: eventCursor`).join(' ')} }` });
    expect(messages(res)).toEqual([`The operation selects eventCursor ${n} times; the limit is ${OPERATION_LIMITS.sameRootField} per operation.`]);
    const ok = await post(dev, { query: `{ ${Array.from({ length: n - 1 }, (_, i) => `c${i}: eventCursor`).join(' ')} }` });
    expect(ok.body.errors).toBeUndefined();
  });

  it('reports the cost of each operation and refuses one over the limit, counting `first` from the variables', async () => {
    const query = `query Feed($first: Int!) { offers(first: $first) { edges { node { id title merchant { name } } } pageInfo { hasNextPage } } }`;
    const small = await post(dev, { query, variables: { first: 2 } });
    expect(small.body.errors).toBeUndefined();
    // offers: 1 + 2 × (edges 1 + node 1 + merchant 1 + pageInfo 1)
    expect(small.body.extensions.cost).toEqual({ requested: 1 + 2 * 4, limit: dev.config.maxOperationCost });
    const large = await post(dev, { query, variables: { first: 100 } });
    expect(large.body.extensions.cost.requested).toBe(1 + 100 * 4);

    // Nested lists multiply: 100 offers × their merchant's 100 offers.
    const nested = await post(dev, {
      query: `query Nested($n: Int!) { offers(first: $n) { edges { node { merchant { offers(first: $n) { edges { node { id } } } } } } } }`,
      variables: { n: 100 },
    });
    expect(nested.body.data).toBeUndefined();
    expect(nested.body.errors[0].extensions).toMatchObject({ code: 'COST_LIMIT', cost: { limit: dev.config.maxOperationCost } });
    expect(nested.body.errors[0].extensions.cost.requested).toBeGreaterThan(dev.config.maxOperationCost);
  });

  it('charges a mutation field more than a read', async () => {
    const res = await post(dev, { query: `mutation { logIn(input: {email: "${unique('x')}@example.com", password: "not it at all"}) { token } }` });
    // logIn's payload object costs 1; the mutation itself COST.mutation.
    expect(res.body.extensions.cost.requested).toBe(1 + COST.mutation);
  });

  it('lets standard introspection through in development (GraphiQL loads the schema) and refuses it in production', async () => {
    const devRes = await post(dev, { query: getIntrospectionQuery() });
    expect(devRes.body.errors).toBeUndefined();
    expect(devRes.body.data.__schema.queryType.name).toBe('Query');
    const prodRes = await post(prod, { query: getIntrospectionQuery() });
    expect(prodRes.body.data).toBeUndefined();
    expect(messages(prodRes)[0]).toMatch(/introspection/i);
  });
});

describe('sizes', () => {
  it(`refuses a body over MAX_REQUEST_BYTES with 413, with or without Content-Length`, async () => {
    const big = JSON.stringify({ query: `{ ${'x'.repeat(dev.config.maxRequestBytes)} }` });
    const res = await post(dev, big);
    expect(res.status).toBe(413);
    expect(res.text.length).toBeLessThan(500);

    const encoder = new TextEncoder();
    const chunked = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(encoder.encode(big));
        controller.close();
      },
    });
    const streamed = await send(dev, { headers: { 'content-type': 'application/json' }, body: chunked, duplex: 'half' } as RequestInit);
    expect(streamed.status).toBe(413);
  });

  it('refuses a variables object with thousands of unknown keys at once, with a small answer', async () => {
    const input = Object.fromEntries(Array.from({ length: 30_000 }, (_, i) => [`k${i}`, i]));
    const res = await post(dev, { query: 'mutation($input: LogInInput!) { logIn(input: $input) { token } }', variables: { input } });
    expect(res.status).toBeLessThan(500);
    expect(messages(res)).toEqual([`An object in the variables has more than ${OPERATION_LIMITS.variableKeys} keys.`]);
    expect(res.text.length).toBeLessThan(1000);
  });

  it('answers at most a handful of errors, none quoting more than a line of the input', async () => {
    const ids = Array.from({ length: 60 }, (_, i) => ({ notAnId: 'y'.repeat(500), i }));
    const res = await post(dev, { query: 'query($ids: [ID!]!) { nodes(ids: $ids) { id } }', variables: { ids } });
    expect(res.body.errors.length).toBeLessThanOrEqual(6);
    for (const message of messages(res)) expect(message.length).toBeLessThanOrEqual(200);

    const longName = 'f'.repeat(200_000);
    const named = await post(dev, { query: `{ ${longName} }` });
    expect(messages(named)).toHaveLength(1);
    expect(named.text.length).toBeLessThan(1000);
  });

  it('closes a graphql-ws socket that sends a message over MAX_REQUEST_BYTES (1009)', async () => {
    const url = (await dev.app.listen(0, '127.0.0.1')).replace('http', 'ws');
    try {
      const socket = new WebSocket(url, 'graphql-transport-ws');
      await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
      socket.send(JSON.stringify({ type: 'connection_init' }));
      await new Promise((resolve) => socket.once('message', resolve));
      const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
      socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: `{ ${'x'.repeat(dev.config.maxRequestBytes)} }` } }));
      expect(await closed).toBe(1009);
    } finally {
      await new Promise((resolve) => dev.app.server.close(resolve));
    }
  });
});

describe('text inputs', () => {
  const SIGN_UP = 'mutation($input: SignUpInput!) { signUp(input: $input) { token userErrors { code } } }';
  const INGEST_POSTS = 'mutation($input: IngestPostsInput!) { ingestPosts(input: $input) { results { outcome } userErrors { code } } }';
  const socialPost = (text: string) => ({ platform: 'X', postId: unique('post'), authorHandle: `@${unique('h').replace('-', '')}`, text, postedAt: new Date().toISOString() });

  /** The answer refuses the operation for a NUL character: 400, BAD_USER_INPUT, no data, no quoted input. */
  const expectNulRefused = (res: { status: number; body: any; text: string }) => {
    expect(res.status).toBe(400);
    expect(res.body.data).toBeUndefined();
    expect(res.body.errors).toEqual([expect.objectContaining({ message: expect.stringMatching(/NUL character \(U\+0000\)/), extensions: { code: 'BAD_USER_INPUT' } })]);
    expect(res.text).not.toMatch(/x{20}/);
    expect(res.text.length).toBeLessThan(500);
  };

  it('refuses a NUL character (U+0000) in a string variable with 400 BAD_USER_INPUT before the operation runs, and stores nothing', async () => {
    const email = `${unique('nul')}@example.com`;
    const signUp = await post(dev, { query: SIGN_UP, variables: { input: { email: `${email}\u0000`, password: 'correct horse battery', displayName: 'X', country: 'US' } } });
    expectNulRefused(signUp);
    expect(signUp.body.errors[0].message).toMatch(/^The variable \$input\.email holds/);
    expect(await dev.db.selectFrom('users').select('id').where('email_key', 'like', `${email}%`).execute()).toEqual([]);

    const ids = await post(dev, { query: 'query($ids: [ID!]!) { offersForPosts(postIds: $ids) { postId } }', variables: { ids: ['fine', `${'x'.repeat(300)}\u0000`] } });
    expectNulRefused(ids);
    const search = await post(prod, { query: 'query($f: OfferFilter) { offers(first: 1, filter: $f) { edges { node { id } } } }', variables: { f: { search: 'a\u0000' } } });
    expectNulRefused(search);
    expect(search.body.errors[0].message).toMatch(/^The variable \$f\.search holds/);
    // The place is named with the client's keys: never a card number, never at length.
    const keyed = await post(prod, { query: 'query($f: OfferFilter) { offers(first: 1, filter: $f) { edges { node { id } } } }', variables: { f: { '4242424242424242': 'a\u0000' } } });
    expectNulRefused(keyed);
    expect(keyed.text).not.toContain('4242424242424242');
  });

  it('refuses a NUL character in a string literal of the document, escaped or raw', async () => {
    const escaped = await post(dev, { query: '{ offers(first: 1, filter: { search: "a\\u0000" }) { edges { node { id } } } }' });
    expectNulRefused(escaped);
    const raw = await post(prod, { query: '{ offersForPosts(postIds: ["a\u0000"]) { postId } }' });
    expectNulRefused(raw);
    const block = await post(dev, { query: 'mutation { logIn(input: { email: """a\u0000@example.com""", password: "not it at all" }) { token } }' });
    expectNulRefused(block);
  });

  it('refuses a whole batch holding one NUL character, quoting none of it, instead of losing it to a masked error', async () => {
    const partner = await dev.newPartner(['POSTS_WRITE']);
    const posts = [socialPost('first post'), socialPost(`second ${'x'.repeat(100)}\u0000`), socialPost('third post')];
    const res = await post(dev, { query: INGEST_POSTS, variables: { input: { posts } } }, { authorization: `Bearer ${partner.key}` });
    expectNulRefused(res);
    const stored = await dev.db.selectFrom('social_posts').select('post_id').where('post_id', 'in', posts.map((p) => p.postId)).execute();
    expect(stored).toEqual([]);
  });

  it('keeps tab, newline and the other control characters valid', async () => {
    const partner = await dev.newPartner(['POSTS_WRITE']);
    const text = 'line one\nline two\tand a tab\r\n\u0001';
    const posts = [socialPost(text)];
    const res = await post(dev, { query: INGEST_POSTS, variables: { input: { posts } } }, { authorization: `Bearer ${partner.key}` });
    expect(res.status).toBe(200);
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data.ingestPosts.userErrors).toEqual([]);
    const [row] = await dev.db.selectFrom('social_posts').select('text').where('post_id', '=', posts[0]!.postId).execute();
    expect(row?.text).toBe(text);
    const search = await post(dev, { query: '{ offers(first: 1, filter: { search: "a\\tb\\n" }) { edges { node { id } } } }' });
    expect(search.status).toBe(200);
    expect(search.body.errors).toBeUndefined();
  });

  it('refuses a NUL character over graphql-ws too, in variables and in literals', async () => {
    const url = (await dev.app.listen(0, '127.0.0.1')).replace('http', 'ws');
    const socket = new WebSocket(url, 'graphql-transport-ws');
    try {
      await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
      const frames: any[] = [];
      socket.on('message', (data) => frames.push(JSON.parse(String(data))));
      socket.send(JSON.stringify({ type: 'connection_init' }));
      await vi.waitFor(() => expect(frames.map((f) => f.type)).toContain('connection_ack'));
      socket.send(JSON.stringify({ id: 'v', type: 'subscribe', payload: { query: 'query($ids: [ID!]!) { offersForPosts(postIds: $ids) { postId } }', variables: { ids: ['a\u0000'] } } }));
      socket.send(JSON.stringify({ id: 'l', type: 'subscribe', payload: { query: '{ offersForPosts(postIds: ["a\\u0000"]) { postId } }' } }));
      await vi.waitFor(() => expect(frames.filter((f) => f.type === 'complete' || f.type === 'error')).toHaveLength(2));
      for (const id of ['v', 'l']) {
        const answer = frames.find((f) => f.id === id && (f.type === 'next' || f.type === 'error'));
        const errors = answer.type === 'next' ? answer.payload.errors : answer.payload;
        expect(errors).toEqual([expect.objectContaining({ message: expect.stringMatching(/NUL character/), extensions: expect.objectContaining({ code: 'BAD_USER_INPUT' }) })]);
        if (answer.type === 'next') expect(answer.payload.data).toBeUndefined();
      }
    } finally {
      socket.close();
      await new Promise((resolve) => dev.app.server.close(resolve));
    }
  });
});

describe('DateTime inputs', () => {
  const FEED = 'query($at: DateTime) { offers(first: 1, filter: { liveAt: $at }) { edges { node { id } } } }';
  // A bad literal is a validation error: 400 for clients that accept the GraphQL-over-HTTP media
  // type. A bad variable is refused by graphql-js's coercion, which yoga answers with 200 for every
  // scalar (Int as well), with no data.
  const ask = (payload: unknown) => post(dev, payload, { accept: 'application/graphql-response+json' });

  it("refuses year 0000 and calendar dates that do not exist with the scalar's own error, in variables and in literals", async () => {
    const refusal = 'DateTime must be an ISO-8601 date and time with an offset, on a real calendar day of the years 0001 to 9999';
    for (const at of ['0000-01-01T00:00:00Z', '2027-02-30T00:00:00Z', '2027-06-31T00:00:00Z', '2027-01-01T24:00:00Z']) {
      const variable = await ask({ query: FEED, variables: { at } });
      expect(variable.body.data, at).toBeUndefined();
      expect(messages(variable), at).toEqual([`Variable "$at" got invalid value "${at}"; ${refusal}, e.g. 2026-12-01T09:00:00Z.`]);
      const literal = await ask({ query: `{ offers(first: 1, filter: { liveAt: "${at}" }) { edges { node { id } } } }` });
      expect(literal.status, at).toBe(400);
      expect(messages(literal), at).toEqual([`${refusal}, e.g. 2026-12-01T09:00:00Z.`]);
    }
    const valid = await ask({ query: FEED, variables: { at: '2027-02-28T23:30:00.5-05:30' } });
    expect(valid.status).toBe(200);
    expect(valid.body.errors).toBeUndefined();
  });
});

describe('production errors', () => {
  it('never suggest field names or enum values, in validation or in variable coercion', async () => {
    const field = await post(prod, { query: '{ offerz(first: 1) { edges { node { id } } } }' });
    const enumValue = await post(prod, {
      query: 'query($o: OfferOrder) { offers(first: 1, orderBy: $o) { edges { node { id } } } }',
      variables: { o: 'NEWES' },
    });
    const inputField = await post(prod, {
      query: 'mutation($input: LogInInput!) { logIn(input: $input) { token } }',
      variables: { input: { emial: 'a@b.c', password: 'x' } },
    });
    for (const res of [field, enumValue, inputField]) {
      expect(res.body.errors.length).toBeGreaterThan(0);
      expect(res.text).not.toMatch(/did you mean/i);
    }
    // Development keeps the hints.
    const devEnum = await post(dev, { query: 'query($o: OfferOrder) { offers(first: 1, orderBy: $o) { edges { node { id } } } }', variables: { o: 'NEWES' } });
    expect(devEnum.text).toMatch(/did you mean/i);
  });
});

describe('cross-site requests', () => {
  const SIGN_UP = 'mutation($input: SignUpInput!) { signUp(input: $input) { token } }';

  it('refuses form and multipart posts with 415 and runs nothing', async () => {
    const email = `${unique('csrf')}@example.com`;
    const operations = JSON.stringify({ query: SIGN_UP, variables: { input: { email, password: 'correct horse battery', displayName: 'X', country: 'US' } } });
    const form = await send(dev, {
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example' },
      body: new URLSearchParams({ query: SIGN_UP, operations }).toString(),
    });
    const data = new FormData();
    data.set('operations', operations);
    data.set('map', '{}');
    const multipart = await send(dev, { headers: { origin: 'https://evil.example' }, body: data });
    const plain = await send(dev, { headers: { 'content-type': 'text/plain' }, body: operations });
    for (const res of [form, multipart, plain]) {
      expect(res.status).toBe(415);
      expect(res.body.errors[0].extensions.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    }
    const users = await dev.db.selectFrom('users').select('id').where('email_key', '=', email).execute();
    expect(users).toEqual([]);
  });

  it('never allows credentials; development allows any origin, production none unless configured', async () => {
    const query = { query: '{ eventCursor }' };
    const devRes = await post(dev, query, { origin: 'https://app.example' });
    expect(devRes.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(devRes.headers.get('access-control-allow-credentials')).toBeNull();

    const prodRes = await post(prod, query, { origin: 'https://evil.example' });
    expect(prodRes.headers.get('access-control-allow-origin')).toBeNull();
    expect(prodRes.headers.get('access-control-allow-credentials')).toBeNull();
    const preflight = await send(prod, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    });
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('with CORS_ORIGINS, echoes an allowed origin only, and refuses WebSocket upgrades from others', async () => {
    const h = await startHarness({ NODE_ENV: 'production', GRAPHIQL: 'false', CORS_ORIGINS: 'https://app.example,https://partner.example' });
    try {
      const allowed = await post(h, { query: '{ eventCursor }' }, { origin: 'https://partner.example' });
      expect(allowed.headers.get('access-control-allow-origin')).toBe('https://partner.example');
      expect(allowed.headers.get('access-control-allow-credentials')).toBeNull();
      const other = await post(h, { query: '{ eventCursor }' }, { origin: 'https://evil.example' });
      expect(other.headers.get('access-control-allow-origin')).toBeNull();

      const url = (await h.app.listen(0, '127.0.0.1')).replace('http', 'ws');
      const upgrade = (origin: string) =>
        new Promise<number | 'open'>((resolve) => {
          const socket = new WebSocket(url, 'graphql-transport-ws', { origin });
          socket.once('open', () => {
            socket.close();
            resolve('open');
          });
          socket.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
          socket.once('error', () => undefined);
        });
      expect(await upgrade('https://evil.example')).toBe(403);
      expect(await upgrade('https://app.example')).toBe('open');
    } finally {
      await h.close();
    }
  });
});
