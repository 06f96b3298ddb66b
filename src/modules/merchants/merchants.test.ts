import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dbId, startHarness, unique, type GraphQLResponse, type Harness, codes, type UserErrorShape } from '../../../test/harness.js';

const CREATE = `mutation($input: CreateMerchantInput!) {
  createMerchant(input: $input) {
    merchant { id name country category socialHandle status createdAt }
    userErrors { field message code }
  }
}`;
const APPROVE = `mutation($input: ApproveMerchantInput!) {
  approveMerchant(input: $input) { merchant { id status } userErrors { field message code } }
}`;
const SUSPEND = `mutation($input: SuspendMerchantInput!) {
  suspendMerchant(input: $input) { merchant { id status } userErrors { field message code } }
}`;
const BY_ID = `query($id: ID!) {
  merchant(id: $id) { id name status }
  node(id: $id) { id ... on Merchant { status } }
  nodes(ids: [$id]) { id }
}`;
const VIEWER = `{
  merchantViewer {
    id
    name
    status
    locations { id name }
    offers(first: 100) { edges { node { id status title } } }
  }
}`;
const LIST = `query($first: Int!, $after: String) {
  merchants(first: $first, after: $after) {
    edges { cursor node { id name status } }
    pageInfo { hasNextPage endCursor }
  }
}`;

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

type Err = UserErrorShape;

async function merchantRow(globalId: string) {
  return h.db.selectFrom('merchants').selectAll().where('id', '=', dbId(globalId)).executeTakeFirstOrThrow();
}

/** Rows of `merchants` whose name starts with `prefix` (each test uses its own prefix). */
async function countNamed(prefix: string): Promise<number> {
  const { count } = await h.db
    .selectFrom('merchants')
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .where('name', 'like', `${prefix}%`)
    .executeTakeFirstOrThrow();
  return Number(count);
}

async function suspend(merchantId: string) {
  await h.mutate('suspendMerchant', SUSPEND, { merchantId }, h.adminKey);
}

/** Every merchant id the caller sees in the `merchants` list, walking all pages. */
async function listedIds(key: string | null): Promise<string[]> {
  const ids: string[] = [];
  let after: string | null = null;
  for (let guard = 0; guard < 1000; guard++) {
    const res: GraphQLResponse<any> = await h.gql(LIST, { first: 100, after }, key);
    expect(res.errors).toBeUndefined();
    const page = res.data.merchants;
    ids.push(...page.edges.map((e: { node: { id: string } }) => e.node.id));
    if (!page.pageInfo.hasNextPage) return ids;
    after = page.pageInfo.endCursor;
  }
  throw new Error('merchants list did not end');
}

describe('createMerchant', () => {
  it('creates a PENDING merchant and stores it', async () => {
    const name = unique('Blue Bottle');
    const res = await h.gql(
      CREATE,
      { input: { name: `  ${name}  `, country: 'US', category: 'Coffee', socialHandle: 'bluebottle_1' } },
      h.adminKey,
    );
    expect(res.errors).toBeUndefined();
    expect(res.data.createMerchant.userErrors).toEqual([]);
    const merchant = res.data.createMerchant.merchant;
    expect(merchant).toMatchObject({ name, country: 'US', category: 'Coffee', socialHandle: '@bluebottle_1', status: 'PENDING' });
    const row = await merchantRow(merchant.id);
    expect(row).toMatchObject({ name, country: 'US', category: 'Coffee', social_handle: '@bluebottle_1', status: 'PENDING' });
    expect(new Date(merchant.createdAt).getTime()).toBe(row.created_at.getTime());
  });

  it('keeps a handle given with "@" and accepts none', async () => {
    const a = await h.mutate('createMerchant', CREATE, { name: unique('A'), country: 'FR', category: 'Bakery', socialHandle: '@boulange' }, h.adminKey);
    expect((await merchantRow(a.merchant.id)).social_handle).toBe('@boulange');
    const b = await h.mutate('createMerchant', CREATE, { name: unique('B'), country: 'DE', category: 'Books' }, h.adminKey);
    expect(b.merchant.socialHandle).toBeNull();
    expect((await merchantRow(b.merchant.id)).social_handle).toBeNull();
  });

  it('is for admins only and creates nothing otherwise', async () => {
    const prefix = unique('Forbidden');
    const input = { name: `${prefix} shop`, country: 'US', category: 'Coffee' };
    const anonymous = await h.gql(CREATE, { input }, null);
    expect(anonymous.status).toBe(200);
    expect(anonymous.data.createMerchant.merchant).toBeNull();
    expect(codes(anonymous.data.createMerchant.userErrors)).toEqual([{ code: 'UNAUTHENTICATED', field: null }]);

    const merchant = await h.newMerchant();
    const asMerchant = await h.gql(CREATE, { input }, merchant.key);
    expect(asMerchant.data.createMerchant.merchant).toBeNull();
    expect(codes(asMerchant.data.createMerchant.userErrors)).toEqual([{ code: 'FORBIDDEN', field: null }]);

    const partner = { secret: (await h.newPartner(['POSTS_WRITE'])).key };
    const asPartner = await h.gql(CREATE, { input }, partner.secret);
    expect(codes(asPartner.data.createMerchant.userErrors)).toEqual([{ code: 'FORBIDDEN', field: null }]);

    expect(await countNamed(prefix)).toBe(0);
  });

  describe('refuses bad input and writes nothing', () => {
    async function expectRefused(input: Record<string, unknown>, expected: { code: string; field: string[] | null }[]) {
      const prefix = unique('Refused');
      const full = { name: `${prefix} shop`, country: 'US', category: 'Coffee', ...input };
      const before = await countNamed(prefix);
      const res = await h.gql(CREATE, { input: full }, h.adminKey);
      expect(res.errors).toBeUndefined();
      expect(res.data.createMerchant.merchant).toBeNull();
      expect(codes(res.data.createMerchant.userErrors)).toEqual(expected);
      for (const e of res.data.createMerchant.userErrors) expect(e.message.length).toBeGreaterThan(5);
      expect(await countNamed(prefix)).toBe(before);
    }

    it('a country that is not ISO 3166-1 alpha-2', async () => {
      await expectRefused({ country: 'ZZ' }, [{ code: 'INVALID_COUNTRY', field: ['country'] }]);
      await expectRefused({ country: 'us' }, [{ code: 'INVALID_COUNTRY', field: ['country'] }]);
      await expectRefused({ country: 'USA' }, [{ code: 'INVALID_COUNTRY', field: ['country'] }]);
    });

    it('an empty or too long name', async () => {
      const before = await h.db.selectFrom('merchants').select((eb) => eb.fn.countAll<number>().as('n')).where('category', '=', 'EmptyNameProbe').executeTakeFirstOrThrow();
      const empty = await h.gql(CREATE, { input: { name: '   ', country: 'US', category: 'EmptyNameProbe' } }, h.adminKey);
      expect(codes(empty.data.createMerchant.userErrors)).toEqual([{ code: 'INVALID_LENGTH', field: ['name'] }]);
      const after = await h.db.selectFrom('merchants').select((eb) => eb.fn.countAll<number>().as('n')).where('category', '=', 'EmptyNameProbe').executeTakeFirstOrThrow();
      expect(Number(after.n)).toBe(Number(before.n));

      const prefix = unique('Long');
      const long = await h.gql(CREATE, { input: { name: prefix + 'x'.repeat(121 - prefix.length), country: 'US', category: 'Coffee' } }, h.adminKey);
      expect(codes(long.data.createMerchant.userErrors)).toEqual([{ code: 'INVALID_LENGTH', field: ['name'] }]);
      expect(await countNamed(prefix)).toBe(0);
      // 120 characters is still fine.
      const max = unique('Max');
      const ok = await h.gql(CREATE, { input: { name: max + 'x'.repeat(120 - max.length), country: 'US', category: 'Coffee' } }, h.adminKey);
      expect(ok.data.createMerchant.userErrors).toEqual([]);
      expect(await countNamed(max)).toBe(1);
    });

    it('an empty category', () => expectRefused({ category: '' }, [{ code: 'INVALID_LENGTH', field: ['category'] }]));

    it('a malformed social handle', async () => {
      await expectRefused({ socialHandle: 'has space' }, [{ code: 'INVALID_INPUT', field: ['socialHandle'] }]);
      await expectRefused({ socialHandle: '@@double' }, [{ code: 'INVALID_INPUT', field: ['socialHandle'] }]);
      await expectRefused({ socialHandle: 'x'.repeat(31) }, [{ code: 'INVALID_INPUT', field: ['socialHandle'] }]);
      await expectRefused({ socialHandle: '@' }, [{ code: 'INVALID_INPUT', field: ['socialHandle'] }]);
    });

    it('several problems at once', () =>
      expectRefused({ country: 'XX', socialHandle: 'bad handle!' }, [
        { code: 'INVALID_COUNTRY', field: ['country'] },
        { code: 'INVALID_INPUT', field: ['socialHandle'] },
      ]));
  });
});

describe('approveMerchant and suspendMerchant', () => {
  it('moves PENDING → APPROVED → SUSPENDED → APPROVED, repeating a move harmlessly', async () => {
    const { id } = await h.newMerchant({ approved: false });
    expect((await merchantRow(id)).status).toBe('PENDING');

    const approved = await h.gql(APPROVE, { input: { merchantId: id } }, h.adminKey);
    expect(approved.data.approveMerchant).toEqual({ merchant: { id, status: 'APPROVED' }, userErrors: [] });
    const afterApprove = await merchantRow(id);
    expect(afterApprove.status).toBe('APPROVED');

    // Approving again: success, and the row is not touched.
    const again = await h.gql(APPROVE, { input: { merchantId: id } }, h.adminKey);
    expect(again.data.approveMerchant).toEqual({ merchant: { id, status: 'APPROVED' }, userErrors: [] });
    expect(await merchantRow(id)).toEqual(afterApprove);

    const suspended = await h.gql(SUSPEND, { input: { merchantId: id } }, h.adminKey);
    expect(suspended.data.suspendMerchant).toEqual({ merchant: { id, status: 'SUSPENDED' }, userErrors: [] });
    const afterSuspend = await merchantRow(id);
    expect(afterSuspend.status).toBe('SUSPENDED');

    const suspendedAgain = await h.gql(SUSPEND, { input: { merchantId: id } }, h.adminKey);
    expect(suspendedAgain.data.suspendMerchant).toEqual({ merchant: { id, status: 'SUSPENDED' }, userErrors: [] });
    expect(await merchantRow(id)).toEqual(afterSuspend);

    const reapproved = await h.gql(APPROVE, { input: { merchantId: id } }, h.adminKey);
    expect(reapproved.data.approveMerchant).toEqual({ merchant: { id, status: 'APPROVED' }, userErrors: [] });
    expect((await merchantRow(id)).status).toBe('APPROVED');
  });

  it('suspends a merchant still pending', async () => {
    const { id } = await h.newMerchant({ approved: false });
    const res = await h.gql(SUSPEND, { input: { merchantId: id } }, h.adminKey);
    expect(res.data.suspendMerchant).toEqual({ merchant: { id, status: 'SUSPENDED' }, userErrors: [] });
    expect((await merchantRow(id)).status).toBe('SUSPENDED');
  });

  it('a re-approved merchant is public again', async () => {
    const { id } = await h.newMerchant();
    await suspend(id);
    expect((await h.gql(BY_ID, { id }, null)).data.merchant).toBeNull();
    await h.mutate('approveMerchant', APPROVE, { merchantId: id }, h.adminKey);
    expect((await h.gql(BY_ID, { id }, null)).data.merchant).toMatchObject({ id, status: 'APPROVED' });
  });

  it('answers a malformed id as INVALID_ID and an unknown one as NOT_FOUND', async () => {
    for (const mutation of [APPROVE, SUSPEND]) {
      const name = mutation === APPROVE ? 'approveMerchant' : 'suspendMerchant';
      for (const merchantId of ['%%%', 'not-an-id', Buffer.from('Merchant:42').toString('base64')]) {
        const res = await h.gql(mutation, { input: { merchantId } }, h.adminKey);
        expect(res.errors).toBeUndefined();
        expect(res.data[name].merchant).toBeNull();
        expect(codes(res.data[name].userErrors)).toEqual([{ code: 'INVALID_ID', field: ['merchantId'] }]);
      }
      // A well-formed id of another type is not a merchant id.
      const location = await h.newLocation((await h.newMerchant()).key);
      const wrongType = await h.gql(mutation, { input: { merchantId: location } }, h.adminKey);
      expect(codes(wrongType.data[name].userErrors)).toEqual([{ code: 'INVALID_ID', field: ['merchantId'] }]);

      const missing = Buffer.from('Merchant:00000000-0000-4000-8000-000000000000').toString('base64');
      const res = await h.gql(mutation, { input: { merchantId: missing } }, h.adminKey);
      expect(res.data[name].merchant).toBeNull();
      expect(codes(res.data[name].userErrors)).toEqual([{ code: 'NOT_FOUND', field: ['merchantId'] }]);
    }
  });

  it('is for admins only and changes nothing otherwise', async () => {
    const pending = await h.newMerchant({ approved: false });
    const approved = await h.newMerchant();
    const anonymous = await h.gql(APPROVE, { input: { merchantId: pending.id } }, null);
    expect(codes(anonymous.data.approveMerchant.userErrors)).toEqual([{ code: 'UNAUTHENTICATED', field: null }]);
    const own = await h.gql(APPROVE, { input: { merchantId: pending.id } }, pending.key);
    expect(codes(own.data.approveMerchant.userErrors)).toEqual([{ code: 'FORBIDDEN', field: null }]);
    expect(own.data.approveMerchant.merchant).toBeNull();
    const other = await h.gql(SUSPEND, { input: { merchantId: approved.id } }, pending.key);
    expect(codes(other.data.suspendMerchant.userErrors)).toEqual([{ code: 'FORBIDDEN', field: null }]);
    expect((await merchantRow(pending.id)).status).toBe('PENDING');
    expect((await merchantRow(approved.id)).status).toBe('APPROVED');
  });
});

describe('who sees a merchant', () => {
  it('pending and suspended merchants are hidden from anonymous callers and other merchants by id and node', async () => {
    const approved = await h.newMerchant();
    const pending = await h.newMerchant({ approved: false });
    const suspended = await h.newMerchant();
    await suspend(suspended.id);
    const other = await h.newMerchant();

    for (const caller of [null, other.key]) {
      const visible = await h.gql(BY_ID, { id: approved.id }, caller);
      expect(visible.errors).toBeUndefined();
      expect(visible.data).toEqual({
        merchant: { id: approved.id, name: expect.any(String), status: 'APPROVED' },
        node: { id: approved.id, status: 'APPROVED' },
        nodes: [{ id: approved.id }],
      });
      for (const hidden of [pending, suspended]) {
        const res = await h.gql(BY_ID, { id: hidden.id }, caller);
        expect(res.errors).toBeUndefined();
        expect(res.data).toEqual({ merchant: null, node: null, nodes: [null] });
      }
    }
  });

  it('admins and the merchant itself see it whatever its status', async () => {
    const pending = await h.newMerchant({ approved: false });
    const suspended = await h.newMerchant();
    await suspend(suspended.id);
    for (const [m, status] of [[pending, 'PENDING'], [suspended, 'SUSPENDED']] as const) {
      for (const key of [h.adminKey, m.key]) {
        const res = await h.gql(BY_ID, { id: m.id }, key);
        expect(res.data).toEqual({
          merchant: { id: m.id, name: expect.any(String), status },
          node: { id: m.id, status },
          nodes: [{ id: m.id }],
        });
      }
      const viewer = await h.gql(VIEWER, {}, m.key);
      expect(viewer.data.merchantViewer).toMatchObject({ id: m.id, status });
    }
  });

  it('the merchants list shows only approved merchants, except to admins and to the merchant itself', async () => {
    const approved = await h.newMerchant();
    const pending = await h.newMerchant({ approved: false });
    const suspended = await h.newMerchant();
    await suspend(suspended.id);
    const other = await h.newMerchant();

    const anonymous = await listedIds(null);
    expect(anonymous).toContain(approved.id);
    expect(anonymous).not.toContain(pending.id);
    expect(anonymous).not.toContain(suspended.id);
    expect(new Set(anonymous).size).toBe(anonymous.length); // pages neither repeat nor overlap

    const byOther = await listedIds(other.key);
    expect(byOther).toContain(approved.id);
    expect(byOther).toContain(other.id);
    expect(byOther).not.toContain(pending.id);
    expect(byOther).not.toContain(suspended.id);

    const byPending = await listedIds(pending.key);
    expect(byPending).toContain(pending.id);
    expect(byPending).not.toContain(suspended.id);

    const byAdmin = await listedIds(h.adminKey);
    expect(byAdmin).toEqual(expect.arrayContaining([approved.id, pending.id, suspended.id, other.id]));
  });

  it('the merchants list pages by name without gaps', async () => {
    const prefix = unique('Paged');
    const names = ['c', 'a', 'b'].map((s) => `${prefix} ${s}`);
    const ids: string[] = [];
    for (const name of names) ids.push((await h.newMerchant({ name })).id);
    const seen: { id: string; name: string; status: string }[] = [];
    let after: string | null = null;
    // Small pages, so that page boundaries fall all over the list.
    for (;;) {
      const res: GraphQLResponse<any> = await h.gql(LIST, { first: 7, after }, null);
      seen.push(...res.data.merchants.edges.map((e: { node: { id: string; name: string; status: string } }) => e.node));
      if (!res.data.merchants.pageInfo.hasNextPage) break;
      after = res.data.merchants.pageInfo.endCursor;
    }
    expect(new Set(seen.map((m) => m.id)).size).toBe(seen.length);
    const mine = seen.filter((m) => m.name.startsWith(prefix));
    expect(mine.map((m) => m.id)).toEqual([ids[1], ids[2], ids[0]]); // by name: a, b, c
    expect(seen.every((m) => m.status === 'APPROVED')).toBe(true);
    const small = await h.gql(LIST, { first: 1 }, null);
    expect(small.data.merchants.edges).toHaveLength(1);
    const tooBig = await h.gql(LIST, { first: 101 }, null);
    expect(tooBig.data).toBeFalsy();
    expect(tooBig.errors?.[0]?.message).toMatch(/first must be from 1 to 100/);
  });
});

describe('merchantViewer', () => {
  it('is null for anonymous, admin and partner callers', async () => {
    const partner = { secret: (await h.newPartner(['TRANSACTIONS_WRITE'])).key };
    for (const key of [null, h.adminKey, partner.secret]) {
      const res = await h.gql(VIEWER, {}, key);
      expect(res.status).toBe(200);
      expect(res.errors).toBeUndefined();
      expect(res.data).toEqual({ merchantViewer: null });
    }
  });

  it("lists the merchant's own drafts and locations, which others do not see", async () => {
    const m = await h.newMerchant();
    const locA = await h.newLocation(m.key, { name: unique('A store') });
    const locB = await h.newLocation(m.key, { name: unique('B store'), channel: 'ONLINE' });
    const draft = await h.newOffer(m.key, { locationIds: [locA] }, { publish: false });
    const live = await h.newOffer(m.key, { locationIds: [locB] });
    const other = await h.newMerchant();
    await h.newOffer(other.key, {}, { publish: false });

    const res = await h.gql(VIEWER, {}, m.key);
    expect(res.errors).toBeUndefined();
    const viewer = res.data.merchantViewer;
    expect(viewer.id).toBe(m.id);
    expect(viewer.status).toBe('APPROVED');
    // Locations oldest first, offers newest first; rows created in the same millisecond go by id.
    const locationRows = await h.db.selectFrom('locations').select('id').where('merchant_id', '=', dbId(m.id)).orderBy('created_at').orderBy('id').execute();
    expect(locationRows.map((r) => r.id).sort()).toEqual([dbId(locA), dbId(locB)].sort());
    expect(viewer.locations.map((l: { id: string }) => dbId(l.id))).toEqual(locationRows.map((r) => r.id));
    const offerRows = await h.db
      .selectFrom('offers')
      .select(['id', 'state'])
      .where('merchant_id', '=', dbId(m.id))
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .execute();
    expect([...offerRows].sort((x, y) => x.id.localeCompare(y.id))).toEqual(
      [
        { id: dbId(live), state: 'PUBLISHED' },
        { id: dbId(draft), state: 'DRAFT' },
      ].sort((x, y) => x.id.localeCompare(y.id)),
    );
    const statusOf = { [dbId(live)]: 'LIVE', [dbId(draft)]: 'DRAFT' };
    expect(viewer.offers.edges.map((e: { node: { id: string; status: string } }) => [dbId(e.node.id), e.node.status])).toEqual(
      offerRows.map((r) => [r.id, statusOf[r.id]]),
    );

    // Anyone else reading the same merchant sees the published offer only.
    const ME = `query($id: ID!) { merchant(id: $id) { offers(first: 100) { edges { node { id } } } } }`;
    for (const key of [null, other.key]) {
      const pub = await h.gql(ME, { id: m.id }, key);
      expect(pub.data.merchant.offers.edges.map((e: { node: { id: string } }) => e.node.id)).toEqual([live]);
    }
  });

  it('a pending merchant sees its own drafts', async () => {
    const m = await h.newMerchant({ approved: false });
    const draft = await h.newOffer(m.key, {}, { publish: false });
    const res = await h.gql(VIEWER, {}, m.key);
    expect(res.data.merchantViewer.status).toBe('PENDING');
    expect(res.data.merchantViewer.offers.edges.map((e: { node: { id: string } }) => e.node.id)).toEqual([draft]);
    expect(res.data.merchantViewer.locations).toHaveLength(1);
  });

  it("shows a merchant's contact e-mail to admins and to the merchant itself only, and refuses one that is not an address", async () => {
    const m = await h.newMerchant({ contactEmail: 'ops@shop.example' });
    const other = await h.newMerchant();
    const CONTACT = `query($id: ID!) { merchant(id: $id) { contactEmail } }`;
    expect((await h.gql(CONTACT, { id: m.id }, h.adminKey)).data.merchant.contactEmail).toBe('ops@shop.example');
    expect((await h.gql(CONTACT, { id: m.id }, m.key)).data.merchant.contactEmail).toBe('ops@shop.example');
    for (const key of [null, other.key]) expect((await h.gql(CONTACT, { id: m.id }, key)).data.merchant.contactEmail).toBeNull();

    const name = unique('NoAddress');
    const bad = await h.gql(CREATE, { input: { name, country: 'US', category: 'Coffee', contactEmail: 'not an address' } }, h.adminKey);
    expect(bad.data.createMerchant.userErrors).toEqual([{ field: ['contactEmail'], message: 'contactEmail must be an e-mail address', code: 'INVALID_EMAIL' }]);
    expect(await h.db.selectFrom('merchants').select('id').where('name', '=', name).execute()).toEqual([]);
  });
});
