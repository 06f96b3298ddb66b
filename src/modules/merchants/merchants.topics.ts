/**
 * The events merchants write: a merchant approved or suspended (its offers appear in or leave the
 * public catalogue), readable by the merchant. Caches of public answers drop on them.
 */
import { z } from 'zod';
import { defineTopic } from '../../outbox/topics.js';

export const MERCHANT_TOPIC = defineTopic({
  name: 'MERCHANT',
  subjectType: 'Merchant',
  prefix: 'merchant',
  types: ['APPROVED', 'SUSPENDED'],
  data: z.object({ status: z.enum(['APPROVED', 'SUSPENDED']) }),
});
