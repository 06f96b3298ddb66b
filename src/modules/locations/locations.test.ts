import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { dbId, startHarness, unique, type Harness, codes, type UserErrorShape } from '../../../test/harness.js';

const CREATE = `mutation($input: CreateLocationInput!) {
  createLocation(input: $input) {
    location { id name channel country timezone address merchant { id } mids { network mid } }
    userErrors { field message code }
  }
}`;
const UPDATE = `mutation($input: UpdateLocationInput!) {
  updateLocation(input: $input) {
    location { id name channel country timezone address mids { network mid } }
    userErrors { field message code }
  }
}`;
const LOCATION_NODE = `query($id: ID!) { node(id: $id) { id ... on Location { name mids { network mid } } } }`;
const OFFER_LOCATIONS = `query($id: ID!) { offer(id: $id) { id locations { id mids { network mid } } } }`;

let h: Harness;
let merchant: { id: string; key: string };

beforeAll(async () => {
  h = await startHarness();
  merchant = await h.newMerchant();
});
afterAll(() => h.close());

type Err = UserErrorShape;
const newMid = () => unique('MID').toUpperCase();

function input(overrides: Record<string, unknown> = {}) {
  return {
    name: unique('Store'),
    channel: 'IN_STORE',
    country: 'US',
    timezone: 'America/New_York',
    mids: [{ network: 'VISA', mid: newMid() }],
    ...overrides,
  };
}

function locationRow(globalId: string) {
  return h.db.selectFrom('locations').selectAll().where('id', '=', dbId(globalId)).executeTakeFirstOrThrow();
}

async function midRows(locationGlobalId: string) {
  return h.db
    .selectFrom('location_mids')
    .select(['network', 'mid'])
    .where('location_id', '=', dbId(locationGlobalId))
    .orderBy('network')
    .orderBy('mid')
    .execute();
}

/** Who holds (network, mid): the location's database id, or undefined. */
async function holderOf(network: string, mid: string): Promise<string | undefined> {
  const row = await h.db
    .selectFrom('location_mids')
    .select('location_id')
    .where('network', '=', network as never)
    .where('mid', '=', mid)
    .executeTakeFirst();
  return row?.location_id;
}

async function locationCount(merchantGlobalId: string): Promise<number> {
  const { count } = await h.db
    .selectFrom('locations')
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .where('merchant_id', '=', dbId(merchantGlobalId))
    .executeTakeFirstOrThrow();
  return Number(count);
}

/** createLocation by `m` must fail with exactly these errors, and write no location and no MID. */
async function expectRefused(
  m: { id: string; key: string },
  given: Record<string, unknown>,
  expected: { code: string; field: string[] | null }[],
) {
  const before = await locationCount(m.id);
  const full = input(given);
  const res = await h.gql(CREATE, { input: full }, m.key);
  expect(res.errors).toBeUndefined();
  expect(res.data.createLocation.location).toBeNull();
  expect(codes(res.data.createLocation.userErrors)).toEqual(expected);
  for (const e of res.data.createLocation.userErrors) expect(e.message.length).toBeGreaterThan(5);
  expect(await locationCount(m.id)).toBe(before);
  const { count } = await h.db
    .selectFrom('locations')
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .where('name', '=', String(full.name))
    .executeTakeFirstOrThrow();
  expect(Number(count)).toBe(0);
  return full;
}

describe('createLocation', () => {
  it('stores the location and its MIDs', async () => {
    const m = await h.newMerchant();
    const [visa, master] = [newMid(), newMid()];
    const res = await h.gql(
      CREATE,
      {
        input: input({
          name: '  Main Street  ',
          address: '1 Main Street, Springfield',
          timezone: 'America/Chicago',
          mids: [
            { network: 'VISA', mid: visa },
            { network: 'MASTERCARD', mid: master },
          ],
        }),
      },
      m.key,
    );
    expect(res.errors).toBeUndefined();
    expect(res.data.createLocation.userErrors).toEqual([]);
    const location = res.data.createLocation.location;
    expect(location).toMatchObject({
      name: 'Main Street',
      channel: 'IN_STORE',
      country: 'US',
      timezone: 'America/Chicago',
      address: '1 Main Street, Springfield',
      merchant: { id: m.id },
    });
    expect(location.mids).toEqual(
      expect.arrayContaining([
        { network: 'VISA', mid: visa },
        { network: 'MASTERCARD', mid: master },
      ]),
    );
    expect(location.mids).toHaveLength(2);
    expect(await locationRow(location.id)).toMatchObject({
      merchant_id: dbId(m.id),
      name: 'Main Street',
      channel: 'IN_STORE',
      country: 'US',
      timezone: 'America/Chicago',
      address: '1 Main Street, Springfield',
    });
    expect(await midRows(location.id)).toEqual([
      { network: 'MASTERCARD', mid: master },
      { network: 'VISA', mid: visa },
    ]);
  });

  it('stores an online location without MIDs or address', async () => {
    const res = await h.gql(CREATE, { input: input({ channel: 'ONLINE', mids: [] }) }, merchant.key);
    expect(res.data.createLocation.userErrors).toEqual([]);
    expect(res.data.createLocation.location).toMatchObject({ channel: 'ONLINE', address: null, mids: [] });
    expect(await midRows(res.data.createLocation.location.id)).toEqual([]);
    expect((await locationRow(res.data.createLocation.location.id)).address).toBeNull();
  });

  it('refuses a MID already registered on that network, pointing at it, and writes nothing', async () => {
    const other = await h.newMerchant();
    const taken = newMid();
    const theirs = await h.newLocation(other.key, { mids: [{ network: 'VISA', mid: taken }] });
    const free = newMid();
    await expectRefused(
      merchant,
      {
        mids: [
          { network: 'MASTERCARD', mid: free },
          { network: 'VISA', mid: taken },
        ],
      },
      [{ code: 'MID_TAKEN', field: ['mids', '1', 'mid'] }],
    );
    expect(await holderOf('VISA', taken)).toBe(dbId(theirs));
    expect(await holderOf('MASTERCARD', free)).toBeUndefined();
    // Taken by the merchant itself on another of its locations: the same.
    const own = newMid();
    await h.newLocation(merchant.key, { mids: [{ network: 'AMEX', mid: own }] });
    await expectRefused(merchant, { mids: [{ network: 'AMEX', mid: own }] }, [{ code: 'MID_TAKEN', field: ['mids', '0', 'mid'] }]);
  });

  it('accepts the same MID on another network', async () => {
    const other = await h.newMerchant();
    const mid = newMid();
    const theirs = await h.newLocation(other.key, { mids: [{ network: 'VISA', mid }] });
    const res = await h.gql(CREATE, { input: input({ mids: [{ network: 'DISCOVER', mid }] }) }, merchant.key);
    expect(res.data.createLocation.userErrors).toEqual([]);
    const mine = res.data.createLocation.location.id;
    expect(await holderOf('VISA', mid)).toBe(dbId(theirs));
    expect(await holderOf('DISCOVER', mid)).toBe(dbId(mine));
  });

  it('refuses the same MID twice in one input', async () => {
    const mid = newMid();
    await expectRefused(
      merchant,
      {
        mids: [
          { network: 'VISA', mid },
          { network: 'MASTERCARD', mid },
          { network: 'VISA', mid },
        ],
      },
      [{ code: 'INVALID_INPUT', field: ['mids', '2', 'mid'] }],
    );
    expect(await holderOf('VISA', mid)).toBeUndefined();
    expect(await holderOf('MASTERCARD', mid)).toBeUndefined();
  });

  it('refuses a malformed MID and more than 20 MIDs', async () => {
    await expectRefused(merchant, { mids: [{ network: 'VISA', mid: 'has space' }] }, [{ code: 'INVALID_INPUT', field: ['mids', '0', 'mid'] }]);
    await expectRefused(merchant, { mids: [{ network: 'VISA', mid: 'x'.repeat(33) }] }, [{ code: 'INVALID_INPUT', field: ['mids', '0', 'mid'] }]);
    const many = Array.from({ length: 21 }, () => ({ network: 'VISA', mid: newMid() }));
    await expectRefused(merchant, { mids: many }, [{ code: 'INVALID_LENGTH', field: ['mids'] }]);
    expect(await holderOf('VISA', many[0]!.mid)).toBeUndefined();
  });

  it('refuses a time zone that is not IANA', async () => {
    await expectRefused(merchant, { timezone: 'Mars/Olympus' }, [{ code: 'INVALID_TIMEZONE', field: ['timezone'] }]);
    await expectRefused(merchant, { timezone: '' }, [{ code: 'INVALID_TIMEZONE', field: ['timezone'] }]);
  });

  it('refuses a country that is not ISO 3166-1 alpha-2', async () => {
    await expectRefused(merchant, { country: 'XX' }, [{ code: 'INVALID_COUNTRY', field: ['country'] }]);
    await expectRefused(merchant, { country: 'usa' }, [{ code: 'INVALID_COUNTRY', field: ['country'] }]);
  });

  it('refuses an empty name', () => expectRefused(merchant, { name: ' ' }, [{ code: 'INVALID_LENGTH', field: ['name'] }]));

  it('is for merchant keys only', async () => {
    const partner = { secret: (await h.newPartner(['POSTS_WRITE'])).key };
    for (const [key, code] of [
      [null, 'UNAUTHENTICATED'],
      [h.adminKey, 'FORBIDDEN'],
      [partner.secret, 'FORBIDDEN'],
    ] as const) {
      const given = input();
      const mid = (given.mids as { mid: string }[])[0]!.mid;
      const res = await h.gql(CREATE, { input: given }, key);
      expect(res.data.createLocation.location).toBeNull();
      expect(codes(res.data.createLocation.userErrors)).toEqual([{ code, field: null }]);
      expect(await holderOf('VISA', mid)).toBeUndefined();
      const rows = await h.db.selectFrom('locations').select('id').where('name', '=', given.name).execute();
      expect(rows).toEqual([]);
    }
  });

  // Real concurrency needs real Postgres: there two connections insert at once, the pre-check
  // passes for both and the primary key (network, mid) decides. PGlite has one connection, so
  // the two requests interleave but never truly overlap; the test still runs there because the
  // outcome must be the same (and it exercises the same pre-check / unique-violation paths).
  it('two merchants registering the same VISA MID at once: exactly one wins (meaningful on Postgres)', async () => {
    const kind = inject('database').kind;
    expect(['pglite', 'postgres']).toContain(kind);
    for (let round = 0; round < 8; round++) {
      const [a, b] = await Promise.all([h.newMerchant(), h.newMerchant()]);
      const mid = newMid();
      const results = await Promise.all(
        [a, b].map((m) => h.gql(CREATE, { input: input({ mids: [{ network: 'VISA', mid }] }) }, m.key)),
      );
      for (const r of results) expect(r.errors).toBeUndefined();
      const winners = results.filter((r) => r.data.createLocation.location !== null);
      const losers = results.filter((r) => r.data.createLocation.location === null);
      expect(winners).toHaveLength(1);
      expect(losers).toHaveLength(1);
      expect(winners[0]!.data.createLocation.userErrors).toEqual([]);
      const loserErrors = losers[0]!.data.createLocation.userErrors as Err[];
      expect(loserErrors.map((e) => e.code)).toEqual(['MID_TAKEN']);
      // The pre-check names the exact entry; a lost race at the primary key names the list.
      expect([['mids', '0', 'mid'], ['mids']]).toContainEqual(loserErrors[0]!.field);

      const winnerLocation = winners[0]!.data.createLocation.location.id as string;
      expect(await holderOf('VISA', mid)).toBe(dbId(winnerLocation));
      const loser = results[0] === losers[0] ? a : b;
      const winner = loser === a ? b : a;
      expect(await locationCount(loser.id)).toBe(0);
      expect(await locationCount(winner.id)).toBe(1);
    }
  });
});

describe('updateLocation', () => {
  it('changes only the fields given', async () => {
    const mid = newMid();
    const id = await h.newLocation(merchant.key, { address: '2 Side St', mids: [{ network: 'VISA', mid }] });
    const before = await locationRow(id);
    const res = await h.gql(UPDATE, { input: { locationId: id, name: 'Renamed' } }, merchant.key);
    expect(res.errors).toBeUndefined();
    expect(res.data.updateLocation.userErrors).toEqual([]);
    expect(res.data.updateLocation.location).toMatchObject({
      id,
      name: 'Renamed',
      channel: before.channel,
      country: before.country,
      timezone: before.timezone,
      address: '2 Side St',
      mids: [{ network: 'VISA', mid }],
    });
    const after = await locationRow(id);
    expect(after).toEqual({ ...before, name: 'Renamed', updated_at: after.updated_at });
    expect(after.updated_at.getTime()).toBeGreaterThanOrEqual(before.updated_at.getTime());
    expect(await midRows(id)).toEqual([{ network: 'VISA', mid }]);

    const more = await h.gql(UPDATE, { input: { locationId: id, channel: 'ONLINE', country: 'CA', timezone: 'America/Toronto', address: null } }, merchant.key);
    expect(more.data.updateLocation.userErrors).toEqual([]);
    expect(await locationRow(id)).toMatchObject({ name: 'Renamed', channel: 'ONLINE', country: 'CA', timezone: 'America/Toronto', address: null });
    expect(await midRows(id)).toEqual([{ network: 'VISA', mid }]);
  });

  it('replaces the whole set of MIDs and frees the old ones', async () => {
    const [old1, old2, kept, added] = [newMid(), newMid(), newMid(), newMid()];
    const id = await h.newLocation(merchant.key, {
      mids: [
        { network: 'VISA', mid: old1 },
        { network: 'AMEX', mid: old2 },
        { network: 'MASTERCARD', mid: kept },
      ],
    });
    const name = (await locationRow(id)).name;
    const res = await h.gql(
      UPDATE,
      { input: { locationId: id, mids: [{ network: 'MASTERCARD', mid: kept }, { network: 'DISCOVER', mid: added }] } },
      merchant.key,
    );
    expect(res.data.updateLocation.userErrors).toEqual([]);
    expect(await midRows(id)).toEqual([
      { network: 'DISCOVER', mid: added },
      { network: 'MASTERCARD', mid: kept },
    ]);
    expect((await locationRow(id)).name).toBe(name);
    // The released MID is free for anyone now.
    const other = await h.newMerchant();
    const theirs = await h.newLocation(other.key, { mids: [{ network: 'VISA', mid: old1 }] });
    expect(await holderOf('VISA', old1)).toBe(dbId(theirs));

    const cleared = await h.gql(UPDATE, { input: { locationId: id, mids: [] } }, merchant.key);
    expect(cleared.data.updateLocation.location.mids).toEqual([]);
    expect(await midRows(id)).toEqual([]);
  });

  it('refuses a MID of another location and changes nothing', async () => {
    const other = await h.newMerchant();
    const taken = newMid();
    await h.newLocation(other.key, { mids: [{ network: 'VISA', mid: taken }] });
    const mine = newMid();
    const id = await h.newLocation(merchant.key, { mids: [{ network: 'VISA', mid: mine }] });
    const before = await locationRow(id);
    const res = await h.gql(
      UPDATE,
      { input: { locationId: id, name: 'Should not stick', mids: [{ network: 'VISA', mid: mine }, { network: 'VISA', mid: taken }] } },
      merchant.key,
    );
    expect(res.data.updateLocation.location).toBeNull();
    expect(codes(res.data.updateLocation.userErrors)).toEqual([{ code: 'MID_TAKEN', field: ['mids', '1', 'mid'] }]);
    expect(await locationRow(id)).toEqual(before);
    expect(await midRows(id)).toEqual([{ network: 'VISA', mid: mine }]);
  });

  it('refuses bad values with the same codes as create', async () => {
    const id = await h.newLocation(merchant.key);
    const before = await locationRow(id);
    const res = await h.gql(UPDATE, { input: { locationId: id, timezone: 'Nowhere/Land', country: 'QQ', name: '' } }, merchant.key);
    expect(codes(res.data.updateLocation.userErrors)).toEqual([
      { code: 'INVALID_LENGTH', field: ['name'] },
      { code: 'INVALID_COUNTRY', field: ['country'] },
      { code: 'INVALID_TIMEZONE', field: ['timezone'] },
    ]);
    expect(await locationRow(id)).toEqual(before);
  });

  it("answers another merchant's location as not found and leaves it unchanged", async () => {
    const other = await h.newMerchant();
    const theirMid = newMid();
    const theirs = await h.newLocation(other.key, { mids: [{ network: 'VISA', mid: theirMid }] });
    const before = await locationRow(theirs);
    const newOne = newMid();
    const res = await h.gql(
      UPDATE,
      { input: { locationId: theirs, name: 'Hijacked', address: null, mids: [{ network: 'MASTERCARD', mid: newOne }] } },
      merchant.key,
    );
    expect(res.errors).toBeUndefined();
    expect(res.data.updateLocation.location).toBeNull();
    expect(codes(res.data.updateLocation.userErrors)).toEqual([{ code: 'NOT_FOUND', field: ['locationId'] }]);
    expect(await locationRow(theirs)).toEqual(before);
    expect(await midRows(theirs)).toEqual([{ network: 'VISA', mid: theirMid }]);
    expect(await holderOf('MASTERCARD', newOne)).toBeUndefined();

    const missing = Buffer.from('Location:00000000-0000-4000-8000-000000000000').toString('base64');
    const unknown = await h.gql(UPDATE, { input: { locationId: missing, name: 'x' } }, merchant.key);
    expect(codes(unknown.data.updateLocation.userErrors)).toEqual([{ code: 'NOT_FOUND', field: ['locationId'] }]);
    const malformed = await h.gql(UPDATE, { input: { locationId: 'garbage', name: 'x' } }, merchant.key);
    expect(codes(malformed.data.updateLocation.userErrors)).toEqual([{ code: 'INVALID_ID', field: ['locationId'] }]);
  });

  it('is for merchant keys only', async () => {
    const id = await h.newLocation(merchant.key);
    const before = await locationRow(id);
    const anonymous = await h.gql(UPDATE, { input: { locationId: id, name: 'x' } }, null);
    expect(codes(anonymous.data.updateLocation.userErrors)).toEqual([{ code: 'UNAUTHENTICATED', field: null }]);
    const admin = await h.gql(UPDATE, { input: { locationId: id, name: 'x' } }, h.adminKey);
    expect(codes(admin.data.updateLocation.userErrors)).toEqual([{ code: 'FORBIDDEN', field: null }]);
    expect(await locationRow(id)).toEqual(before);
  });
});

describe('who sees MIDs', () => {
  it("the location's merchant and admins; null for anyone else", async () => {
    const m = await h.newMerchant();
    const mid = newMid();
    const location = await h.newLocation(m.key, { mids: [{ network: 'AMEX', mid }] });
    const offer = await h.newOffer(m.key, { locationIds: [location] });
    const other = await h.newMerchant();

    for (const key of [m.key, h.adminKey]) {
      const viaOffer = await h.gql(OFFER_LOCATIONS, { id: offer }, key);
      expect(viaOffer.errors).toBeUndefined();
      expect(viaOffer.data.offer.locations).toEqual([{ id: location, mids: [{ network: 'AMEX', mid }] }]);
      const viaNode = await h.gql(LOCATION_NODE, { id: location }, key);
      expect(viaNode.data.node).toMatchObject({ id: location, mids: [{ network: 'AMEX', mid }] });
    }
    for (const key of [null, other.key]) {
      const viaOffer = await h.gql(OFFER_LOCATIONS, { id: offer }, key);
      expect(viaOffer.errors).toBeUndefined();
      expect(viaOffer.data.offer.locations).toEqual([{ id: location, mids: null }]);
      const viaNode = await h.gql(LOCATION_NODE, { id: location }, key);
      expect(viaNode.errors).toBeUndefined();
      expect(viaNode.data.node).toMatchObject({ id: location, mids: null });
      expect(JSON.stringify(viaOffer.data) + JSON.stringify(viaNode.data)).not.toContain(mid);
    }
  });

  it("a pending merchant's locations are hidden from others", async () => {
    const pending = await h.newMerchant({ approved: false });
    const location = await h.newLocation(pending.key);
    const other = await h.newMerchant();
    expect((await h.gql(LOCATION_NODE, { id: location }, null)).data.node).toBeNull();
    expect((await h.gql(LOCATION_NODE, { id: location }, other.key)).data.node).toBeNull();
    expect((await h.gql(LOCATION_NODE, { id: location }, pending.key)).data.node).toMatchObject({ id: location });
    expect((await h.gql(LOCATION_NODE, { id: location }, h.adminKey)).data.node).toMatchObject({ id: location });
  });
});
