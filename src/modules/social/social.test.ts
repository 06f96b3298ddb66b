/**
 * Buying by hashtag through `ingestPosts`, as a social partner delivers posts: proving handles,
 * buy and confirm hashtags, activation hashtags, replays and edits, refusals and their replies,
 * redaction of card numbers in post text. Runs on PGlite and on Postgres; the races are in
 * social.concurrency.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { dbId, startHarness, type Harness } from '../../../test/harness.js';
import { containsCardNumber } from '../cards/card-number.js';
import { encodeGlobalId } from '../../lib/ids.js';
import { dispatchWebhooks } from '../webhooks/webhook-delivery.js';
import { vi } from 'vitest';
import { socialFixtures, token } from './social-fixtures.js';

let h: Harness;
let s: ReturnType<typeof socialFixtures>;
let partner: { id: string; key: string };

beforeAll(async () => {
  // Endpoints on loopback are only registered here, never called (the test dispatches, it does not send).
  h = await startHarness({ WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true' });
  s = socialFixtures(h.gql, h);
  partner = await h.newPartner(['POSTS_WRITE']);
});
afterAll(() => h?.close());

const postRow = (postId: string) => h.db.selectFrom('social_posts').selectAll().where('post_id', '=', postId).executeTakeFirstOrThrow();
const intentsOf = (userId: string) => h.db.selectFrom('purchase_intents').selectAll().where('user_id', '=', dbId(userId)).orderBy('created_at').execute();
const ordersOf = (userId: string) => h.db.selectFrom('orders').selectAll().where('user_id', '=', dbId(userId)).execute();
const repliesTo = (postId: string) => h.db.selectFrom('social_replies').select(['kind', 'text']).where('in_reply_to_post_id', '=', postId).orderBy('position').execute();
const stockOf = (offerId: string) =>
  h.db.selectFrom('offers').select(['quantity_remaining', 'quantity_held']).where('id', '=', dbId(offerId)).executeTakeFirstOrThrow();

describe('handles', () => {
  it('verifies a handle when the partner delivers a post from it holding the code, and only then', async () => {
    const user = await h.newUser();
    const handle = token('u');
    const res = await h.gql(
      'mutation($input: StartHandleVerificationInput!) { startHandleVerification(input: $input) { verification { code handle platform } userErrors { code } } }',
      { input: { platform: 'X', handle: `@${handle.toUpperCase()}` } },
      user.token,
    );
    const { code, handle: normalised } = res.data.startHandleVerification.verification;
    expect(normalised).toBe(handle);
    expect(code).toMatch(/^HB-[2-9A-HJKMNP-Z]{6}$/);

    // The code from another handle proves nothing; the right handle (any case, with "@") does.
    const other = await s.deliver(partner.key, [s.post(token('u'), `my code ${code}`)]);
    expect(other[0]).toMatchObject({ outcome: 'IGNORED', reason: null });
    const [proof] = await s.deliver(partner.key, [s.post(handle.toUpperCase(), `hello ${code.toLowerCase()}`)]);
    expect(proof).toMatchObject({ outcome: 'VERIFIED_HANDLE', reason: null });
    expect(await repliesTo(proof!.postId)).toEqual([{ kind: 'HANDLE_VERIFIED', text: expect.stringContaining(`@${handle}`) }]);

    const viewer = await h.gql('{ viewer { socialAccounts { handle platform status } } }', {}, user.token);
    expect(viewer.data.viewer.socialAccounts).toEqual([{ handle, platform: 'X', status: 'VERIFIED' }]);
    // A code proves once.
    const [again] = await s.deliver(partner.key, [s.post(handle, `again ${code}`)]);
    expect(again!.outcome).toBe('IGNORED');
  });

  it('moves a handle proven by another user and cancels the first owner\'s open intents, releasing their units', async () => {
    const offer = await s.purchaseOffer({ quantity: 5 });
    const first = await s.verifiedBuyer(partner.key);
    const [buy] = await s.deliver(partner.key, [s.post(first.handle, `${offer.buy} please`)]);
    expect(buy!.outcome).toBe('INTENT_CREATED');
    expect(await stockOf(offer.offerId)).toEqual({ quantity_remaining: 4, quantity_held: 1 });

    const second = await h.newUser();
    await h.linkCard(second.token);
    const res = await h.gql(
      'mutation($input: StartHandleVerificationInput!) { startHandleVerification(input: $input) { verification { code } } }',
      { input: { platform: 'X', handle: first.handle } },
      second.token,
    );
    const [proof] = await s.deliver(partner.key, [s.post(first.handle, res.data.startHandleVerification.verification.code)]);
    expect(proof!.outcome).toBe('VERIFIED_HANDLE');

    const [intent] = await intentsOf(first.id);
    expect(intent).toMatchObject({ status: 'CANCELLED' });
    expect(await stockOf(offer.offerId)).toEqual({ quantity_remaining: 5, quantity_held: 0 });
    const firstView = await h.gql('{ viewer { socialAccounts { handle } } }', {}, first.token);
    expect(firstView.data.viewer.socialAccounts).toEqual([]);
    const secondView = await h.gql('{ viewer { socialAccounts { handle } } }', {}, second.token);
    expect(secondView.data.viewer.socialAccounts).toEqual([{ handle: first.handle }]);
  });

  it('refuses a handle that is not one and changes nothing', async () => {
    const user = await h.newUser();
    const res = await h.gql(
      'mutation($input: StartHandleVerificationInput!) { startHandleVerification(input: $input) { verification { code } userErrors { field code } } }',
      { input: { platform: 'X', handle: 'not a handle!' } },
      user.token,
    );
    expect(res.data.startHandleVerification).toEqual({ verification: null, userErrors: [{ field: ['handle'], code: 'INVALID_HANDLE' }] });
    expect(await h.db.selectFrom('handle_verifications').select('id').where('user_id', '=', dbId(user.id)).execute()).toEqual([]);
  });
});

describe('buying', () => {
  it('buys by post for a CONFIRM_BY_POST user: intent, prompt, confirmation, one charge, the order', async () => {
    const offer = await s.purchaseOffer({ quantity: 3 });
    const buyer = await s.verifiedBuyer(partner.key, { setting: 'CONFIRM_BY_POST' });
    const [buy] = await s.deliver(partner.key, [s.post(buyer.handle, `I want one ${offer.buy.toLowerCase()}!`)]);
    expect(buy).toMatchObject({ outcome: 'INTENT_CREATED', reason: null, offer: { id: offer.offerId } });
    const [prompt] = await repliesTo(buy!.postId);
    expect(prompt).toMatchObject({ kind: 'CONFIRM_PROMPT' });
    expect(prompt!.text).toContain(offer.confirm);

    const [confirm] = await s.deliver(partner.key, [s.post(buyer.handle, `${offer.confirm}`, { inReplyToPostId: buy!.postId })]);
    expect(confirm).toMatchObject({ outcome: 'ORDER_PLACED', reason: null });
    const [intent] = await intentsOf(buyer.id);
    expect(intent).toMatchObject({ status: 'CHARGED', confirmed_via: 'POST', confirm_post_id: confirm!.postId });
    expect(await ordersOf(buyer.id)).toEqual([expect.objectContaining({ status: 'PAID', amount: 1500, currency: 'USD' })]);
    expect(await h.db.selectFrom('sandbox_charges').select('id').where('idempotency_key', '=', intent!.id).execute()).toHaveLength(1);
    expect(await stockOf(offer.offerId)).toEqual({ quantity_remaining: 2, quantity_held: 0 });
    expect((await postRow(confirm!.postId)).outcome).toBe('ORDER_PLACED');
  });

  it('never charges a CONFIRM_IN_APP user by post (the default): the confirmation changes nothing and says why', async () => {
    const offer = await s.purchaseOffer();
    const buyer = await s.verifiedBuyer(partner.key);
    const [buy] = await s.deliver(partner.key, [s.post(buyer.handle, offer.buy)]);
    expect(buy!.outcome).toBe('INTENT_CREATED');
    expect((await repliesTo(buy!.postId)).map((r) => r.kind)).toEqual(['CONFIRM_IN_APP']);
    const [confirm] = await s.deliver(partner.key, [s.post(buyer.handle, offer.confirm)]);
    expect(confirm).toMatchObject({ outcome: 'REJECTED', reason: 'CONFIRM_IN_APP_ONLY' });
    expect(await intentsOf(buyer.id)).toEqual([expect.objectContaining({ status: 'AWAITING_CONFIRMATION', confirmed_via: null })]);
    expect(await ordersOf(buyer.id)).toEqual([]);
  });

  it('says why nothing happened: unverified handle, no offer, a longer tag, no open intent, another handle\'s purchase', async () => {
    const offer = await s.purchaseOffer();
    const stranger = token('u');
    const [unverified] = await s.deliver(partner.key, [s.post(stranger, offer.buy)]);
    expect(unverified).toMatchObject({ outcome: 'REJECTED', reason: 'HANDLE_NOT_VERIFIED' });
    expect((await repliesTo(unverified!.postId)).map((r) => r.kind)).toEqual(['VERIFY_HANDLE']);

    const buyer = await s.verifiedBuyer(partner.key, { setting: 'CONFIRM_BY_POST' });
    const results = await s.deliver(partner.key, [
      s.post(buyer.handle, 'just a post, no tags'),
      s.post(buyer.handle, '#coffee #monday'),
      s.post(buyer.handle, `${offer.buy}0 is not it`),
      s.post(buyer.handle, offer.confirm),
    ]);
    expect(results.map((r) => [r.outcome, r.reason])).toEqual([
      ['IGNORED', null],
      ['IGNORED', 'NO_MATCHING_OFFER'],
      ['IGNORED', 'NO_MATCHING_OFFER'],
      ['REJECTED', 'NO_OPEN_INTENT'],
    ]);

    // Another verified user answering this buyer's buy post with the confirm tag.
    const [buy] = await s.deliver(partner.key, [s.post(buyer.handle, offer.buy)]);
    const other = await s.verifiedBuyer(partner.key, { setting: 'CONFIRM_BY_POST' });
    const [hijack] = await s.deliver(partner.key, [s.post(other.handle, offer.confirm, { inReplyToPostId: buy!.postId })]);
    expect(hijack).toMatchObject({ outcome: 'REJECTED', reason: 'NOT_INTENT_OWNER' });
    expect(await intentsOf(buyer.id)).toEqual([expect.objectContaining({ status: 'AWAITING_CONFIRMATION' })]);
    expect(await intentsOf(other.id)).toEqual([]);
    expect(await ordersOf(buyer.id)).toEqual([]);
  });

  it('refuses a confirmation after the window (INTENT_EXPIRED) and from an unverified handle, charging nothing', async () => {
    const offer = await s.purchaseOffer();
    const buyer = await s.verifiedBuyer(partner.key, { setting: 'CONFIRM_BY_POST' });
    const [buy] = await s.deliver(partner.key, [s.post(buyer.handle, offer.buy)]);
    // The window ended a second ago (the expiry job has not run yet).
    await h.db.updateTable('purchase_intents').set({ expires_at: new Date(Date.now() - 1000) }).where('buy_post_id', '=', buy!.postId).execute();
    const [late, stranger] = await s.deliver(partner.key, [s.post(buyer.handle, offer.confirm), s.post(token('u'), offer.confirm)]);
    expect([late!.outcome, late!.reason]).toEqual(['REJECTED', 'INTENT_EXPIRED']);
    expect([stranger!.outcome, stranger!.reason]).toEqual(['REJECTED', 'HANDLE_NOT_VERIFIED']);
    expect(await intentsOf(buyer.id)).toEqual([expect.objectContaining({ status: 'AWAITING_CONFIRMATION', confirm_post_id: null })]);
    expect(await ordersOf(buyer.id)).toEqual([]);
  });

  it('acts once per post: the same post again, or edited, is a DUPLICATE with the first outcome', async () => {
    const offer = await s.purchaseOffer();
    const buyer = await s.verifiedBuyer(partner.key);
    const first = s.post(buyer.handle, offer.buy);
    const [a] = await s.deliver(partner.key, [first]);
    const [b, c] = await s.deliver(partner.key, [first, { ...first, text: `${offer.buy} (edited)` }]);
    expect(a!.outcome).toBe('INTENT_CREATED');
    expect([b!.outcome, c!.outcome]).toEqual(['DUPLICATE', 'DUPLICATE']);
    expect(await intentsOf(buyer.id)).toHaveLength(1);
    expect((await postRow(first.postId)).text).toBe(offer.buy);
    // Twice in one batch, first as noise then edited into a buy: the first delivery decides.
    const noise = s.post(buyer.handle, 'nothing yet');
    const batch = await s.deliver(partner.key, [noise, s.post(buyer.handle, 'hello #coffee'), { ...noise, text: `${offer.buy} now` }]);
    expect(batch.map((r) => [r.outcome, r.reason])).toEqual([
      ['IGNORED', null],
      ['IGNORED', 'NO_MATCHING_OFFER'],
      ['DUPLICATE', null],
    ]);
    expect(await intentsOf(buyer.id)).toHaveLength(1);
    // The same request again with its idempotency key answers the first results.
    const key = randomUUID();
    const again = s.post(buyer.handle, 'no tags');
    const [r1] = await s.deliver(partner.key, [again], key);
    const [r2] = await s.deliver(partner.key, [again], key);
    expect(r2).toEqual(r1);
  });

  it('acts once per post whoever delivers it: the same post from a second partner is a DUPLICATE, charging nothing more', async () => {
    const offer = await s.purchaseOffer({ quantity: 5 });
    const buyer = await s.verifiedBuyer(partner.key, { setting: 'CONFIRM_BY_POST' });
    const other = await h.newPartner(['POSTS_WRITE']);
    const buy = s.post(buyer.handle, offer.buy);
    const [bought] = await s.deliver(partner.key, [buy]);
    const confirm = s.post(buyer.handle, offer.confirm, { inReplyToPostId: bought!.postId });
    const [confirmed] = await s.deliver(partner.key, [confirm]);
    expect([bought!.outcome, confirmed!.outcome]).toEqual(['INTENT_CREATED', 'ORDER_PLACED']);
    // Another platform integration relays the same two posts of X.
    const again = await s.deliver(other.key, [buy, confirm]);
    expect(again.map((r) => r.outcome)).toEqual(['DUPLICATE', 'DUPLICATE']);
    expect(await intentsOf(buyer.id)).toHaveLength(1);
    expect(await ordersOf(buyer.id)).toHaveLength(1);
    expect(await stockOf(offer.offerId)).toEqual({ quantity_remaining: 4, quantity_held: 0 });
    const posts = await h.db.selectFrom('social_posts').select('partner_id').where('post_id', 'in', [buy.postId, confirm.postId]).execute();
    expect(posts.map((p) => p.partner_id)).toEqual([dbId(partner.id), dbId(partner.id)]);
  });

  it('redacts a card number in a post before storing it, and never refuses the post', async () => {
    const buyer = await s.verifiedBuyer(partner.key);
    const [result] = await s.deliver(partner.key, [s.post(buyer.handle, `oops my card is ${buyer.card.number} lol`)]);
    expect(result!.outcome).toBe('IGNORED');
    const row = await postRow(result!.postId);
    expect(row.text).toBe('oops my card is [redacted] lol');
    expect(containsCardNumber(JSON.stringify(row))).toBe(false);
  });

  it('refuses malformed items alone, storing nothing for them', async () => {
    const ok = s.post(token('u'), 'fine');
    const bad = s.post('not a handle!', 'x', { postId: '' });
    const results = await s.deliver(partner.key, [bad, ok]);
    expect(results[0]).toMatchObject({ outcome: 'REJECTED', reason: null });
    expect(results[0]!.errors.map((e) => e.field)).toEqual(expect.arrayContaining([['posts', '0', 'postId'], ['posts', '0', 'authorHandle']]));
    expect(results[1]!.outcome).toBe('IGNORED');
    // Refused without echoing the input at length.
    const [long] = await s.deliver(partner.key, [s.post(token('u'), 'x', { postId: 'p'.repeat(100_000) })]);
    expect(long).toMatchObject({ outcome: 'REJECTED', errors: [expect.objectContaining({ code: 'INVALID_LENGTH' })] });
    expect(long!.postId.length).toBeLessThanOrEqual(128);
  });

  it('activates a cashback offer on its activation hashtag ("Get Offer" by post)', async () => {
    const merchant = await h.newMerchant();
    const tag = `#Save${token('T')}`;
    const offerId = await h.newOffer(merchant.key, { activationHashtag: tag });
    const buyer = await s.verifiedBuyer(partner.key);
    const [result] = await s.deliver(partner.key, [s.post(buyer.handle, `${tag} yes`)]);
    expect(result).toMatchObject({ outcome: 'OFFER_ACTIVATED', offer: { id: offerId } });
    const activations = await h.db.selectFrom('activations').select('offer_id').where('user_id', '=', dbId(buyer.id)).execute();
    expect(activations).toEqual([{ offer_id: dbId(offerId) }]);
  });

  it('says SOLD_OUT when no unit is left, with a reply, and holds no unit', async () => {
    const offer = await s.purchaseOffer({ quantity: 1 });
    const a = await s.verifiedBuyer(partner.key);
    const b = await s.verifiedBuyer(partner.key);
    const [first] = await s.deliver(partner.key, [s.post(a.handle, offer.buy)]);
    const [second] = await s.deliver(partner.key, [s.post(b.handle, offer.buy)]);
    expect([first!.outcome, second!.outcome, second!.reason]).toEqual(['INTENT_CREATED', 'REJECTED', 'SOLD_OUT']);
    expect((await repliesTo(second!.postId)).map((r) => r.kind)).toEqual(['SOLD_OUT']);
    expect(await stockOf(offer.offerId)).toEqual({ quantity_remaining: 0, quantity_held: 1 });
  });
});

describe('replies', () => {
  const REPLIES = `query($after: String) { socialReplies(platform: X, first: 100, after: $after) { edges { cursor node { id kind text inReplyToPostId acknowledgedAt platformPostId } } pageInfo { endCursor } } }`;
  const ACK = `mutation($input: AcknowledgeSocialRepliesInput!) { acknowledgeSocialReplies(input: $input) { replies { id platformPostId acknowledgedAt } userErrors { field code } } }`;

  it('lists the partner\'s replies in order, resumes after a cursor, and records each posted reply once', async () => {
    const own = await h.newPartner(['POSTS_WRITE']);
    const other = await h.newPartner(['POSTS_WRITE']);
    const [r1] = await s.deliver(own.key, [s.post(token('u'), (await s.purchaseOffer()).buy)]);
    const page = await h.gql(REPLIES, {}, own.key);
    const edges = page.data.socialReplies.edges;
    expect(edges.map((e: any) => [e.node.kind, e.node.inReplyToPostId])).toEqual([['VERIFY_HANDLE', r1!.postId]]);
    expect((await h.gql(REPLIES, { after: page.data.socialReplies.pageInfo.endCursor }, own.key)).data.socialReplies.edges).toEqual([]);
    expect((await h.gql(REPLIES, {}, other.key)).data.socialReplies.edges).toEqual([]);

    const id = edges[0].node.id;
    const ack = await h.gql(ACK, { input: { replies: [{ id, platformPostId: 'x-1' }] } }, own.key);
    expect(ack.data.acknowledgeSocialReplies.replies).toEqual([{ id, platformPostId: 'x-1', acknowledgedAt: expect.any(String) }]);
    const again = await h.gql(ACK, { input: { replies: [{ id, platformPostId: 'x-2' }] } }, own.key);
    expect(again.data.acknowledgeSocialReplies.replies[0].platformPostId).toBe('x-1');
    const stranger = await h.gql(ACK, { input: { replies: [{ id, platformPostId: 'x-3' }] } }, other.key);
    expect(stranger.data.acknowledgeSocialReplies.userErrors).toEqual([{ field: ['replies', '0', 'id'], code: 'NOT_FOUND' }]);
  });

  it('lets a confirmation answer the prompt reply by its posted id', async () => {
    const offer = await s.purchaseOffer();
    const buyer = await s.verifiedBuyer(partner.key, { setting: 'CONFIRM_BY_POST' });
    const [buy] = await s.deliver(partner.key, [s.post(buyer.handle, offer.buy)]);
    const prompt = await h.db.selectFrom('social_replies').select('id').where('in_reply_to_post_id', '=', buy!.postId).executeTakeFirstOrThrow();
    const promptPostId = `x-${randomUUID()}`;
    await h.gql(ACK, { input: { replies: [{ id: encodeGlobalId('SocialReply', prompt.id), platformPostId: promptPostId }] } }, partner.key);
    const other = await s.verifiedBuyer(partner.key, { setting: 'CONFIRM_BY_POST' });
    const [hijack] = await s.deliver(partner.key, [s.post(other.handle, offer.confirm, { inReplyToPostId: promptPostId })]);
    expect(hijack).toMatchObject({ outcome: 'REJECTED', reason: 'NOT_INTENT_OWNER' });
    const [confirm] = await s.deliver(partner.key, [s.post(buyer.handle, offer.confirm, { inReplyToPostId: promptPostId })]);
    expect(confirm!.outcome).toBe('ORDER_PLACED');
  });

  it('pushes social_reply.created to the webhook endpoints of the partner that delivered the post, and to no other', async () => {
    const own = await h.newPartner(['POSTS_WRITE']);
    const other = await h.newPartner(['POSTS_WRITE']);
    const CREATE = 'mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { endpoint { id } userErrors { code } } }';
    const endpointOf = async (key: string) =>
      dbId((await h.gql(CREATE, { input: { url: 'http://127.0.0.1:9/hooks', eventTypes: ['social_reply.created'] } }, key)).data.createWebhookEndpoint.endpoint.id);
    const [ownEndpoint, otherEndpoint] = [await endpointOf(own.key), await endpointOf(other.key)];
    const [result] = await s.deliver(own.key, [s.post(token('u'), (await s.purchaseOffer()).buy)]);
    const deliveries = (endpointId: string) => h.db.selectFrom('webhook_deliveries').select(['event_type', 'body']).where('endpoint_id', '=', endpointId).execute();
    await vi.waitFor(async () => {
      await dispatchWebhooks({ db: h.db, config: h.config });
      expect(await deliveries(ownEndpoint)).toHaveLength(1);
    });
    const [delivery] = await deliveries(ownEndpoint);
    expect(delivery!.event_type).toBe('social_reply.created');
    expect(JSON.parse(delivery!.body).data).toMatchObject({ platform: 'X', inReplyToPostId: result!.postId, kind: 'VERIFY_HANDLE' });
    expect(await deliveries(otherEndpoint)).toEqual([]);
  });
});
