/**
 * Idempotency keys on every mutation with a side effect (DESIGN §3): the schema walk keeps new
 * mutations honest; the cases show, mutation by mutation, that a replay answers the first answer
 * and does nothing again, that another input is IDEMPOTENCY_KEY_REUSED and changes nothing, and
 * (on real Postgres) that 20 concurrent calls with one key have one effect.
 */
import { getNamedType, isInputObjectType } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { schema } from '../src/schema/index.js';
import { codes, databaseKind, dbId, randomCardNumber, startHarness, unique, type Harness } from './harness.js';

/** Mutations without idempotencyKey, and why. */
const EXEMPT: Record<string, string> = {
  logIn: 'creates nothing worth replaying: each call checks the password again and answers a fresh token, and a replay must be rate limited like any attempt',
};

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

describe('the schema', () => {
  it('gives every mutation an optional idempotencyKey: String, unless exempt with a reason', () => {
    const mutations = Object.values(schema.getMutationType()!.getFields());
    const missing = mutations
      .filter((field) => !(field.name in EXEMPT))
      .filter((field) => {
        const input = field.args.find((a) => a.name === 'input');
        const type = input && getNamedType(input.type);
        const key = type && isInputObjectType(type) ? type.getFields().idempotencyKey : undefined;
        return !key || String(key.type) !== 'String' || !key.description;
      })
      .map((field) => field.name);
    expect(missing).toEqual([]);
    for (const name of Object.keys(EXEMPT)) expect(mutations.map((m) => m.name)).toContain(name);
  });
});

const count = async (table: 'users' | 'cards' | 'offers' | 'activations' | 'api_keys' | 'locations', column: string, value: string) => {
  const { n } = await h.db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where(column as never, '=', value as never)
    .executeTakeFirstOrThrow();
  return Number(n);
};

interface Case {
  /** The caller's key or token, the input, another input, and the count of the mutation's effect. */
  caller: string | null;
  input: Record<string, unknown>;
  other: Record<string, unknown>;
  effects: () => Promise<number>;
}

const CASES: Record<string, { selection: string; setup: () => Promise<Case> }> = {
  signUp: {
    selection: 'user { id } token',
    setup: async () => {
      const email = `${unique('idem')}@example.com`;
      const input = { email, password: 'correct horse battery', displayName: 'Idem', country: 'US' };
      return { caller: null, input, other: { ...input, displayName: 'Someone else' }, effects: () => count('users', 'email_key', email) };
    },
  },
  linkCard: {
    selection: 'card { id last4 }',
    setup: async () => {
      const user = await h.newUser();
      const input = { number: randomCardNumber(), expMonth: 12, expYear: new Date().getUTCFullYear() + 3 };
      return { caller: user.token, input, other: { ...input, number: randomCardNumber() }, effects: () => count('cards', 'user_id', dbId(user.id)) };
    },
  },
  createLocation: {
    selection: 'location { id }',
    setup: async () => {
      const merchant = await h.newMerchant();
      const input = { name: unique('Store'), channel: 'IN_STORE', country: 'US', timezone: 'America/New_York', mids: [{ network: 'VISA', mid: unique('MID').toUpperCase() }] };
      return { caller: merchant.key, input, other: { ...input, name: 'Another store' }, effects: () => count('locations', 'merchant_id', dbId(merchant.id)) };
    },
  },
  createOffer: {
    selection: 'offer { id }',
    setup: async () => {
      const merchant = await h.newMerchant();
      const input = h.offerInput({ locationIds: [await h.newLocation(merchant.key)] });
      return { caller: merchant.key, input, other: { ...input, title: 'Another title' }, effects: () => count('offers', 'merchant_id', dbId(merchant.id)) };
    },
  },
  publishOffer: {
    selection: 'offer { id status }',
    setup: async () => {
      const merchant = await h.newMerchant();
      const [first, second] = [await h.newOffer(merchant.key, {}, { publish: false }), await h.newOffer(merchant.key, {}, { publish: false })];
      const published = async () =>
        (await h.db.selectFrom('offers').select('id').where('merchant_id', '=', dbId(merchant.id)).where('state', '=', 'PUBLISHED').execute()).length;
      return { caller: merchant.key, input: { offerId: first }, other: { offerId: second }, effects: published };
    },
  },
  activateOffer: {
    selection: 'offer { id }',
    setup: async () => {
      const merchant = await h.newMerchant();
      const [first, second] = [await h.newOffer(merchant.key), await h.newOffer(merchant.key)];
      const user = await h.newUser();
      await h.linkCard(user.token);
      return { caller: user.token, input: { offerId: first }, other: { offerId: second }, effects: () => count('activations', 'user_id', dbId(user.id)) };
    },
  },
  createApiKey: {
    selection: 'apiKey { id name } secret',
    setup: async () => {
      const merchant = await h.newMerchant();
      const name = unique('idem key');
      const input = { name, role: 'MERCHANT', merchantId: merchant.id };
      return { caller: h.adminKey, input, other: { ...input, role: 'ADMIN', merchantId: null }, effects: () => count('api_keys', 'name', name) };
    },
  },
};

function call(name: string, selection: string, caller: string | null, input: Record<string, unknown>) {
  const inputType = `${name[0]!.toUpperCase()}${name.slice(1)}Input`;
  const document = `mutation($input: ${inputType}!) { ${name}(input: $input) { ${selection} userErrors { field message code } } }`;
  return h.gql(document, { input }, caller).then((res) => {
    expect(res.errors).toBeUndefined();
    return res.data[name] as Record<string, any>;
  });
}

/** The answer without what is new on each call by design (a session token; a secret shown once). */
const stable = (payload: Record<string, any>) => ({ ...payload, token: undefined, secret: undefined });

describe.each(Object.entries(CASES))('%s with an idempotencyKey', (name, { selection, setup }) => {
  it('answers a replay with the same key and input as the first time, and does it once', async () => {
    const c = await setup();
    const idempotencyKey = unique('key');
    const before = await c.effects();
    const first = await call(name, selection, c.caller, { ...c.input, idempotencyKey });
    expect(first.userErrors).toEqual([]);
    const replay = await call(name, selection, c.caller, { ...c.input, idempotencyKey });
    expect(stable(replay)).toEqual(stable(first));
    expect(await c.effects()).toBe(before + 1);
    if (name === 'createApiKey') {
      // The secret is only ever hashed: the replay names the same key but cannot show it again.
      expect(first.secret).toMatch(/^hbk_/);
      expect(replay.secret).toBeNull();
    }
    if (name === 'signUp') expect(replay.token).toEqual(expect.any(String));
  });

  it('refuses the same key with another input as IDEMPOTENCY_KEY_REUSED, and changes nothing', async () => {
    const c = await setup();
    const idempotencyKey = unique('key');
    expect((await call(name, selection, c.caller, { ...c.input, idempotencyKey })).userErrors).toEqual([]);
    const after = await c.effects();
    const other = await call(name, selection, c.caller, { ...c.other, idempotencyKey });
    expect(codes(other.userErrors as never)).toEqual([{ code: 'IDEMPOTENCY_KEY_REUSED', field: ['idempotencyKey'] }]);
    expect(await c.effects()).toBe(after);
  });

  it.runIf(databaseKind() === 'postgres')('does it once for 20 concurrent calls with one key, and answers all alike, on real Postgres', async () => {
    const c = await setup();
    const idempotencyKey = unique('key');
    const before = await c.effects();
    const answers = await Promise.all(Array.from({ length: 20 }, () => call(name, selection, c.caller, { ...c.input, idempotencyKey })));
    for (const answer of answers) {
      expect(answer.userErrors).toEqual([]);
      expect(stable(answer)).toEqual(stable(answers[0]!));
    }
    expect(await c.effects()).toBe(before + 1);
  });
});

describe('signUp replays', () => {
  it('refuses a replay with another password as IDEMPOTENCY_KEY_REUSED, without a token', async () => {
    const { setup, selection } = CASES.signUp!;
    const c = await setup();
    const idempotencyKey = unique('key');
    expect((await call('signUp', selection, null, { ...c.input, idempotencyKey })).token).toEqual(expect.any(String));
    const other = await call('signUp', selection, null, { ...c.input, password: 'another long password', idempotencyKey });
    expect(other.token).toBeNull();
    expect(codes(other.userErrors as never)).toEqual([{ code: 'IDEMPOTENCY_KEY_REUSED', field: ['idempotencyKey'] }]);
  });
});
