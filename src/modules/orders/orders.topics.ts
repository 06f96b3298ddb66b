/**
 * The events of hashtag orders: one per change of a purchase intent and of an order, readable by
 * the buyer (`user_id`) and by the offer's merchant (`merchant_id`). Data names records and money
 * only: no card number, no e-mail, no user id (webhooks drop user ids anyway), no fulfilment note.
 */
import { z } from 'zod';
import { defineTopic } from '../../outbox/topics.js';

export const PURCHASE_INTENT_TOPIC = defineTopic({
  name: 'PURCHASE_INTENT',
  subjectType: 'PurchaseIntent',
  prefix: 'purchase_intent',
  types: ['CREATED', 'CONFIRMED', 'CHARGED', 'DECLINED', 'EXPIRED', 'CANCELLED'],
  data: z.object({
    status: z.enum(['AWAITING_CONFIRMATION', 'CONFIRMED', 'CHARGED', 'DECLINED', 'EXPIRED', 'CANCELLED']),
    offerId: z.uuid(),
    amount: z.number().int(),
    currency: z.string().length(3),
    /** Why it ended (see INTENT_REASONS); null while open or once charged. */
    reason: z.string().nullable(),
    /** The gateway's decline code of a DECLINED intent. */
    declineCode: z.string().nullable(),
    /** POST or APP, once confirmed. */
    confirmedVia: z.enum(['POST', 'APP']).nullable(),
    expiresAt: z.string(),
  }),
});

export const ORDER_TOPIC = defineTopic({
  name: 'ORDER',
  subjectType: 'Order',
  prefix: 'order',
  types: ['PAID', 'FULFILLED', 'REFUNDED'],
  data: z.object({
    status: z.enum(['PAID', 'FULFILLED', 'REFUNDED']),
    offerId: z.uuid(),
    purchaseIntentId: z.uuid(),
    amount: z.number().int(),
    currency: z.string().length(3),
  }),
});
