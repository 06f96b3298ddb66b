import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createClient, type Client } from 'graphql-ws';
import { auditServer } from 'graphql-http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { openDatabase } from '../src/database.js';
import { DataDirLockedError } from '../src/lib/data-dir-lock.js';
import { startHarness, type Harness } from './harness.js';

let h: Harness;
let url: string;

beforeAll(async () => {
  h = await startHarness();
  url = await h.app.listen(0, '127.0.0.1');
});
afterAll(() => h.close());

function wsClient(connectionParams: Record<string, unknown> = {}): Client {
  return createClient({
    url: url.replace('http', 'ws'),
    webSocketImpl: WebSocket,
    connectionParams,
    retryAttempts: 0,
    lazy: true,
  });
}

function wsQuery<T>(client: Client, query: string): Promise<{ data?: T; errors?: unknown[] }> {
  return new Promise((resolve, reject) => {
    let result: { data?: T; errors?: unknown[] } = {};
    client.subscribe<T>({ query }, { next: (r) => void (result = r as typeof result), error: reject, complete: () => resolve(result) });
  });
}

describe('HTTP', () => {
  it('passes every MUST and SHOULD of the GraphQL-over-HTTP audit', async () => {
    const results = await auditServer({ url });
    const failed = results.filter((r) => (r.name.startsWith('MUST') || r.name.startsWith('SHOULD')) && r.status !== 'ok');
    expect(failed.map((r) => `${r.name}: ${'reason' in r ? r.reason : ''}`)).toEqual([]);
    expect(results.filter((r) => r.name.startsWith('MUST')).length).toBeGreaterThan(10);
  });

  it('answers /health and /ready', async () => {
    const base = url.replace('/graphql', '');
    expect((await fetch(`${base}/health`)).status).toBe(200);
    expect((await fetch(`${base}/ready`)).status).toBe(200);
  });

  it('serves GraphiQL to browsers', async () => {
    const res = await fetch(url, { headers: { accept: 'text/html' } });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('graphiql');
  });

  it('gives each request an id, echoes it and logs the operation under it', async () => {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'req-test-42' },
      body: JSON.stringify({ query: 'query Probe { offers(first: 1) { edges { cursor } } }' }),
    });
    expect(res.headers.get('x-request-id')).toBe('req-test-42');
    const line = h.logs.map((l) => JSON.parse(l)).find((l) => l.requestId === 'req-test-42' && l.msg === 'operation');
    expect(line).toMatchObject({ operation: 'Probe', principal: 'anonymous' });
    const generated = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ __typename }"}' });
    expect(generated.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('refuses a bearer credential that is not a key with 401, whatever the operation', async () => {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer hbk_not-a-real-key' },
      body: JSON.stringify({ query: '{ offers(first: 1) { edges { cursor } } }' }),
    });
    expect(res.status).toBe(401);
    const body = (await res.json()) as { errors: { extensions: { code: string } }[] };
    expect(body.errors[0]!.extensions.code).toBe('UNAUTHENTICATED');
  });

  it('masks unexpected errors and logs them with the request id', async () => {
    const { db } = h;
    const original = db.selectFrom;
    let broken: (() => void) | undefined;
    try {
      // Any failure the code does not expect: here the data layer throws.
      (db as unknown as { selectFrom: unknown }).selectFrom = () => {
        throw new Error('simulated failure with secret detail');
      };
      broken = () => ((db as unknown as { selectFrom: unknown }).selectFrom = original);
      const failing = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-request-id': 'req-boom-2' },
        body: JSON.stringify({ query: '{ merchants(first: 1) { edges { cursor } } }' }),
      });
      const text = await failing.text();
      expect(text).not.toContain('secret detail');
      expect(JSON.parse(text).errors[0].message).toBe('Unexpected error.');
    } finally {
      broken?.();
    }
    const logged = h.logs.map((l) => JSON.parse(l)).find((l) => l.requestId === 'req-boom-2' && l.msg === 'unexpected error');
    expect(logged?.err?.message).toBe('simulated failure with secret detail');
    // Once: not again by yoga's own logger, without the request id and with the query.
    const mentions = h.logs.filter((l) => l.includes('simulated failure'));
    expect(mentions).toHaveLength(1);
  });
});

describe('argument validation', () => {
  it('answers an argument out of range with BAD_USER_INPUT and the rule, as other bad input', async () => {
    for (const query of ['{ offers(first: 0) { edges { cursor } } }', '{ offersForPosts(postIds: []) { postId } }'.replace('[]', JSON.stringify(Array.from({ length: 101 }, (_, i) => `p${i}`)))]) {
      const res = await h.gql(query);
      expect(res.data).toBeNull();
      expect(res.errors?.map((e) => [e.extensions?.code, e.message])).toEqual([['BAD_USER_INPUT', expect.stringMatching(/^(first must be from 1 to 100|postIds takes at most 100 ids)$/)]]);
    }
  });
});

describe('operation limits', () => {
  it('refuses an operation nested deeper than the limit, before running it', async () => {
    let query = 'id';
    for (let i = 0; i < 7; i++) query = `merchant { offers(first: 1) { edges { node { ${query} } } } }`;
    const before = h.database.statementCount();
    const res = await h.gql(`{ offers(first: 1) { edges { node { ${query} } } } }`);
    expect(res.errors?.[0]?.message).toMatch(/depth limit of 12 exceeded/);
    expect(h.database.statementCount()).toBe(before);
  });

  it('refuses a document with too many tokens', async () => {
    const res = await h.gql(`{ ${Array.from({ length: 3000 }, (_, i) => `a${i}: __typename`).join(' ')} }`);
    expect(res.errors?.[0]?.message).toMatch(/Token limit of 5000 exceeded/);
  });

  it('hides introspection and field suggestions in production only', async () => {
    const production = await startHarness({ NODE_ENV: 'production' });
    try {
      const introspection = await production.gql('{ __schema { types { name } } }');
      expect(introspection.errors?.[0]?.message).toMatch(/introspection/i);
      const typo = await production.gql('{ offerz(first: 1) { edges { cursor } } }');
      expect(typo.errors?.[0]?.message).toBe('Cannot query field "offerz" on type "Query".');
    } finally {
      await production.close();
    }
    const typo = await h.gql('{ offerz(first: 1) { edges { cursor } } }');
    expect(typo.errors?.[0]?.message).toMatch(/Did you mean "offer/);
    expect((await h.gql('{ __schema { queryType { name } } }')).data).toEqual({ __schema: { queryType: { name: 'Query' } } });
  });
});

describe('WebSocket', () => {
  it('runs queries over graphql-ws on the same port and path, with the key from connection_init', async () => {
    const merchant = await h.newMerchant();
    const anonymous = wsClient();
    const asMerchant = wsClient({ authorization: `Bearer ${merchant.key}` });
    try {
      const offers = await wsQuery<{ offers: { edges: unknown[] } }>(anonymous, '{ offers(first: 5) { edges { cursor } } }');
      expect(offers.errors).toBeUndefined();
      expect(Array.isArray(offers.data?.offers.edges)).toBe(true);
      const viewer = await wsQuery<{ merchantViewer: { id: string } }>(asMerchant, '{ merchantViewer { id } }');
      expect(viewer.data?.merchantViewer.id).toBe(merchant.id);
      const anonymousViewer = await wsQuery<{ merchantViewer: null }>(anonymous, '{ merchantViewer { id } }');
      expect(anonymousViewer.data?.merchantViewer).toBeNull();
    } finally {
      await anonymous.dispose();
      await asMerchant.dispose();
    }
  });

  it('validates WebSocket operations like HTTP ones', async () => {
    const client = wsClient();
    try {
      await expect(wsQuery(client, '{ offers(first: 5) { nope } }')).rejects.toBeTruthy();
    } finally {
      await client.dispose();
    }
  });
});

describe('shutdown', () => {
  it('closes WebSockets with 1001, stops serving and closes the database', async () => {
    const other = await startHarness();
    const otherUrl = await other.app.listen(0, '127.0.0.1');
    const socket = new WebSocket(otherUrl.replace('http', 'ws'), 'graphql-transport-ws');
    await new Promise((resolve) => socket.once('open', resolve));
    socket.send(JSON.stringify({ type: 'connection_init' }));
    await new Promise((resolve) => socket.once('message', resolve));
    const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
    await other.close();
    expect(await closed).toBe(1001);
    // Drained, not cut off by the shutdown timeout.
    expect(other.logs.some((l) => l.includes('shutdown timeout'))).toBe(false);
    await expect(fetch(otherUrl, { method: 'POST', body: '{}' })).rejects.toThrow();
    await expect(other.db.selectFrom('offers').select('id').execute()).rejects.toThrow();
  });
});

describe('embedded data folder', () => {
  it('refuses a second opener of the same folder with a clear message, and frees it on close', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hashback-lock-'));
    try {
      const first = await openDatabase({ dataDir: dir });
      expect(first.created).toBe(true);
      // Another process holding the lock: simulated by a live pid that is not ours.
      fs.writeFileSync(path.join(dir, 'hashback.lock'), String(process.ppid));
      await expect(openDatabase({ dataDir: dir })).rejects.toThrow(DataDirLockedError);
      await expect(openDatabase({ dataDir: dir })).rejects.toThrow(/in use by another hashback process/);
      fs.writeFileSync(path.join(dir, 'hashback.lock'), String(process.pid));
      await first.close();
      expect(fs.existsSync(path.join(dir, 'hashback.lock'))).toBe(false);
      const again = await openDatabase({ dataDir: dir });
      expect(again.created).toBe(false);
      await again.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('takes over a lock left by a process that no longer runs', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hashback-lock-'));
    try {
      fs.writeFileSync(path.join(dir, 'hashback.lock'), '999999999');
      const database = await openDatabase({ dataDir: dir });
      expect(fs.readFileSync(path.join(dir, 'hashback.lock'), 'utf8')).toBe(String(process.pid));
      await database.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
