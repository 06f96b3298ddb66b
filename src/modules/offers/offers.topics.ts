/** The events offers write: one per change of an offer, about the offer, readable by its merchant (and, once public, by anyone). */
import { z } from 'zod';
import type { OfferRow } from '../../../db/types.js';
import { defineTopic } from '../../outbox/topics.js';

export const OFFER_TOPIC = defineTopic({
  name: 'OFFER',
  subjectType: 'Offer',
  prefix: 'offer',
  types: ['CREATED', 'UPDATED', 'PUBLISHED', 'PAUSED', 'RESUMED', 'LIVE', 'EXPIRED', 'EXHAUSTED'],
  // Readers load the offer as it is now: the event itself carries nothing more.
  data: z.object({}),
});

export type OfferEventType = (typeof OFFER_TOPIC.types)[number];

export const offerEvent = (offer: Pick<OfferRow, 'id' | 'merchant_id'>, type: OfferEventType) =>
  OFFER_TOPIC.event(type, offer.id, { merchantId: offer.merchant_id }, {});
