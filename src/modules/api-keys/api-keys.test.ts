import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dbId, startHarness, unique, type Harness, codes, type UserErrorShape } from '../../../test/harness.js';

const CREATE = `mutation($input: CreateApiKeyInput!) {
  createApiKey(input: $input) {
    apiKey { id name role prefix scopes merchant { id } createdAt revokedAt }
    secret
    userErrors { field message code }
  }
}`;
const REVOKE = `mutation($input: RevokeApiKeyInput!) {
  revokeApiKey(input: $input) { apiKey { id revokedAt } userErrors { field message code } }
}`;
const VIEWER = `{ merchantViewer { id } }`;
const NODE = `query($id: ID!) { node(id: $id) { id ... on ApiKey { name role revokedAt } } }`;

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

type Err = UserErrorShape;

function keyRow(globalId: string) {
  return h.db.selectFrom('api_keys').selectAll().where('id', '=', dbId(globalId)).executeTakeFirstOrThrow();
}

async function countNamed(name: string): Promise<number> {
  const { count } = await h.db
    .selectFrom('api_keys')
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .where('name', '=', name)
    .executeTakeFirstOrThrow();
  return Number(count);
}

async function createKey(input: Record<string, unknown>) {
  return h.mutate<{ apiKey: { id: string; prefix: string; role: string; scopes: string[] }; secret: string }>(
    'createApiKey',
    CREATE,
    input,
    h.adminKey,
  );
}

/** Every column of a row as text, arrays and dates included. */
function columnTexts(row: Record<string, unknown>): string[] {
  return Object.values(row).map((v) =>
    v instanceof Date ? v.toISOString() : Array.isArray(v) ? v.join(',') : v === null ? '' : String(v),
  );
}

describe('createApiKey', () => {
  it('answers the secret once and stores only its hash', async () => {
    const merchant = await h.newMerchant();
    const name = unique('pos integration');
    const res = await h.gql(CREATE, { input: { name, role: 'MERCHANT', merchantId: merchant.id } }, h.adminKey);
    expect(res.errors).toBeUndefined();
    const { apiKey, secret, userErrors } = res.data.createApiKey;
    expect(userErrors).toEqual([]);
    expect(typeof secret).toBe('string');
    expect(secret.length).toBeGreaterThanOrEqual(40);
    expect(apiKey).toMatchObject({ name, role: 'MERCHANT', scopes: [], merchant: { id: merchant.id }, revokedAt: null });
    expect(secret.startsWith(apiKey.prefix)).toBe(true);
    expect(apiKey.prefix.length).toBeGreaterThan(0);
    expect(apiKey.prefix.length).toBeLessThan(secret.length / 2);

    const row = await keyRow(apiKey.id);
    expect(row).toMatchObject({ name, role: 'MERCHANT', merchant_id: dbId(merchant.id), scopes: [], prefix: apiKey.prefix, revoked_at: null });
    for (const text of columnTexts(row)) expect(text).not.toContain(secret);
    // The hash does not contain the secret's random part either (not even most of it).
    expect(row.secret_hash).not.toContain(secret.slice(apiKey.prefix.length, apiKey.prefix.length + 16));
    expect(row.secret_hash).toMatch(/^[0-9a-f]{64}$/);

    // Nothing can read the secret back: the key itself, read again, has no secret field.
    const again = await h.gql(NODE, { id: apiKey.id }, h.adminKey);
    expect(JSON.stringify(again.data)).not.toContain(secret);
    expect(again.data.node).toMatchObject({ id: apiKey.id, name, role: 'MERCHANT' });
  });

  it('gives a different secret every time', async () => {
    const a = await createKey({ name: unique('a'), role: 'ADMIN' });
    const b = await createKey({ name: unique('b'), role: 'ADMIN' });
    expect(a.secret).not.toBe(b.secret);
    expect((await keyRow(a.apiKey.id)).secret_hash).not.toBe((await keyRow(b.apiKey.id)).secret_hash);
  });

  it('the new key works as a bearer token for its role', async () => {
    const merchant = await h.newMerchant({ approved: false });
    const { secret } = await createKey({ name: unique('m'), role: 'MERCHANT', merchantId: merchant.id });
    const viewer = await h.gql(VIEWER, {}, secret);
    expect(viewer.status).toBe(200);
    expect(viewer.errors).toBeUndefined();
    expect(viewer.data.merchantViewer).toEqual({ id: merchant.id });

    // A new admin key can do admin things.
    const admin = await createKey({ name: unique('second admin'), role: 'ADMIN' });
    const created = await h.gql(
      `mutation($input: CreateMerchantInput!) { createMerchant(input: $input) { merchant { id } userErrors { code } } }`,
      { input: { name: unique('By new admin'), country: 'US', category: 'Coffee' } },
      admin.secret,
    );
    expect(created.data.createMerchant.userErrors).toEqual([]);
    expect((await h.db.selectFrom('merchants').select('id').where('id', '=', dbId(created.data.createMerchant.merchant.id)).execute()).length).toBe(1);

    // A partner key authenticates but is no merchant.
    const { id: partnerId } = await h.newPartner(['POSTS_WRITE']);
    const partner = await createKey({ name: unique('p'), role: 'PARTNER', partnerId });
    const asPartner = await h.gql(VIEWER, {}, partner.secret);
    expect(asPartner.status).toBe(200);
    expect(asPartner.data).toEqual({ merchantViewer: null });
  });

  it('stores a partner key with its scopes, once each', async () => {
    const name = unique('network');
    const { id: partnerId } = await h.newPartner(['TRANSACTIONS_WRITE', 'CREDITS_WRITE', 'POSTS_WRITE']);
    const res = await h.gql(
      CREATE,
      { input: { name, role: 'PARTNER', partnerId, scopes: ['TRANSACTIONS_WRITE', 'CREDITS_WRITE', 'TRANSACTIONS_WRITE'] } },
      h.adminKey,
    );
    expect(res.data.createApiKey.userErrors).toEqual([]);
    expect([...res.data.createApiKey.apiKey.scopes].sort()).toEqual(['CREDITS_WRITE', 'TRANSACTIONS_WRITE']);
    expect(res.data.createApiKey.apiKey.merchant).toBeNull();
    const row = await keyRow(res.data.createApiKey.apiKey.id);
    expect(row.role).toBe('PARTNER');
    expect(row.merchant_id).toBeNull();
    expect(row.partner_id).toBe(dbId(partnerId));
    expect([...row.scopes!].sort()).toEqual(['credits:write', 'transactions:write']);
  });

  describe('refuses and writes nothing', () => {
    async function expectRefused(input: Record<string, unknown>, expected: { code: string; field: string[] | null }[], key: string | null = h.adminKey) {
      const name = typeof input.name === 'string' ? input.name : unique('refused');
      const res = await h.gql(CREATE, { input: { name, ...input } }, key);
      expect(res.errors).toBeUndefined();
      expect(res.data.createApiKey.apiKey).toBeNull();
      expect(res.data.createApiKey.secret).toBeNull();
      expect(codes(res.data.createApiKey.userErrors)).toEqual(expected);
      expect(await countNamed(name)).toBe(0);
    }

    it('a MERCHANT key without a merchant', () =>
      expectRefused({ role: 'MERCHANT' }, [{ code: 'INVALID_INPUT', field: ['merchantId'] }]));

    it('a merchant on a key that is not a MERCHANT key', async () => {
      const merchant = await h.newMerchant();
      await expectRefused({ role: 'ADMIN', merchantId: merchant.id }, [{ code: 'INVALID_INPUT', field: ['merchantId'] }]);
      const { id: partnerId } = await h.newPartner(['POSTS_WRITE']);
      await expectRefused({ role: 'PARTNER', partnerId, merchantId: merchant.id, scopes: ['POSTS_WRITE'] }, [
        { code: 'INVALID_INPUT', field: ['merchantId'] },
      ]);
    });

    it('scopes on a key that is not a PARTNER key', async () => {
      const merchant = await h.newMerchant();
      await expectRefused({ role: 'ADMIN', scopes: ['POSTS_WRITE'] }, [{ code: 'INVALID_INPUT', field: ['scopes'] }]);
      await expectRefused({ role: 'MERCHANT', merchantId: merchant.id, scopes: ['CREDITS_WRITE'] }, [
        { code: 'INVALID_INPUT', field: ['scopes'] },
      ]);
    });

    it('an unknown or malformed merchant', async () => {
      const missing = Buffer.from('Merchant:00000000-0000-4000-8000-000000000000').toString('base64');
      await expectRefused({ role: 'MERCHANT', merchantId: missing }, [{ code: 'NOT_FOUND', field: ['merchantId'] }]);
      await expectRefused({ role: 'MERCHANT', merchantId: 'nope' }, [{ code: 'INVALID_ID', field: ['merchantId'] }]);
    });

    it('an empty or too long name', async () => {
      await expectRefused({ name: '  ', role: 'ADMIN' }, [{ code: 'INVALID_LENGTH', field: ['name'] }]);
      await expectRefused({ name: 'k'.repeat(121), role: 'ADMIN' }, [{ code: 'INVALID_LENGTH', field: ['name'] }]);
    });

    it('callers that are not admins', async () => {
      const merchant = await h.newMerchant();
      const partner = { secret: (await h.newPartner(['POSTS_WRITE'])).key };
      await expectRefused({ role: 'ADMIN' }, [{ code: 'UNAUTHENTICATED', field: null }], null);
      await expectRefused({ role: 'ADMIN' }, [{ code: 'FORBIDDEN', field: null }], merchant.key);
      await expectRefused({ role: 'MERCHANT', merchantId: merchant.id }, [{ code: 'FORBIDDEN', field: null }], merchant.key);
      await expectRefused({ role: 'ADMIN' }, [{ code: 'FORBIDDEN', field: null }], partner.secret);
    });
  });
});

describe('authentication', () => {
  async function expect401(key: string) {
    const res = await h.gql(VIEWER, {}, key);
    expect(res.status).toBe(401);
    expect(res.data ?? null).toBeNull();
    expect(res.errors).toHaveLength(1);
    expect(res.errors![0]!.extensions?.code).toBe('UNAUTHENTICATED');
    expect(res.errors![0]!.message).not.toContain(key);
  }

  it('refuses a bearer token that is no key with HTTP 401', async () => {
    await expect401('garbage');
    await expect401(`hbk_${unique('nokey')}`);
    const { secret } = await createKey({ name: unique('real'), role: 'ADMIN' });
    // A real key with one character changed.
    const last = secret.at(-1) === 'A' ? 'B' : 'A';
    await expect401(secret.slice(0, -1) + last);
    await expect401(secret.slice(0, -1));
    // …while the real one works.
    expect((await h.gql(VIEWER, {}, secret)).status).toBe(200);
  });

  it('refuses an Authorization header of another scheme with HTTP 401', async () => {
    const { secret } = await createKey({ name: unique('basic'), role: 'ADMIN' });
    const response = await h.app.yoga.fetch('http://hashback.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', authorization: `Basic ${secret}` },
      body: JSON.stringify({ query: VIEWER }),
    });
    expect(response.status).toBe(401);
    const body = (await response.json()) as { errors: { extensions: { code: string } }[] };
    expect(body.errors[0]!.extensions.code).toBe('UNAUTHENTICATED');
  });
});

describe('revokeApiKey', () => {
  it('makes the key answer 401 at once; revoking twice is harmless', async () => {
    const merchant = await h.newMerchant();
    const { apiKey, secret } = await createKey({ name: unique('to revoke'), role: 'MERCHANT', merchantId: merchant.id });
    expect((await h.gql(VIEWER, {}, secret)).data.merchantViewer).toEqual({ id: merchant.id });

    const first = await h.gql(REVOKE, { input: { apiKeyId: apiKey.id } }, h.adminKey);
    expect(first.errors).toBeUndefined();
    expect(first.data.revokeApiKey.userErrors).toEqual([]);
    expect(first.data.revokeApiKey.apiKey.id).toBe(apiKey.id);
    const revokedAt = first.data.revokeApiKey.apiKey.revokedAt;
    expect(revokedAt).toEqual(expect.any(String));
    const row = await keyRow(apiKey.id);
    expect(row.revoked_at?.toISOString()).toBe(revokedAt);

    const res = await h.gql(VIEWER, {}, secret);
    expect(res.status).toBe(401);
    expect(res.data ?? null).toBeNull();
    expect(res.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');

    const second = await h.gql(REVOKE, { input: { apiKeyId: apiKey.id } }, h.adminKey);
    expect(second.data.revokeApiKey).toEqual({ apiKey: { id: apiKey.id, revokedAt }, userErrors: [] });
    expect(await keyRow(apiKey.id)).toEqual(row);
    expect((await h.gql(VIEWER, {}, secret)).status).toBe(401);

    // The merchant's other key is untouched.
    expect((await h.gql(VIEWER, {}, merchant.key)).data.merchantViewer).toEqual({ id: merchant.id });
  });

  it('answers a malformed and an unknown key id', async () => {
    const malformed = await h.gql(REVOKE, { input: { apiKeyId: 'xyz' } }, h.adminKey);
    expect(codes(malformed.data.revokeApiKey.userErrors)).toEqual([{ code: 'INVALID_ID', field: ['apiKeyId'] }]);
    const merchant = await h.newMerchant();
    const wrongType = await h.gql(REVOKE, { input: { apiKeyId: merchant.id } }, h.adminKey);
    expect(codes(wrongType.data.revokeApiKey.userErrors)).toEqual([{ code: 'INVALID_ID', field: ['apiKeyId'] }]);
    const missing = Buffer.from('ApiKey:00000000-0000-4000-8000-000000000000').toString('base64');
    const unknown = await h.gql(REVOKE, { input: { apiKeyId: missing } }, h.adminKey);
    expect(unknown.data.revokeApiKey.apiKey).toBeNull();
    expect(codes(unknown.data.revokeApiKey.userErrors)).toEqual([{ code: 'NOT_FOUND', field: ['apiKeyId'] }]);
  });

  it('is for admins only; a merchant cannot revoke even its own key', async () => {
    const merchant = await h.newMerchant();
    const { apiKey, secret } = await createKey({ name: unique('own'), role: 'MERCHANT', merchantId: merchant.id });
    const own = await h.gql(REVOKE, { input: { apiKeyId: apiKey.id } }, secret);
    expect(codes(own.data.revokeApiKey.userErrors)).toEqual([{ code: 'FORBIDDEN', field: null }]);
    const anonymous = await h.gql(REVOKE, { input: { apiKeyId: apiKey.id } }, null);
    expect(codes(anonymous.data.revokeApiKey.userErrors)).toEqual([{ code: 'UNAUTHENTICATED', field: null }]);
    expect((await keyRow(apiKey.id)).revoked_at).toBeNull();
    expect((await h.gql(VIEWER, {}, secret)).status).toBe(200);
  });
});

describe('who sees a key', () => {
  it('admins see every key; any other key sees only itself', async () => {
    const merchant = await h.newMerchant();
    const { apiKey, secret } = await createKey({ name: unique('visible'), role: 'MERCHANT', merchantId: merchant.id });
    expect((await h.gql(NODE, { id: apiKey.id }, h.adminKey)).data.node).toMatchObject({ id: apiKey.id, role: 'MERCHANT' });
    expect((await h.gql(NODE, { id: apiKey.id }, secret)).data.node).toMatchObject({ id: apiKey.id });
    expect((await h.gql(NODE, { id: apiKey.id }, null)).data.node).toBeNull();
    expect((await h.gql(NODE, { id: apiKey.id }, merchant.key)).data.node).toBeNull();
  });
});

describe('logs', () => {
  it('never carry a secret', async () => {
    const before = h.logs.length;
    const merchant = await h.newMerchant();
    const created = await h.gql(CREATE, { input: { name: unique('logged'), role: 'MERCHANT', merchantId: merchant.id } }, h.adminKey);
    const { apiKey, secret } = created.data.createApiKey;
    await h.gql(VIEWER, {}, secret); // used
    await h.gql(`{ nope }`, {}, secret); // a failing operation with the key
    await h.gql(REVOKE, { input: { apiKeyId: apiKey.id } }, h.adminKey);
    expect((await h.gql(VIEWER, {}, secret)).status).toBe(401); // refused
    const bogus = `hbk_${unique('bogus')}`;
    await h.gql(VIEWER, {}, bogus);

    const lines = h.logs.slice(before);
    expect(lines.length).toBeGreaterThan(5); // the operations above were logged
    for (const s of [secret, merchant.key, h.adminKey, bogus]) {
      for (const line of lines) expect(line).not.toContain(s);
    }
    // Not even the random part of the secret.
    const randomPart = secret.slice(apiKey.prefix.length);
    for (const line of h.logs) expect(line).not.toContain(randomPart);
  });
});
