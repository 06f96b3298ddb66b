/**
 * The events ingest writes: one per newly stored card transaction (never for a duplicate or a
 * rejected item), about the transaction. Its audience is the merchant of the matched location
 * (when the MID was known), never a user; the partner that sent it reads it through its
 * webhooks (the transaction row's `partner_id`). No card number, no user id.
 */
import { z } from 'zod';
import { defineTopic } from '../../outbox/topics.js';

export const TRANSACTION_TOPIC = defineTopic({
  name: 'TRANSACTION',
  subjectType: 'Transaction',
  prefix: 'transaction',
  types: ['QUALIFIED', 'NOT_QUALIFIED'],
  data: z.object({
    /** The partner's own id of the transaction (not a record id of ours: receivers get it as sent). */
    externalId: z.string().min(1).max(128),
    type: z.enum(['AUTH', 'CLEARING', 'REFUND']),
    outcome: z.enum(['QUALIFIED', 'NOT_QUALIFIED']),
    reason: z.string().nullable(),
    amount: z.number().int(),
    currency: z.string().length(3),
  }),
});
