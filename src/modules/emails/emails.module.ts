/**
 * Declares the emails module: e-mails are stored first and delivered over SMTP by its job when one is configured.
 */
import { defineModule } from '../module.js';
import { createSmtpMailer, deliverDueEmails } from './email-delivery.js';
import './emails.schema.js';

export const emailsModule = defineModule({
  name: 'emails',
  jobs: ({ db, config, logger }) => {
    if (!config.smtpUrl) return [];
    const mailer = createSmtpMailer(config.smtpUrl);
    return [
      {
        name: 'emails',
        run: async () => {
          const result = await deliverDueEmails(db, mailer, { from: config.mailFrom, maxAttempts: config.emailMaxAttempts, logger });
          return result.sent + result.failed + result.retried;
        },
        close: () => mailer.close(),
      },
    ];
  },
});
