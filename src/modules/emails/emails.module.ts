/**
 * Declares the emails module: e-mails are stored first, each with a job on the durable queue, and
 * delivered over SMTP by its queue worker when one is configured.
 */
import { queueJob } from '../../jobs/queue.js';
import { defineModule } from '../module.js';
import { createSmtpMailer, EMAIL_BACKOFF, emailDeliveryHandler } from './email-delivery.js';
import { EMAIL_QUEUE } from './emails.service.js';
import './emails.schema.js';

export const emailsModule = defineModule({
  name: 'emails',
  queues: [EMAIL_QUEUE],
  jobs: ({ db, config, logger }) => {
    if (!config.smtpUrl) return [];
    const handler = emailDeliveryHandler(db, createSmtpMailer(config.smtpUrl), { from: config.mailFrom });
    return [queueJob(db, handler, { maxAttempts: config.emailMaxAttempts, backoff: EMAIL_BACKOFF, logger })];
  },
});
