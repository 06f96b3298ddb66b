import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dbId, startHarness, unique, type Harness } from '../../../test/harness.js';
import { OfferDetailDocument, OffersPageDocument } from '../../../schema/generated/graphql.js';

const DAY = 24 * 60 * 60 * 1000;
const inDays = (n: number) => new Date(Date.now() + n * DAY).toISOString();

const CREATE = `mutation($input: CreateOfferInput!) {
  createOffer(input: $input) { offer { id status } userErrors { field message code } }
}`;
const UPDATE = `mutation($input: UpdateOfferInput!) {
  updateOffer(input: $input) {
    offer { id title endsAt budget { amount } budgetRemaining { amount } rewardBasisPoints }
    userErrors { field message code }
  }
}`;
const PUBLISH = `mutation($input: PublishOfferInput!) { publishOffer(input: $input) { offer { id status } userErrors { field message code } } }`;
const PAUSE = `mutation($input: PauseOfferInput!) { pauseOffer(input: $input) { offer { id status } userErrors { field message code } } }`;
const RESUME = `mutation($input: ResumeOfferInput!) { resumeOffer(input: $input) { offer { id status } userErrors { field message code } } }`;

let h: Harness;
let merchant: { id: string; key: string };
let location: string;

beforeAll(async () => {
  h = await startHarness();
  merchant = await h.newMerchant();
  location = await h.newLocation(merchant.key);
});
afterAll(() => h.close());

async function offerCount(): Promise<number> {
  const { count } = await h.db.selectFrom('offers').select((eb) => eb.fn.countAll<number>().as('count')).executeTakeFirstOrThrow();
  return Number(count);
}

/** createOffer with `input` must fail with exactly these codes on these fields, and create nothing. */
async function expectRefused(input: Record<string, unknown>, expected: { code: string; field: string[] | null }[]) {
  const before = await offerCount();
  const res = await h.gql(CREATE, { input: h.offerInput({ locationIds: [location], ...input }) }, merchant.key);
  expect(res.errors).toBeUndefined();
  expect(res.data.createOffer.offer).toBeNull();
  expect(res.data.createOffer.userErrors.map((e: { code: string; field: string[] | null }) => ({ code: e.code, field: e.field }))).toEqual(expected);
  for (const e of res.data.createOffer.userErrors) expect(e.message.length).toBeGreaterThan(5);
  expect(await offerCount()).toBe(before);
}

describe('createOffer', () => {
  it('stores every rule field and starts as a draft', async () => {
    const res = await h.gql(
      CREATE,
      {
        input: h.offerInput({
          title: '  Coffee cashback  ',
          rewardBasisPoints: 1250,
          maxReward: 500,
          minSpend: 1000,
          daysOfWeek: ['SATURDAY', 'SUNDAY'],
          channels: ['IN_STORE'],
          countries: ['US', 'CA'],
          activationRequired: true,
          perUserLimit: 3,
          budget: 20_000,
          returnPeriodDays: 30,
          locationIds: [location],
        }),
      },
      merchant.key,
    );
    expect(res.data.createOffer.userErrors).toEqual([]);
    expect(res.data.createOffer.offer.status).toBe('DRAFT');
    const row = await h.db.selectFrom('offers').selectAll().where('id', '=', dbId(res.data.createOffer.offer.id)).executeTakeFirstOrThrow();
    expect(row).toMatchObject({
      merchant_id: dbId(merchant.id),
      state: 'DRAFT',
      title: 'Coffee cashback',
      reward_type: 'PERCENT',
      reward_basis_points: 1250,
      max_reward: 500,
      min_spend: 1000,
      days_of_week: [6, 7],
      channels: ['IN_STORE'],
      countries: ['US', 'CA'],
      activation_required: true,
      per_user_limit: 3,
      budget: 20_000,
      budget_remaining: 20_000,
      return_period_days: 30,
      published_at: null,
    });
    const links = await h.db.selectFrom('offer_locations').selectAll().where('offer_id', '=', row.id).execute();
    expect(links.map((l) => l.location_id)).toEqual([dbId(location)]);
  });

  it('defaults channels to both and countries to the merchant country', async () => {
    const res = await h.gql(CREATE, { input: h.offerInput({ locationIds: [location] }) }, merchant.key);
    const row = await h.db.selectFrom('offers').selectAll().where('id', '=', dbId(res.data.createOffer.offer.id)).executeTakeFirstOrThrow();
    expect(row.channels).toEqual(['IN_STORE', 'ONLINE']);
    expect(row.countries).toEqual(['US']);
  });

  it('refuses an unknown currency', () => expectRefused({ currency: 'XYZ' }, [{ code: 'INVALID_CURRENCY', field: ['currency'] }]));
  it('refuses a lower-case currency', () => expectRefused({ currency: 'usd' }, [{ code: 'INVALID_CURRENCY', field: ['currency'] }]));
  it('refuses an unknown country', () =>
    expectRefused({ countries: ['US', 'ZZ'] }, [{ code: 'INVALID_COUNTRY', field: ['countries', '1'] }]));
  it('refuses basis points above 10000', () =>
    expectRefused({ rewardBasisPoints: 10_001 }, [{ code: 'OUT_OF_RANGE', field: ['rewardBasisPoints'] }]));
  it('refuses zero basis points', () => expectRefused({ rewardBasisPoints: 0 }, [{ code: 'OUT_OF_RANGE', field: ['rewardBasisPoints'] }]));
  it('refuses a negative minimum spend', () => expectRefused({ minSpend: -1 }, [{ code: 'OUT_OF_RANGE', field: ['minSpend'] }]));
  it('refuses a budget beyond the money range', () =>
    expectRefused({ budget: 2_000_000_000 }, [{ code: 'OUT_OF_RANGE', field: ['budget'] }]));
  it('refuses an end before the start', () =>
    expectRefused({ startsAt: inDays(2), endsAt: inDays(1) }, [{ code: 'INVALID_DATE_RANGE', field: ['endsAt'] }]));
  it('refuses an end equal to the start', () => {
    const at = inDays(2);
    return expectRefused({ startsAt: at, endsAt: at }, [{ code: 'INVALID_DATE_RANGE', field: ['endsAt'] }]);
  });
  it('refuses an empty title and one over 120 characters', async () => {
    await expectRefused({ title: '   ' }, [{ code: 'INVALID_LENGTH', field: ['title'] }]);
    await expectRefused({ title: 'x'.repeat(121) }, [{ code: 'INVALID_LENGTH', field: ['title'] }]);
  });
  it('refuses a cashback offer without a budget', () => expectRefused({ budget: null }, [{ code: 'INVALID_INPUT', field: ['budget'] }]));
  it('refuses a maximum reward on a fixed reward', () =>
    expectRefused(
      { rewardType: 'FIXED', rewardBasisPoints: null, rewardAmount: 500, maxReward: 100 },
      [{ code: 'INVALID_INPUT', field: ['maxReward'] }],
    ));
  it('refuses purchase fields on a cashback offer', () =>
    expectRefused({ price: 1500 }, [{ code: 'INVALID_INPUT', field: ['price'] }]));
  it('refuses a purchase offer without price, quantity and hashtag', () =>
    expectRefused({ kind: 'PURCHASE', rewardType: null, rewardBasisPoints: null, budget: null }, [
      { code: 'INVALID_INPUT', field: ['price'] },
      { code: 'INVALID_INPUT', field: ['quantity'] },
      { code: 'INVALID_INPUT', field: ['hashtag'] },
    ]));
  it('refuses a malformed location id', () =>
    expectRefused({ locationIds: ['not-an-id'] }, [{ code: 'INVALID_ID', field: ['locationIds', '0'] }]));
  it("answers another merchant's location as not found", async () => {
    const other = await h.newMerchant();
    const theirs = await h.newLocation(other.key);
    await expectRefused({ locationIds: [theirs] }, [{ code: 'NOT_FOUND', field: ['locationIds', '0'] }]);
  });
  it('is for merchant keys only', async () => {
    const anonymous = await h.gql(CREATE, { input: h.offerInput() }, null);
    expect(anonymous.data.createOffer.userErrors[0].code).toBe('UNAUTHENTICATED');
    const admin = await h.gql(CREATE, { input: h.offerInput() }, h.adminKey);
    expect(admin.data.createOffer.userErrors[0].code).toBe('FORBIDDEN');
  });
});

describe('publishing', () => {
  it('refuses an offer without locations', async () => {
    const offerId = await h.newOffer(merchant.key, { locationIds: [] }, { publish: false });
    const res = await h.gql(PUBLISH, { input: { offerId } }, merchant.key);
    expect(res.data.publishOffer.userErrors).toMatchObject([{ code: 'OFFER_HAS_NO_LOCATIONS' }]);
    const row = await h.db.selectFrom('offers').select(['state', 'published_at']).where('id', '=', dbId(offerId)).executeTakeFirstOrThrow();
    expect(row).toEqual({ state: 'DRAFT', published_at: null });
  });

  it('refuses an offer of a merchant not yet approved', async () => {
    const pending = await h.newMerchant({ approved: false });
    const offerId = await h.newOffer(pending.key, {}, { publish: false });
    const res = await h.gql(PUBLISH, { input: { offerId } }, pending.key);
    expect(res.data.publishOffer.userErrors).toMatchObject([{ code: 'MERCHANT_NOT_APPROVED' }]);
    const row = await h.db.selectFrom('offers').select('state').where('id', '=', dbId(offerId)).executeTakeFirstOrThrow();
    expect(row.state).toBe('DRAFT');
  });

  it("answers another merchant's offer as not found and leaves it unpublished", async () => {
    const other = await h.newMerchant();
    const offerId = await h.newOffer(other.key, {}, { publish: false });
    const res = await h.gql(PUBLISH, { input: { offerId } }, merchant.key);
    expect(res.data.publishOffer.userErrors).toMatchObject([{ code: 'NOT_FOUND', field: ['offerId'] }]);
    const row = await h.db.selectFrom('offers').select('state').where('id', '=', dbId(offerId)).executeTakeFirstOrThrow();
    expect(row.state).toBe('DRAFT');
  });

  it('answers a malformed id and an id that does not exist', async () => {
    const malformed = await h.gql(PUBLISH, { input: { offerId: '%%%' } }, merchant.key);
    expect(malformed.data.publishOffer.userErrors).toMatchObject([{ code: 'INVALID_ID', field: ['offerId'] }]);
    const wrongType = await h.gql(PUBLISH, { input: { offerId: merchant.id } }, merchant.key);
    expect(wrongType.data.publishOffer.userErrors).toMatchObject([{ code: 'INVALID_ID' }]);
    const missing = Buffer.from('Offer:00000000-0000-4000-8000-000000000000').toString('base64');
    const res = await h.gql(PUBLISH, { input: { offerId: missing } }, merchant.key);
    expect(res.data.publishOffer.userErrors).toMatchObject([{ code: 'NOT_FOUND' }]);
  });

  it('derives SCHEDULED, LIVE and EXPIRED from the window at read time', async () => {
    const scheduled = await h.newOffer(merchant.key, { startsAt: inDays(1), endsAt: inDays(5) });
    const live = await h.newOffer(merchant.key);
    const read = async (id: string) => (await h.gql(OfferDetailDocument, { id })).data!.offer!.status;
    expect(await read(scheduled)).toBe('SCHEDULED');
    expect(await read(live)).toBe('LIVE');
    // Time passes: the stored row does not change, the status read does.
    await h.db.updateTable('offers').set({ starts_at: new Date(Date.now() - 2 * DAY), ends_at: new Date(Date.now() - DAY) }).where('id', '=', dbId(live)).execute();
    expect(await read(live)).toBe('EXPIRED');
    const row = await h.db.selectFrom('offers').select('state').where('id', '=', dbId(live)).executeTakeFirstOrThrow();
    expect(row.state).toBe('PUBLISHED');
  });

  it('shows EXHAUSTED when nothing of the budget remains', async () => {
    const id = await h.newOffer(merchant.key);
    await h.db.updateTable('offers').set({ budget_remaining: 0 }).where('id', '=', dbId(id)).execute();
    expect((await h.gql(OfferDetailDocument, { id })).data!.offer!.status).toBe('EXHAUSTED');
  });

  it('pauses and resumes; an expired offer cannot be resumed', async () => {
    const id = await h.newOffer(merchant.key);
    expect((await h.gql(PAUSE, { input: { offerId: id } }, merchant.key)).data.pauseOffer.offer.status).toBe('PAUSED');
    expect((await h.gql(PAUSE, { input: { offerId: id } }, merchant.key)).data.pauseOffer.offer.status).toBe('PAUSED');
    expect((await h.gql(RESUME, { input: { offerId: id } }, merchant.key)).data.resumeOffer.offer.status).toBe('LIVE');
    await h.gql(PAUSE, { input: { offerId: id } }, merchant.key);
    await h.db.updateTable('offers').set({ starts_at: new Date(Date.now() - 2 * DAY), ends_at: new Date(Date.now() - DAY) }).where('id', '=', dbId(id)).execute();
    const res = await h.gql(RESUME, { input: { offerId: id } }, merchant.key);
    expect(res.data.resumeOffer.userErrors).toMatchObject([{ code: 'INVALID_STATE' }]);
    const draft = await h.newOffer(merchant.key, {}, { publish: false });
    expect((await h.gql(PAUSE, { input: { offerId: draft } }, merchant.key)).data.pauseOffer.userErrors).toMatchObject([{ code: 'INVALID_STATE' }]);
  });

  it('refuses a second live purchase offer with the same hashtag', async () => {
    const tag = `#Buy${unique('x').replace('-', '')}`;
    const purchase = { kind: 'PURCHASE', rewardType: null, rewardBasisPoints: null, budget: null, price: 1500, quantity: 10, hashtag: tag };
    await h.newOffer(merchant.key, purchase);
    const second = await h.newOffer(merchant.key, { ...purchase, hashtag: tag.toLowerCase() }, { publish: false });
    const res = await h.gql(PUBLISH, { input: { offerId: second } }, merchant.key);
    expect(res.data.publishOffer.userErrors).toMatchObject([{ code: 'HASHTAG_TAKEN' }]);
  });
});

describe('updateOffer', () => {
  it('changes any field of a draft and revalidates the whole offer', async () => {
    const id = await h.newOffer(merchant.key, {}, { publish: false });
    const ok = await h.gql(UPDATE, { input: { offerId: id, rewardBasisPoints: 2000, budget: 5000 } }, merchant.key);
    expect(ok.data.updateOffer.userErrors).toEqual([]);
    expect(ok.data.updateOffer.offer).toMatchObject({ rewardBasisPoints: 2000, budget: { amount: 5000 }, budgetRemaining: { amount: 5000 } });
    const bad = await h.gql(UPDATE, { input: { offerId: id, endsAt: inDays(-3) } }, merchant.key);
    expect(bad.data.updateOffer.userErrors).toMatchObject([{ code: 'INVALID_DATE_RANGE', field: ['endsAt'] }]);
  });

  it('once published, locks the rules and allows title, a later end and a larger budget', async () => {
    const id = await h.newOffer(merchant.key, { budget: 10_000 });
    // A reservation made meanwhile must survive a budget increase.
    await h.db.updateTable('offers').set({ budget_remaining: 9_300 }).where('id', '=', dbId(id)).execute();
    const locked = await h.gql(UPDATE, { input: { offerId: id, rewardBasisPoints: 5000, currency: 'EUR' } }, merchant.key);
    expect(locked.data.updateOffer.userErrors).toMatchObject([
      { code: 'FIELD_LOCKED', field: ['currency'] },
      { code: 'FIELD_LOCKED', field: ['rewardBasisPoints'] },
    ]);
    const shrink = await h.gql(UPDATE, { input: { offerId: id, budget: 5_000 } }, merchant.key);
    expect(shrink.data.updateOffer.userErrors).toMatchObject([{ code: 'OUT_OF_RANGE', field: ['budget'] }]);
    const endsAt = inDays(60);
    const ok = await h.gql(UPDATE, { input: { offerId: id, title: 'Better title', endsAt, budget: 15_000 } }, merchant.key);
    expect(ok.data.updateOffer.userErrors).toEqual([]);
    expect(ok.data.updateOffer.offer).toMatchObject({ title: 'Better title', endsAt, budget: { amount: 15_000 }, budgetRemaining: { amount: 14_300 } });
    const row = await h.db.selectFrom('offers').select(['reward_basis_points', 'currency']).where('id', '=', dbId(id)).executeTakeFirstOrThrow();
    expect(row).toEqual({ reward_basis_points: 1000, currency: 'USD' });
  });
});

describe('reading the catalogue', () => {
  it('shows only published offers of approved merchants to the public', async () => {
    const draft = await h.newOffer(merchant.key, {}, { publish: false });
    const pending = await h.newMerchant({ approved: false });
    const pendingOffer = await h.newOffer(pending.key, {}, { publish: false });
    const suspended = await h.newMerchant();
    const suspendedOffer = await h.newOffer(suspended.key);
    await h.mutate(
      'suspendMerchant',
      'mutation($input: SuspendMerchantInput!) { suspendMerchant(input: $input) { merchant { id } userErrors { field message code } } }',
      { merchantId: suspended.id },
      h.adminKey,
    );
    for (const id of [draft, pendingOffer, suspendedOffer]) {
      expect((await h.gql(OfferDetailDocument, { id })).data!.offer).toBeNull();
    }
    const page = await h.gql(OffersPageDocument, { first: 100, filter: { merchantId: suspended.id } });
    expect(page.data!.offers.edges).toEqual([]);
    // Its own merchant and admins still see the draft.
    expect((await h.gql(OfferDetailDocument, { id: draft }, merchant.key)).data!.offer!.status).toBe('DRAFT');
    expect((await h.gql(OfferDetailDocument, { id: draft }, h.adminKey)).data!.offer!.status).toBe('DRAFT');
    const other = await h.newMerchant();
    expect((await h.gql(OfferDetailDocument, { id: draft }, other.key)).data!.offer).toBeNull();
  });

  it('filters by kind, channel, country, window and search, and pages without gaps', async () => {
    const m = await h.newMerchant();
    const token = unique('zebra');
    const online = await h.newLocation(m.key, { channel: 'ONLINE' });
    const a = await h.newOffer(m.key, { title: `${token} A`, channels: ['ONLINE'], locationIds: [online], countries: ['CA'] });
    const b = await h.newOffer(m.key, { title: `${token} B`, rewardBasisPoints: 3000 });
    const c = await h.newOffer(m.key, { title: `${token} C`, rewardBasisPoints: 1500, startsAt: inDays(3), endsAt: inDays(4) });
    const ids = async (filter: Record<string, unknown>, orderBy = 'NEWEST') =>
      (await h.gql(OffersPageDocument, { first: 50, filter: { merchantId: m.id, ...filter }, orderBy } as never)).data!.offers.edges.map((e) => e.node.id);
    expect(await ids({})).toEqual([c, b, a]);
    expect(await ids({ channel: 'ONLINE' })).toEqual([c, b, a]);
    expect(await ids({ channel: 'IN_STORE' })).toEqual([c, b]);
    expect(await ids({ country: 'CA' })).toEqual([a]);
    expect(await ids({ country: 'US' })).toEqual([c, b]);
    expect(await ids({ liveAt: new Date().toISOString() })).toEqual([b, a]);
    expect(await ids({ liveAt: inDays(3.5) })).toEqual([c, b, a]);
    expect(await ids({ search: token })).toEqual([c, b, a]);
    expect(await ids({ search: `${token} b` })).toEqual([b]);
    expect(await ids({ search: '%' })).toEqual([]);
    expect(await ids({}, 'BEST_REWARD')).toEqual([b, c, a]);
    const ending = await ids({}, 'ENDING_SOON');
    expect(ending[0]).toBe(c); // ends in 4 days; a and b both in 30, ordered by id
    expect(ending.slice(1).sort()).toEqual([a, b].sort());
    expect(await ids({ kind: 'PURCHASE' })).toEqual([]);

    const seen: string[] = [];
    let after: string | null | undefined = null;
    for (;;) {
      const page: Awaited<ReturnType<typeof h.gql<import("../../../schema/generated/graphql.js").OffersPageQuery>>> = await h.gql(OffersPageDocument, { first: 1, after, filter: { merchantId: m.id } });
      seen.push(...page.data!.offers.edges.map((e) => e.node.id));
      if (!page.data!.offers.pageInfo.hasNextPage) break;
      after = page.data!.offers.pageInfo.endCursor;
    }
    expect(seen).toEqual([c, b, a]);
  });

  it('rejects a page size outside 1..100 and a forged cursor', async () => {
    for (const first of [0, 101]) {
      const res = await h.gql(OffersPageDocument, { first });
      expect(res.data).toBeFalsy();
      expect(res.errors?.[0]?.message).toMatch(/first must be from 1 to 100/);
    }
    const forged = await h.gql(OffersPageDocument, { first: 5, after: Buffer.from('["x","y"]').toString('base64url') });
    expect(forged.errors?.[0]?.message).toMatch(/cursor is not valid/);
  });

  it('serves a page of 50 offers with their merchants in at most 3 SQL statements (it takes one)', async () => {
    const token = unique('statements');
    const merchants = await Promise.all(Array.from({ length: 10 }, () => h.newMerchant()));
    for (const [i, m] of merchants.entries()) {
      const loc = await h.newLocation(m.key);
      for (let j = 0; j < 5; j++) await h.newOffer(m.key, { title: `${token} ${i}-${j}`, locationIds: [loc] });
    }
    const before = h.database.statementCount();
    const res = await h.gql(OffersPageDocument, { first: 50, filter: { search: token } });
    const statements = h.database.statementCount() - before;
    expect(res.errors).toBeUndefined();
    expect(res.data!.offers.edges).toHaveLength(50);
    expect(new Set(res.data!.offers.edges.map((e) => e.node.merchant.id)).size).toBe(10);
    expect(statements).toBeLessThanOrEqual(3);
    expect(statements).toBe(1);
    const names = await h.db.selectFrom('merchants').select(['id', 'name']).where('id', 'in', merchants.map((m) => dbId(m.id))).execute();
    const byId = new Map(names.map((n) => [n.id, n.name]));
    for (const edge of res.data!.offers.edges) expect(edge.node.merchant.name).toBe(byId.get(dbId(edge.node.merchant.id)));
  });

  it('answers node and nodes, with null for malformed, unknown and invisible ids', async () => {
    const live = await h.newOffer(merchant.key);
    const draft = await h.newOffer(merchant.key, {}, { publish: false });
    const unknown = Buffer.from('Offer:00000000-0000-4000-8000-000000000000').toString('base64');
    const res = await h.gql(`query($ids: [ID!]!) { nodes(ids: $ids) { id ... on Offer { title } } node(id: "garbage") { id } }`, {
      ids: [live, draft, unknown, 'bm90LWEtdXVpZA==', merchant.id],
    });
    expect(res.errors).toBeUndefined();
    expect(res.data.node).toBeNull();
    expect(res.data.nodes.map((n: { id: string } | null) => n?.id ?? null)).toEqual([live, null, null, null, merchant.id]);
  });
});
