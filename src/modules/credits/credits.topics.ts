/**
 * The events statement credits write: CREATED when the statement-credit job creates one (in the
 * same statement, src/modules/cashback/cashback.repository.ts), ISSUED or FAILED when their card
 * partner settles it; readable by the user and the offer's merchant.
 */
import { z } from 'zod';
import { defineTopic } from '../../outbox/topics.js';

export const STATEMENT_CREDIT_TOPIC = defineTopic({
  name: 'STATEMENT_CREDIT',
  subjectType: 'StatementCredit',
  prefix: 'statement_credit',
  types: ['CREATED', 'ISSUED', 'FAILED'],
  data: z.object({
    amount: z.number().int(),
    currency: z.string().length(3),
    cashbackId: z.uuid(),
    offerId: z.uuid(),
  }),
});
