import { createClient } from 'graphql-ws';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { dbId, startHarness, unique, type Harness } from '../../../test/harness.js';

const SIGN_UP = `mutation($input: SignUpInput!) { signUp(input: $input) { token user { id email country } userErrors { field message code } } }`;
const LOG_IN = `mutation($input: LogInInput!) { logIn(input: $input) { token user { id } userErrors { field message code } } }`;
const VIEWER = `{ viewer { id email displayName country cards { id } activations { id } } }`;

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

const input = (overrides: Record<string, unknown> = {}) => ({
  email: `${unique('ada')}@example.com`,
  password: 'correct horse battery',
  displayName: 'Ada',
  country: 'US',
  ...overrides,
});

describe('signUp', () => {
  it('creates the account with an argon2id hash and returns a working token', async () => {
    const data = input({ email: `  ${unique('Mixed')}@Example.com ` });
    const res = await h.gql(SIGN_UP, { input: data });
    expect(res.data.signUp.userErrors).toEqual([]);
    const row = await h.db.selectFrom('users').selectAll().where('id', '=', dbId(res.data.signUp.user.id)).executeTakeFirstOrThrow();
    expect(row.password_hash).toMatch(/^\$argon2id\$/);
    expect(row.password_hash).not.toContain(data.password);
    expect(row.email_key).toBe((data.email as string).trim().toLowerCase());
    const viewer = await h.gql(VIEWER, {}, res.data.signUp.token);
    expect(viewer.data.viewer).toMatchObject({ id: res.data.signUp.user.id, displayName: 'Ada', cards: [], activations: [] });
  });

  it('refuses a taken e-mail, whatever its case, and creates nothing', async () => {
    const data = input();
    await h.gql(SIGN_UP, { input: data });
    const res = await h.gql(SIGN_UP, { input: { ...data, email: (data.email as string).toUpperCase() } });
    expect(res.data.signUp).toMatchObject({ token: null, userErrors: [{ code: 'EMAIL_TAKEN', field: ['email'] }] });
    const rows = await h.db.selectFrom('users').select('id').where('email_key', '=', (data.email as string).toLowerCase()).execute();
    expect(rows).toHaveLength(1);
  });

  it('refuses a bad e-mail, a short password, an empty name and an unknown country', async () => {
    const res = await h.gql(SIGN_UP, { input: input({ email: 'not-an-email', password: 'short', displayName: ' ', country: 'XX' }) });
    expect(res.data.signUp.userErrors.map((e: { code: string }) => e.code)).toEqual([
      'INVALID_EMAIL',
      'WEAK_PASSWORD',
      'INVALID_LENGTH',
      'INVALID_COUNTRY',
    ]);
    expect(res.data.signUp.token).toBeNull();
  });

  it('never logs the password', async () => {
    const data = input({ password: `secret-${unique('pw')}` });
    await h.gql(SIGN_UP, { input: data });
    await h.gql(LOG_IN, { input: { email: data.email, password: data.password } });
    expect(h.logs.join('\n')).not.toContain(data.password);
  });
});

describe('logIn', () => {
  it('signs in with the right password, and answers the same for a wrong one and an unknown e-mail', async () => {
    const data = input();
    await h.gql(SIGN_UP, { input: data });
    const ok = await h.gql(LOG_IN, { input: { email: data.email, password: data.password } });
    expect(ok.data.logIn.token).toEqual(expect.any(String));
    const wrong = await h.gql(LOG_IN, { input: { email: data.email, password: 'not the password' } });
    const unknown = await h.gql(LOG_IN, { input: { email: `${unique('nobody')}@example.com`, password: 'whatever it is' } });
    expect(wrong.data.logIn).toEqual({ token: null, user: null, userErrors: [{ field: null, code: 'INVALID_CREDENTIALS', message: expect.any(String) }] });
    expect(unknown.data.logIn).toEqual(wrong.data.logIn);
  });

  it('rate limits repeated failures for one e-mail, even with the right password afterwards', async () => {
    const data = input();
    await h.gql(SIGN_UP, { input: data });
    for (let i = 0; i < h.config.rateLimits.loginFailuresPerEmail; i++) {
      const res = await h.gql(LOG_IN, { input: { email: data.email, password: `wrong-${i}` } });
      expect(res.data.logIn.userErrors[0].code).toBe('INVALID_CREDENTIALS');
    }
    const limited = await h.gql(LOG_IN, { input: { email: data.email, password: data.password } });
    expect(limited.data.logIn).toMatchObject({ token: null, userErrors: [{ code: 'RATE_LIMITED' }] });
    // A limited attempt is not even checked, so it is not recorded as another failure.
    const attempts = await h.db.selectFrom('login_attempts').select('succeeded').where('email_key', '=', (data.email as string).toLowerCase()).execute();
    expect(attempts).toHaveLength(h.config.rateLimits.loginFailuresPerEmail);
  });
});

describe('tokens', () => {
  it('are refused when expired, forged or signed with another secret (HTTP 401)', async () => {
    const user = await h.newUser();
    const other = new TextEncoder().encode('another secret that is long enough!!');
    const forged = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(dbId(user.id)).setIssuer('hashback').setExpirationTime('1h').sign(other);
    const expired = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(dbId(user.id))
      .setIssuer('hashback')
      .setIssuedAt(Math.floor(Date.now() / 1000) - 7200)
      .setExpirationTime(Math.floor(Date.now() / 1000) - 3600)
      .sign(h.security.tokenKey);
    for (const token of [forged, expired, 'not.a.jwt']) {
      const res = await h.gql(VIEWER, {}, token);
      expect(res.status).toBe(401);
      expect(res.data).toBeUndefined();
    }
  });

  it('carry the user over graphql-ws connection_init', async () => {
    const user = await h.newUser();
    const url = (await h.app.listen(0, '127.0.0.1')).replace('http', 'ws');
    const client = createClient({ url, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${user.token}` }, retryAttempts: 0 });
    try {
      const result = await new Promise<{ data?: { viewer: { id: string } } }>((resolve, reject) => {
        let last = {};
        client.subscribe({ query: '{ viewer { id } }' }, { next: (r) => void (last = r), error: reject, complete: () => resolve(last) });
      });
      expect(result.data?.viewer.id).toBe(user.id);
    } finally {
      await client.dispose();
    }
  });
});

describe('privacy', () => {
  it("answers another user's account as null, and viewer as null for keys and anonymous callers", async () => {
    const a = await h.newUser();
    const b = await h.newUser();
    expect((await h.gql(`{ node(id: "${a.id}") { id } }`, {}, b.token)).data.node).toBeNull();
    expect((await h.gql(`{ node(id: "${a.id}") { id } }`, {}, h.adminKey)).data.node).toBeNull();
    expect((await h.gql(VIEWER, {}, null)).data.viewer).toBeNull();
    expect((await h.gql(VIEWER, {}, h.adminKey)).data.viewer).toBeNull();
    const merchant = await h.newMerchant();
    expect((await h.gql(`{ node(id: "${a.id}") { ... on User { email } } }`, {}, merchant.key)).data.node).toBeNull();
  });
});
