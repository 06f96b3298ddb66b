/** The events webhooks write: an endpoint was disabled (a 410, or failing too long), readable by its owner. */
import { z } from 'zod';
import { defineTopic } from '../../outbox/topics.js';

export const WEBHOOK_ENDPOINT_TOPIC = defineTopic({
  name: 'WEBHOOK_ENDPOINT',
  subjectType: 'WebhookEndpoint',
  prefix: 'webhook_endpoint',
  types: ['DISABLED'],
  data: z.object({ reason: z.string().max(500) }),
});
