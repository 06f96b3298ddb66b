/**
 * Declares the webhooks module: endpoints that partners and merchants register, the dispatcher
 * that turns the event log into deliveries, and the `webhooks` queue that sends them signed per
 * Standard Webhooks (see webhook-delivery.ts and webhook-sender.ts).
 */
import { defineModule } from '../module.js';
import { webhookJobs } from './webhook-delivery.js';
import { WEBHOOK_QUEUE } from './webhooks.service.js';
import { WEBHOOK_ENDPOINT_TOPIC } from './webhooks.topics.js';
import './webhooks.schema.js';

const ERROR_CODES = {
  WEBHOOK_URL_INVALID: 'The endpoint URL is not an https URL (http only where private networks are allowed), carries credentials, or does not resolve.',
  WEBHOOK_ADDRESS_NOT_ALLOWED: 'The endpoint host is, or resolves to, a private, loopback, link-local or metadata address.',
  WEBHOOK_EVENT_TYPE_UNKNOWN: 'Not an event type of webhookEventTypes.',
} as const;

declare module '../../lib/errors.js' {
  interface ErrorCodeRegistry extends Record<keyof typeof ERROR_CODES, true> {}
}

export const webhooksModule = defineModule({
  name: 'webhooks',
  errorCodes: ERROR_CODES,
  topics: [WEBHOOK_ENDPOINT_TOPIC],
  queues: [WEBHOOK_QUEUE],
  jobs: ({ db, config, logger, security }) => webhookJobs({ db, config, logger, ring: security.cards.ring }),
});
