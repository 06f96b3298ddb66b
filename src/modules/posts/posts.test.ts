import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dbId, startHarness, unique, type Harness, codes, type UserErrorShape } from '../../../test/harness.js';

const ATTACH = `mutation($input: AttachOfferToPostInput!) {
  attachOfferToPost(input: $input) {
    post { id externalId url authorHandle text offer { id } }
    offer { id }
    userErrors { field message code }
  }
}`;
const FOR_POSTS = `query($postIds: [ID!]!) {
  offersForPosts(postIds: $postIds) { postId post { id externalId } offer { id title } }
}`;
const OFFER_POSTS = `query($id: ID!) { offer(id: $id) { id posts { id externalId url offer { id } } } }`;

let h: Harness;
let merchant: { id: string; key: string };

beforeAll(async () => {
  h = await startHarness();
  merchant = await h.newMerchant();
});
afterAll(() => h.close());

type Err = UserErrorShape;

function post(overrides: Record<string, unknown> = {}) {
  const externalId = unique('post');
  return {
    externalId,
    url: `https://social.example/p/${externalId}`,
    authorHandle: '@bluebottle',
    text: 'Get 10% back this week #coffee',
    ...overrides,
  };
}

function postRows(externalId: string) {
  return h.db.selectFrom('posts').selectAll().where('external_id', '=', externalId).execute();
}

async function attach(offerId: string, p: Record<string, unknown>, key = merchant.key) {
  return h.mutate('attachOfferToPost', ATTACH, { offerId, post: p }, key);
}

describe('attachOfferToPost', () => {
  it('creates the post and links the offer', async () => {
    const offer = await h.newOffer(merchant.key);
    const p = post();
    const res = await h.gql(ATTACH, { input: { offerId: offer, post: p } }, merchant.key);
    expect(res.errors).toBeUndefined();
    expect(res.data.attachOfferToPost.userErrors).toEqual([]);
    expect(res.data.attachOfferToPost.offer).toEqual({ id: offer });
    expect(res.data.attachOfferToPost.post).toMatchObject({ ...p, offer: { id: offer } });
    const rows = await postRows(p.externalId);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      id: dbId(res.data.attachOfferToPost.post.id),
      external_id: p.externalId,
      url: p.url,
      author_handle: p.authorHandle,
      text: p.text,
      offer_id: dbId(offer),
    });
  });

  it('works for a draft and defaults the text to empty', async () => {
    const draft = await h.newOffer(merchant.key, {}, { publish: false });
    const { text: _text, ...p } = post();
    const res = await attach(draft, p);
    expect(res.post.text).toBe('');
    expect((await postRows(p.externalId))[0]).toMatchObject({ text: '', offer_id: dbId(draft) });
  });

  it('repeating the same attachment is harmless: one row, same link', async () => {
    const offer = await h.newOffer(merchant.key);
    const p = post();
    const first = await attach(offer, p);
    const [before] = await postRows(p.externalId);
    const second = await h.gql(ATTACH, { input: { offerId: offer, post: p } }, merchant.key);
    expect(second.data.attachOfferToPost.userErrors).toEqual([]);
    expect(second.data.attachOfferToPost.post.id).toBe(first.post.id);
    expect(second.data.attachOfferToPost.post.offer).toEqual({ id: offer });
    expect(await postRows(p.externalId)).toEqual([before]);
  });

  it('refuses another offer on a post that carries one, and changes nothing', async () => {
    const first = await h.newOffer(merchant.key);
    const second = await h.newOffer(merchant.key);
    const p = post();
    await attach(first, p);
    const [before] = await postRows(p.externalId);
    const res = await h.gql(
      ATTACH,
      { input: { offerId: second, post: { ...p, url: 'https://social.example/other', text: 'changed' } } },
      merchant.key,
    );
    expect(res.errors).toBeUndefined();
    expect(res.data.attachOfferToPost.post).toBeNull();
    expect(codes(res.data.attachOfferToPost.userErrors)).toEqual([{ code: 'POST_HAS_OTHER_OFFER', field: ['post', 'externalId'] }]);
    expect(await postRows(p.externalId)).toEqual([before]);
    expect(before!.offer_id).toBe(dbId(first));
    // Another merchant cannot take the post over either.
    const other = await h.newMerchant();
    const theirs = await h.newOffer(other.key);
    const takeover = await h.gql(ATTACH, { input: { offerId: theirs, post: p } }, other.key);
    expect(codes(takeover.data.attachOfferToPost.userErrors)).toEqual([{ code: 'POST_HAS_OTHER_OFFER', field: ['post', 'externalId'] }]);
    expect(await postRows(p.externalId)).toEqual([before]);
    // The second offer has no post.
    const posts = await h.gql(OFFER_POSTS, { id: second }, merchant.key);
    expect(posts.data.offer.posts).toEqual([]);
  });

  it('refuses a url that is not http(s) and writes nothing', async () => {
    const offer = await h.newOffer(merchant.key);
    for (const url of ['not a url', 'javascript:alert(1)', 'ftp://social.example/p/1', '']) {
      const p = post({ url });
      const res = await h.gql(ATTACH, { input: { offerId: offer, post: p } }, merchant.key);
      expect(res.errors).toBeUndefined();
      expect(res.data.attachOfferToPost.post).toBeNull();
      expect(codes(res.data.attachOfferToPost.userErrors)).toEqual([{ code: 'INVALID_INPUT', field: ['post', 'url'] }]);
      expect(await postRows(p.externalId)).toEqual([]);
    }
  });

  it('refuses an empty external id and author', async () => {
    const offer = await h.newOffer(merchant.key);
    const p = post({ authorHandle: ' ' });
    const res = await h.gql(ATTACH, { input: { offerId: offer, post: p } }, merchant.key);
    expect(codes(res.data.attachOfferToPost.userErrors)).toEqual([{ code: 'INVALID_LENGTH', field: ['post', 'authorHandle'] }]);
    expect(await postRows(p.externalId)).toEqual([]);
    const empty = await h.gql(ATTACH, { input: { offerId: offer, post: post({ externalId: '' }) } }, merchant.key);
    expect(codes(empty.data.attachOfferToPost.userErrors)).toEqual([{ code: 'INVALID_LENGTH', field: ['post', 'externalId'] }]);
  });

  it("answers another merchant's offer as not found and creates no post", async () => {
    const other = await h.newMerchant();
    const theirs = await h.newOffer(other.key);
    const p = post();
    const res = await h.gql(ATTACH, { input: { offerId: theirs, post: p } }, merchant.key);
    expect(res.data.attachOfferToPost.post).toBeNull();
    expect(codes(res.data.attachOfferToPost.userErrors)).toEqual([{ code: 'NOT_FOUND', field: ['offerId'] }]);
    expect(await postRows(p.externalId)).toEqual([]);

    const malformed = await h.gql(ATTACH, { input: { offerId: 'bad', post: p } }, merchant.key);
    expect(codes(malformed.data.attachOfferToPost.userErrors)).toEqual([{ code: 'INVALID_ID', field: ['offerId'] }]);
    const missing = Buffer.from('Offer:00000000-0000-4000-8000-000000000000').toString('base64');
    const unknown = await h.gql(ATTACH, { input: { offerId: missing, post: p } }, merchant.key);
    expect(codes(unknown.data.attachOfferToPost.userErrors)).toEqual([{ code: 'NOT_FOUND', field: ['offerId'] }]);
    expect(await postRows(p.externalId)).toEqual([]);
  });

  it('is for merchant keys only', async () => {
    const offer = await h.newOffer(merchant.key);
    const p = post();
    const anonymous = await h.gql(ATTACH, { input: { offerId: offer, post: p } }, null);
    expect(codes(anonymous.data.attachOfferToPost.userErrors)).toEqual([{ code: 'UNAUTHENTICATED', field: null }]);
    const admin = await h.gql(ATTACH, { input: { offerId: offer, post: p } }, h.adminKey);
    expect(codes(admin.data.attachOfferToPost.userErrors)).toEqual([{ code: 'FORBIDDEN', field: null }]);
    expect(await postRows(p.externalId)).toEqual([]);
  });
});

describe('offersForPosts', () => {
  it('answers in the order asked, with null for unknown posts and offers that are not public', async () => {
    const live1 = await h.newOffer(merchant.key);
    const live2 = await h.newOffer(merchant.key);
    const draft = await h.newOffer(merchant.key, {}, { publish: false });
    const suspendedMerchant = await h.newMerchant();
    const hidden = await h.newOffer(suspendedMerchant.key);
    const [p1, p2, pDraft, pHidden] = [post(), post(), post(), post()];
    await attach(live1, p1);
    await attach(live2, p2);
    await attach(draft, pDraft);
    await attach(hidden, pHidden, suspendedMerchant.key);
    await h.mutate(
      'suspendMerchant',
      'mutation($input: SuspendMerchantInput!) { suspendMerchant(input: $input) { merchant { id } userErrors { field message code } } }',
      { merchantId: suspendedMerchant.id },
      h.adminKey,
    );
    const unknown = unique('never-seen');
    const asked = [p2.externalId, unknown, p1.externalId, pDraft.externalId, pHidden.externalId, p2.externalId];

    const res = await h.gql(FOR_POSTS, { postIds: asked }, null);
    expect(res.errors).toBeUndefined();
    const answer = res.data.offersForPosts as { postId: string; post: { externalId: string } | null; offer: { id: string } | null }[];
    expect(answer.map((a) => a.postId)).toEqual(asked);
    expect(answer.map((a) => a.post?.externalId ?? null)).toEqual([
      p2.externalId,
      null,
      p1.externalId,
      pDraft.externalId,
      pHidden.externalId,
      p2.externalId,
    ]);
    expect(answer.map((a) => a.offer?.id ?? null)).toEqual([live2, null, live1, null, null, live2]);

    // Another merchant does not see the draft either.
    const other = await h.newMerchant();
    const byOther = await h.gql(FOR_POSTS, { postIds: [pDraft.externalId] }, other.key);
    expect(byOther.data.offersForPosts[0].offer).toBeNull();
  });

  it('answers an empty list for no ids', async () => {
    const res = await h.gql(FOR_POSTS, { postIds: [] }, null);
    expect(res.errors).toBeUndefined();
    expect(res.data.offersForPosts).toEqual([]);
  });

  it('takes at most 100 ids', async () => {
    const offer = await h.newOffer(merchant.key);
    const p = post();
    await attach(offer, p);
    const hundred = [p.externalId, ...Array.from({ length: 99 }, () => unique('x'))];
    const ok = await h.gql(FOR_POSTS, { postIds: hundred }, null);
    expect(ok.errors).toBeUndefined();
    expect(ok.data.offersForPosts).toHaveLength(100);
    expect(ok.data.offersForPosts[0].offer).toMatchObject({ id: offer });

    const res = await h.gql(FOR_POSTS, { postIds: [...hundred, unique('x')] }, null);
    expect(res.data ?? null).toBeNull();
    expect(res.errors).toBeDefined();
    expect(res.errors![0]!.message).toMatch(/at most 100/);
  });
});

describe('Offer.posts', () => {
  it('lists the posts carrying the offer', async () => {
    const offer = await h.newOffer(merchant.key);
    const [a, b] = [post(), post()];
    const first = await attach(offer, a);
    const second = await attach(offer, b);
    // Oldest first; two posts created in the same millisecond are ordered by id.
    const rows = await h.db.selectFrom('posts').select(['id', 'external_id']).where('offer_id', '=', dbId(offer)).orderBy('created_at').orderBy('id').execute();
    expect(rows.map((r) => r.external_id).sort()).toEqual([a.externalId, b.externalId].sort());
    const byExternalId = {
      [a.externalId]: { id: first.post.id, externalId: a.externalId, url: a.url, offer: { id: offer } },
      [b.externalId]: { id: second.post.id, externalId: b.externalId, url: b.url, offer: { id: offer } },
    };
    for (const key of [null, merchant.key, h.adminKey]) {
      const res = await h.gql(OFFER_POSTS, { id: offer }, key);
      expect(res.errors).toBeUndefined();
      expect(res.data.offer.posts).toEqual(rows.map((r) => byExternalId[r.external_id]));
    }
    // A post is also reachable as a node.
    const node = await h.gql(`query($id: ID!) { node(id: $id) { id ... on Post { externalId offer { id } } } }`, { id: first.post.id }, null);
    expect(node.data.node).toEqual({ id: first.post.id, externalId: a.externalId, offer: { id: offer } });
  });

  it('a draft offer with a post: its merchant sees the post, the public sees no offer', async () => {
    const draft = await h.newOffer(merchant.key, {}, { publish: false });
    const p = post();
    const attached = await attach(draft, p);
    const own = await h.gql(OFFER_POSTS, { id: draft }, merchant.key);
    expect(own.data.offer.posts).toEqual([{ id: attached.post.id, externalId: p.externalId, url: p.url, offer: { id: draft } }]);
    expect((await h.gql(OFFER_POSTS, { id: draft }, null)).data.offer).toBeNull();
    const node = await h.gql(`query($id: ID!) { node(id: $id) { ... on Post { externalId offer { id } } } }`, { id: attached.post.id }, null);
    expect(node.data.node).toEqual({ externalId: p.externalId, offer: null });
  });
});
