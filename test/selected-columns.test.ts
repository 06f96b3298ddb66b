/**
 * The offer feed reads only the columns its page's fields need (src/schema/selection.ts and the
 * column tables beside the Offer and Merchant types). What must never happen: a field answering
 * from a column the page did not read. So every field of Offer, alone and all together, through
 * fragments and aliases, answers through the feed exactly as it does through `nodes`, which
 * always reads whole rows.
 */
import { getNamedType, isLeafType, isObjectType, parse, type GraphQLField, type GraphQLObjectType } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { schema } from '../src/schema/index.js';
import { columnsOf, Selection } from '../src/schema/selection.js';
import { startHarness, unique, type Harness } from './harness.js';

const DAY = 24 * 60 * 60 * 1000;

let h: Harness;
let merchant: { id: string; key: string };

beforeAll(async () => {
  h = await startHarness();
  merchant = await h.newMerchant({ contactEmail: `${unique('shop')}@example.com` });
  // Offers that fill every kind of column: percent with cap, minimum and days; fixed; purchase.
  await h.newOffer(merchant.key, {
    rewardBasisPoints: 1250,
    maxReward: 500,
    minSpend: 1000,
    daysOfWeek: ['SATURDAY', 'SUNDAY'],
    channels: ['IN_STORE'],
    countries: ['US', 'CA'],
    activationRequired: true,
    perUserLimit: 3,
    returnPeriodDays: 30,
    activationHashtag: `#Save${unique('x').slice(2)}`,
  });
  await h.newOffer(merchant.key, { rewardType: 'FIXED', rewardBasisPoints: null, rewardAmount: 300, budget: 9_000 });
  await h.newOffer(merchant.key, {
    kind: 'PURCHASE',
    rewardType: null,
    rewardBasisPoints: null,
    budget: null,
    price: 2500,
    quantity: 40,
    hashtag: `#Buy${unique('g').slice(2)}`,
    confirmWindowMinutes: 10,
    endsAt: new Date(Date.now() + 5 * DAY).toISOString(),
  });
});
afterAll(() => h.close());

/** A selection of `field` that asks for everything below it (objects: their leaf fields). */
function selectionOf(field: GraphQLField<unknown, unknown>): string {
  const type = getNamedType(field.type);
  if (isLeafType(type)) return field.name;
  const leaves = Object.values((type as GraphQLObjectType).getFields())
    .filter((f) => isLeafType(getNamedType(f.type)) && f.args.length === 0)
    .map((f) => f.name);
  return `${field.name} { ${leaves.join(' ')} }`;
}

const offerFields = Object.values((schema.getType('Offer') as GraphQLObjectType).getFields()).filter((f) => f.args.every((a) => a.defaultValue !== undefined || !a.type.toString().endsWith('!')));

/** The same selection through the feed and through `nodes`; the feed's order is kept. */
async function bothWays(selection: string, fragments = '', key: string | null = null) {
  const feed = await h.gql(
    `query($m: ID!) { offers(first: 10, filter: { merchantId: $m }) { edges { node { id ${selection} } } } } ${fragments}`,
    { m: merchant.id },
    key,
  );
  expect(feed.errors).toBeUndefined();
  const viaFeed = feed.data.offers.edges.map((e: { node: unknown }) => e.node);
  const ids = viaFeed.map((n: { id: string }) => n.id);
  const nodes = await h.gql(`query($ids: [ID!]!) { nodes(ids: $ids) { ... on Offer { id ${selection} } } } ${fragments}`, { ids }, key);
  expect(nodes.errors).toBeUndefined();
  return { viaFeed, viaNodes: nodes.data.nodes };
}

describe('the feed reads only the columns it needs', () => {
  it('answers every field of Offer, one at a time, as a whole row does', async () => {
    expect(offerFields.length).toBeGreaterThan(30);
    for (const field of offerFields) {
      const { viaFeed, viaNodes } = await bothWays(selectionOf(field));
      expect(viaFeed).toHaveLength(3);
      expect({ field: field.name, rows: viaFeed }).toEqual({ field: field.name, rows: viaNodes });
    }
  });

  it('answers every field at once, for the anonymous public and for the merchant itself', async () => {
    const all = offerFields.map(selectionOf).join(' ');
    for (const key of [null, merchant.key]) {
      const { viaFeed, viaNodes } = await bothWays(all, '', key);
      expect(viaFeed).toHaveLength(3);
      expect(viaFeed).toEqual(viaNodes);
    }
    // The merchant's own key sees its contact address through the feed too; the public does not.
    const own = await bothWays('merchant { contactEmail }', '', merchant.key);
    expect(own.viaFeed[0].merchant.contactEmail).toMatch(/@example\.com$/);
  });

  it('follows fragments and aliases: fields asked only there are read too', async () => {
    const { viaFeed, viaNodes } = await bothWays(
      '...Reward ... on Offer { shop: merchant { handle: socialHandle } } a: endsAt',
      'fragment Reward on Offer { rewardSummary status priced: price { formatted } merchant { name ...Where } } fragment Where on Merchant { country }',
    );
    expect(viaFeed).toEqual(viaNodes);
    expect(viaFeed[0]).toMatchObject({ rewardSummary: expect.any(String), merchant: { name: expect.any(String), country: 'US' } });
  });

  type CursorPage = { edges: { cursor?: string; node: { id: string } }[]; pageInfo: { endCursor?: string } };
  it("reads each order's sort column when the page asks for cursors, through edges or pageInfo", async () => {
    const ids = (page: { edges: { node: { id: string } }[] }) => page.edges.map((e) => e.node.id);
    for (const order of ['NEWEST', 'ENDING_SOON', 'BEST_REWARD']) {
      const whole = await h.gql(`query($m: ID!, $o: OfferOrder) { offers(first: 10, orderBy: $o, filter: { merchantId: $m }) { edges { node { id } } } }`, { m: merchant.id, o: order });
      const expected = ids(whole.data.offers);
      expect(expected).toHaveLength(3);
      for (const selection of ['edges { cursor node { id } } pageInfo { hasNextPage }', 'edges { node { id } } pageInfo { hasNextPage endCursor }']) {
        const seen: string[] = [];
        let after: string | null = null;
        for (let i = 0; i < 3; i++) {
          const res: { data?: { offers: CursorPage } | null; errors?: unknown } = await h.gql(`query($m: ID!, $o: OfferOrder, $a: String) { offers(first: 1, after: $a, orderBy: $o, filter: { merchantId: $m }) { ${selection} } }`, { m: merchant.id, o: order, a: after });
          expect(res.errors, `${order}: ${selection}`).toBeUndefined();
          const page: CursorPage = res.data!.offers;
          seen.push(...ids(page));
          after = page.pageInfo.endCursor ?? page.edges.at(-1)?.cursor ?? null;
        }
        expect({ order, selection, seen }).toEqual({ order, selection, seen: expected });
      }
    }
  });
});

describe('Selection and columnsOf', () => {
  const info = (query: string) => {
    const document = parse(query);
    const operation = document.definitions.find((d) => d.kind === 'OperationDefinition')!;
    const fragments = Object.fromEntries(document.definitions.flatMap((d) => (d.kind === 'FragmentDefinition' ? [[d.name.value, d]] : [])));
    const field = operation.selectionSet.selections[0]!;
    return { fieldNodes: [field], fragments } as unknown as Parameters<typeof Selection.of>[0];
  };
  const table = { a: ['col_a'], b: ['col_b', 'col_x'], c: ['col_c'] } as const;

  it('collects fields below a path through aliases, inline fragments and named fragments', () => {
    const selection = Selection.of(info('{ list { edges { node { a x: b ... on T { c } ...F } } } } fragment F on T { a d }'), 'edges', 'node');
    expect([...selection.names()].sort()).toEqual(['a', 'b', 'c', 'd']);
  });

  it('reads the columns of the listed fields, and every column when a field is not listed', () => {
    const known = Selection.of(info('{ list { edges { node { a b __typename } } } }'), 'edges', 'node');
    expect(columnsOf(known, table, ['id'])?.sort()).toEqual(['col_a', 'col_b', 'col_x', 'id']);
    const unknown = Selection.of(info('{ list { edges { node { a d } } } }'), 'edges', 'node');
    expect(columnsOf(unknown, table, ['id'])).toBeNull();
    // A name that only exists on the prototype of a plain object is not a listed field.
    const proto = Selection.of(info('{ list { edges { node { constructor } } } }'), 'edges', 'node');
    expect(columnsOf(proto, table, [])).toBeNull();
  });
});
