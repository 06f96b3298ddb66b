/**
 * Test fixtures for buying by hashtag through the API: a purchase offer with fresh hashtags, a
 * social partner, and buyers whose handles are verified the way users do it (a code, then a post).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import type { ApiFixtures, Gql } from '../../../test/harness.js';

export const INGEST = `mutation($input: IngestPostsInput!) {
  ingestPosts(input: $input) {
    results { platform postId outcome reason errors { code field } offer { id } }
    userErrors { field message code }
  }
}`;
const VERIFY = `mutation($input: StartHandleVerificationInput!) {
  startHandleVerification(input: $input) { verification { code handle expiresAt } userErrors { field message code } }
}`;
const SETTINGS = `mutation($input: UpdateHashtagSettingsInput!) {
  updateHashtagSettings(input: $input) { hashtagSettings { hashtagBuying } userErrors { field message code } }
}`;

export interface PostResultShape {
  platform: string;
  postId: string;
  outcome: string;
  reason: string | null;
  errors: { code: string; field: string[] }[];
  offer: { id: string } | null;
}

/** Letters and digits only: a valid hashtag body and handle. */
export const token = (prefix: string) => `${prefix}${randomBytes(4).toString('hex')}`;

export function socialFixtures(gql: Gql, api: ApiFixtures) {
  /** Delivers posts as `partnerKey`; answers the results in order. */
  async function deliver(partnerKey: string, posts: Record<string, unknown>[], idempotencyKey?: string): Promise<PostResultShape[]> {
    const res = await gql(INGEST, { input: { posts, ...(idempotencyKey ? { idempotencyKey } : {}) } }, partnerKey);
    expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
    expect(res.data.ingestPosts.userErrors).toEqual([]);
    return res.data.ingestPosts.results;
  }

  /** One post from `handle` on X; `extra` overrides fields. */
  const post = (handle: string, text: string, extra: Record<string, unknown> = {}) => ({
    platform: 'X',
    postId: randomUUID(),
    authorHandle: `@${handle}`,
    text,
    postedAt: new Date().toISOString(),
    ...extra,
  });

  /** An approved merchant with a live PURCHASE offer "#Buy<T>" / "#Confirm<T>". */
  async function purchaseOffer(options: { quantity?: number; price?: number; perUserLimit?: number; confirmWindowMinutes?: number } = {}) {
    const merchant = await api.newMerchant();
    const tag = token('Gift');
    const offerId = await api.newOffer(merchant.key, {
      kind: 'PURCHASE',
      title: `$25 gift card ${tag}`,
      rewardType: null,
      rewardBasisPoints: null,
      budget: null,
      price: options.price ?? 1500,
      quantity: options.quantity ?? 100,
      hashtag: `#Buy${tag}`,
      ...(options.perUserLimit ? { perUserLimit: options.perUserLimit } : {}),
      ...(options.confirmWindowMinutes ? { confirmWindowMinutes: options.confirmWindowMinutes } : {}),
    });
    return { merchant, offerId, buy: `#Buy${tag}`, confirm: `#Confirm${tag}` };
  }

  /** A user with a linked card and a handle verified through `partnerKey`'s feed. */
  async function verifiedBuyer(partnerKey: string, options: { setting?: 'CONFIRM_BY_POST' | 'CONFIRM_IN_APP' | 'OFF'; cardNumber?: string } = {}) {
    const user = await api.newUser();
    const card = await api.linkCard(user.token, options.cardNumber);
    const handle = token('u');
    const verification = await gql(VERIFY, { input: { platform: 'X', handle: `@${handle}` } }, user.token);
    const { code } = verification.data.startHandleVerification.verification;
    const [proof] = await deliver(partnerKey, [post(handle, `linking my hashback account ${code}`)]);
    expect(proof!.outcome).toBe('VERIFIED_HANDLE');
    if (options.setting) {
      const res = await gql(SETTINGS, { input: { hashtagBuying: options.setting } }, user.token);
      expect(res.data.updateHashtagSettings.userErrors).toEqual([]);
    }
    return { ...user, handle, card };
  }

  return { deliver, post, purchaseOffer, verifiedBuyer };
}
