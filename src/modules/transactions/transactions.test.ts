import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingest, item, newShop, newShopper } from '../../../test/cashback-fixtures.js';
import { dbId, startHarness, type Harness } from '../../../test/harness.js';

let h: Harness;
let partner: { id: string; key: string };

beforeAll(async () => {
  h = await startHarness();
  partner = await h.newPartner();
});
afterAll(() => h.close());

describe('ingestTransactions', () => {
  it('turns a qualifying auth into pending cashback and its clearing into confirmed cashback', async () => {
    const shop = await newShop(h);
    const shopper = await newShopper(h);
    const auth = item(shop, shopper.card.number, { amount: 12_345 });
    const first = await ingest(h, partner.key, [auth]);
    expect(first.userErrors).toEqual([]);
    expect(first.results![0]).toMatchObject({ outcome: 'QUALIFIED', reason: null, cashback: { status: 'PENDING', amount: { amount: 1234 } } });
    const clearing = item(shop, shopper.card.number, { type: 'CLEARING', amount: 12_000, authExternalId: auth.externalId });
    const second = await ingest(h, partner.key, [clearing]);
    expect(second.results![0]).toMatchObject({ outcome: 'QUALIFIED', cashback: { id: first.results![0]!.cashback!.id, status: 'CONFIRMED', amount: { amount: 1200 } } });
    const offer = await h.db.selectFrom('offers').select(['budget', 'budget_remaining']).where('id', '=', shop.offerDbId).executeTakeFirstOrThrow();
    expect(offer.budget! - offer.budget_remaining!).toBe(1200);
  });
});
