/** The events cashback writes: one per change, about the cashback, readable by its user and by the offer's merchant. */
import { z } from 'zod';
import { defineTopic } from '../../outbox/topics.js';

export const CASHBACK_TOPIC = defineTopic({
  name: 'CASHBACK',
  subjectType: 'Cashback',
  prefix: 'cashback',
  types: ['PENDING', 'CONFIRMED', 'REVERSED', 'CREDITED'],
  data: z.object({
    status: z.enum(['PENDING', 'CONFIRMED', 'CREDITED', 'REVERSED']),
    amount: z.number().int(),
    currency: z.string().length(3),
    reason: z.string().nullable(),
    offerId: z.uuid(),
  }),
});
