/**
 * Fixtures for purchase tests: a merchant with one location (one MID) and a cashback offer on
 * it, a user with a linked card, and `ingest` to post transactions as a partner.
 */
import { randomBytes } from 'node:crypto';
import { dbId, randomCardNumber, type ApiFixtures } from './harness.js';

const DAY = 24 * 60 * 60 * 1000;

export const INGEST = `mutation($input: IngestTransactionsInput!) {
  ingestTransactions(input: $input) {
    results { externalId outcome reason errors { field code message } transaction { id outcome reason } cashback { id status amount { amount currency } } }
    userErrors { field message code }
  }
}`;

export interface Shop {
  merchant: { id: string; key: string };
  locationId: string;
  mid: string;
  offerId: string;
  offerDbId: string;
}

/** A merchant with one US in-store location and a published offer (10% unless overridden). */
export async function newShop(h: ApiFixtures, offer: Record<string, unknown> = {}, location: Record<string, unknown> = {}): Promise<Shop> {
  const merchant = await h.newMerchant();
  const mid = `MID${randomBytes(6).toString('hex').toUpperCase()}`;
  const locationId = await h.newLocation(merchant.key, { mids: [{ network: 'VISA', mid }], ...location });
  const offerId = await h.newOffer(merchant.key, { returnPeriodDays: 30, ...offer, locationIds: [locationId] });
  return { merchant, locationId, mid, offerId, offerDbId: dbId(offerId) };
}

/** A user with a linked Visa card (and the offer activated, when given). */
export async function newShopper(h: ApiFixtures, activate?: string) {
  const user = await h.newUser();
  const card = await h.linkCard(user.token, randomCardNumber('4'));
  if (activate) {
    await h.mutate(
      'activateOffer',
      'mutation($input: ActivateOfferInput!) { activateOffer(input: $input) { offer { id } userErrors { field message code } } }',
      { offerId: activate },
      user.token,
    );
  }
  return { ...user, card };
}

let sequence = 0;
// The letter before the sequence number keeps the hex and the number apart: joined by a dash,
// 12 hex digits that happen to be all decimal and the number can read as a card number, which
// the API refuses (CARD_NUMBER_NOT_ALLOWED), one id in a few thousand.
export const externalId = (prefix = 'tx') => `${prefix}-${randomBytes(6).toString('hex')}-n${++sequence}`;

/** A transaction item at the shop with the shopper's card; occurred a minute ago. */
export function item(shop: Pick<Shop, 'mid'>, cardNumber: string, overrides: Record<string, unknown> = {}) {
  return {
    externalId: externalId(),
    type: 'AUTH',
    cardNumber,
    network: 'VISA',
    mid: shop.mid,
    amount: 10_000,
    currency: 'USD',
    occurredAt: new Date(Date.now() - 60_000).toISOString(),
    ...overrides,
  };
}

export async function ingest(h: ApiFixtures, partnerKey: string, transactions: Record<string, unknown>[], idempotencyKey?: string) {
  const res = await h.gql(INGEST, { input: { transactions, idempotencyKey } }, partnerKey);
  if (res.errors) throw new Error(JSON.stringify(res.errors));
  return res.data.ingestTransactions as {
    results: {
      externalId: string;
      outcome: string;
      reason: string | null;
      errors: { field: string[]; code: string }[];
      transaction: { id: string; outcome: string; reason: string | null } | null;
      cashback: { id: string; status: string; amount: { amount: number; currency: string } } | null;
    }[] | null;
    userErrors: { code: string; field: string[] | null }[];
  };
}

export const daysAgo = (n: number) => new Date(Date.now() - n * DAY).toISOString();
