/** The events statement credits write when their card partner settles them, readable by the user and the offer's merchant. */
import { z } from 'zod';
import { defineTopic } from '../../outbox/topics.js';

export const STATEMENT_CREDIT_TOPIC = defineTopic({
  name: 'STATEMENT_CREDIT',
  subjectType: 'StatementCredit',
  prefix: 'statement_credit',
  types: ['ISSUED', 'FAILED'],
  data: z.object({
    amount: z.number().int(),
    currency: z.string().length(3),
    cashbackId: z.uuid(),
    offerId: z.uuid(),
  }),
});
