import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dbId, startHarness, type Harness } from '../../../test/harness.js';

const DAY = 24 * 60 * 60 * 1000;
const ACTIVATE = `mutation($input: ActivateOfferInput!) { activateOffer(input: $input) { offer { id viewerHasActivated } userErrors { field message code } } }`;
const DEACTIVATE = `mutation($input: DeactivateOfferInput!) { deactivateOffer(input: $input) { offer { id viewerHasActivated } userErrors { field message code } } }`;
const COUNTS = `query($id: ID!) { offer(id: $id) { activationCount viewerHasActivated } }`;

let h: Harness;
let merchant: { id: string; key: string };

beforeAll(async () => {
  h = await startHarness();
  merchant = await h.newMerchant();
});
afterAll(() => h.close());

async function activations(offerId: string): Promise<number> {
  return (await h.db.selectFrom('activations').select('id').where('offer_id', '=', dbId(offerId)).execute()).length;
}

describe('activateOffer ("Get Offer")', () => {
  it('saves a live offer once, however often it is asked', async () => {
    const offerId = await h.newOffer(merchant.key);
    const user = await h.newUser();
    await h.linkCard(user.token);
    for (let i = 0; i < 3; i++) {
      const res = await h.gql(ACTIVATE, { input: { offerId } }, user.token);
      expect(res.data.activateOffer).toEqual({ offer: { id: offerId, viewerHasActivated: true }, userErrors: [] });
    }
    expect(await activations(offerId)).toBe(1);
    const viewer = await h.gql('{ viewer { activations { offer { id } activatedAt } } }', {}, user.token);
    expect(viewer.data.viewer.activations).toEqual([{ offer: { id: offerId }, activatedAt: expect.any(String) }]);
  });

  it('saves a scheduled offer too', async () => {
    const offerId = await h.newOffer(merchant.key, { startsAt: new Date(Date.now() + DAY).toISOString() });
    const user = await h.newUser();
    await h.linkCard(user.token);
    expect((await h.gql(ACTIVATE, { input: { offerId } }, user.token)).data.activateOffer.userErrors).toEqual([]);
  });

  it('asks for a card first (NO_CARD_LINKED), also after the only card is unlinked', async () => {
    const offerId = await h.newOffer(merchant.key);
    const user = await h.newUser();
    expect((await h.gql(ACTIVATE, { input: { offerId } }, user.token)).data.activateOffer.userErrors).toMatchObject([{ code: 'NO_CARD_LINKED' }]);
    const card = await h.linkCard(user.token);
    await h.gql(`mutation { unlinkCard(input: { cardId: "${card.id}" }) { card { id } } }`, {}, user.token);
    expect((await h.gql(ACTIVATE, { input: { offerId } }, user.token)).data.activateOffer.userErrors).toMatchObject([{ code: 'NO_CARD_LINKED' }]);
    expect(await activations(offerId)).toBe(0);
  });

  it("refuses an offer outside the user's country, a purchase offer, a paused and an expired one", async () => {
    const user = await h.newUser({ country: 'CA' });
    await h.linkCard(user.token);
    const usOnly = await h.newOffer(merchant.key);
    const purchase = await h.newOffer(merchant.key, {
      kind: 'PURCHASE', rewardType: null, rewardBasisPoints: null, budget: null, price: 1500, quantity: 5, hashtag: `#Buy${Date.now()}`, countries: ['CA'],
    });
    const paused = await h.newOffer(merchant.key, { countries: ['CA'] });
    await h.gql(`mutation { pauseOffer(input: { offerId: "${paused}" }) { offer { id } } }`, {}, merchant.key);
    const expired = await h.newOffer(merchant.key, { countries: ['CA'] });
    await h.db.updateTable('offers').set({ starts_at: new Date(Date.now() - 3 * DAY), ends_at: new Date(Date.now() - DAY) }).where('id', '=', dbId(expired)).execute();
    const codes = async (offerId: string) =>
      (await h.gql(ACTIVATE, { input: { offerId } }, user.token)).data.activateOffer.userErrors.map((e: { code: string }) => e.code);
    expect(await codes(usOnly)).toEqual(['COUNTRY_NOT_ELIGIBLE']);
    expect(await codes(purchase)).toEqual(['INVALID_STATE']);
    expect(await codes(paused)).toEqual(['INVALID_STATE']);
    expect(await codes(expired)).toEqual(['INVALID_STATE']);
    for (const id of [usOnly, purchase, paused, expired]) expect(await activations(id)).toBe(0);
  });

  it('answers drafts and unapproved merchants as not found', async () => {
    const user = await h.newUser();
    await h.linkCard(user.token);
    const draft = await h.newOffer(merchant.key, {}, { publish: false });
    expect((await h.gql(ACTIVATE, { input: { offerId: draft } }, user.token)).data.activateOffer.userErrors).toMatchObject([{ code: 'NOT_FOUND' }]);
    expect((await h.gql(ACTIVATE, { input: { offerId: 'bad' } }, user.token)).data.activateOffer.userErrors).toMatchObject([{ code: 'INVALID_ID' }]);
  });

  it('is for signed-in users only', async () => {
    const offerId = await h.newOffer(merchant.key);
    expect((await h.gql(ACTIVATE, { input: { offerId } }, null)).data.activateOffer.userErrors).toMatchObject([{ code: 'UNAUTHENTICATED' }]);
    expect((await h.gql(ACTIVATE, { input: { offerId } }, merchant.key)).data.activateOffer.userErrors).toMatchObject([{ code: 'FORBIDDEN' }]);
  });
});

describe('deactivateOffer', () => {
  it('removes the saved offer; repeating is harmless', async () => {
    const offerId = await h.newOffer(merchant.key);
    const user = await h.newUser();
    await h.linkCard(user.token);
    await h.gql(ACTIVATE, { input: { offerId } }, user.token);
    for (let i = 0; i < 2; i++) {
      const res = await h.gql(DEACTIVATE, { input: { offerId } }, user.token);
      expect(res.data.deactivateOffer).toEqual({ offer: { id: offerId, viewerHasActivated: false }, userErrors: [] });
    }
    expect(await activations(offerId)).toBe(0);
  });
});

describe('what others see', () => {
  it('gives the merchant and admins the count, never who; others get null', async () => {
    const offerId = await h.newOffer(merchant.key);
    const users = [await h.newUser(), await h.newUser()];
    for (const u of users) {
      await h.linkCard(u.token);
      await h.gql(ACTIVATE, { input: { offerId } }, u.token);
    }
    expect((await h.gql(COUNTS, { id: offerId }, merchant.key)).data.offer).toEqual({ activationCount: 2, viewerHasActivated: false });
    expect((await h.gql(COUNTS, { id: offerId }, h.adminKey)).data.offer.activationCount).toBe(2);
    expect((await h.gql(COUNTS, { id: offerId }, null)).data.offer).toEqual({ activationCount: null, viewerHasActivated: false });
    const other = await h.newMerchant();
    expect((await h.gql(COUNTS, { id: offerId }, other.key)).data.offer.activationCount).toBeNull();
    expect((await h.gql(COUNTS, { id: offerId }, users[0]!.token)).data.offer).toEqual({ activationCount: null, viewerHasActivated: true });
  });

  it("answers another user's activation as null", async () => {
    const offerId = await h.newOffer(merchant.key);
    const a = await h.newUser();
    await h.linkCard(a.token);
    await h.gql(ACTIVATE, { input: { offerId } }, a.token);
    const [row] = await h.db.selectFrom('activations').select('id').where('offer_id', '=', dbId(offerId)).execute();
    const globalId = Buffer.from(`Activation:${row!.id}`).toString('base64');
    expect((await h.gql(`{ node(id: "${globalId}") { id } }`, {}, a.token)).data.node).toEqual({ id: globalId });
    const b = await h.newUser();
    expect((await h.gql(`{ node(id: "${globalId}") { id } }`, {}, b.token)).data.node).toBeNull();
    expect((await h.gql(`{ node(id: "${globalId}") { id } }`, {}, merchant.key)).data.node).toBeNull();
  });
});
