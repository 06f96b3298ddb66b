/**
 * The user's e-mails as stored: what was (or will be) sent, and whether it went out.
 */
import type { EmailRow } from '../../../db/types.js';
import { builder } from '../../schema/builder.js';
import { UserRef } from '../users/users.refs.js';
import { findEmailsOfUser } from './emails.repository.js';

const EmailKindRef = builder.enumType('EmailKind', {
  description: 'Why an e-mail was written.',
  values: {
    CASHBACK_CONFIRMED: { description: 'Cashback was confirmed by the clearing.' },
    CASHBACK_CREDITED: { description: 'Cashback was credited onto the card.' },
    WEBHOOK_ENDPOINT_DISABLED: { description: "The platform disabled a webhook endpoint (written to the merchant's or partner's contact address)." },
    PURCHASE_STARTED: { description: 'A buy post started a hashtag purchase: what, for how much, on which card (••last 4), and how to confirm or cancel it.' },
    PURCHASE_DECLINED: { description: "The card's issuer declined a hashtag purchase; nothing was charged." },
    ORDER_RECEIPT: { description: 'The receipt of a paid hashtag order: merchant, item, price and card (••last 4).' },
    ORDER_FULFILLED: { description: "The merchant fulfilled an order, with the merchant's note (e.g. a gift card code)." },
    ORDER_REFUNDED: { description: 'The merchant refunded an order.' },
  },
});

const EmailStatusRef = builder.enumType('EmailStatus', {
  description: 'Delivery state of an e-mail.',
  values: {
    QUEUED: { description: 'Stored, waiting for delivery (or no SMTP server is configured).' },
    SENT: { description: 'Accepted by the SMTP server.' },
    FAILED: { description: 'Delivery failed on every attempt.' },
  },
});

const EmailRef = builder.objectRef<EmailRow>('Email').implement({
  description: 'An e-mail to the user; never contains a card number.',
  fields: (t) => ({
    kind: t.expose('kind', { type: EmailKindRef, description: 'Why it was written.' }),
    subject: t.exposeString('subject', { description: 'Subject line.' }),
    body: t.exposeString('body', { description: 'Plain-text body.' }),
    status: t.expose('status', { type: EmailStatusRef, description: 'Delivery state.' }),
    createdAt: t.expose('created_at', { type: 'DateTime', description: 'When it was written.' }),
    sentAt: t.expose('sent_at', { type: 'DateTime', nullable: true, description: 'When the SMTP server accepted it.' }),
  }),
});

builder.objectFields(UserRef, (t) => ({
  emails: t.field({
    type: [EmailRef],
    description: 'E-mails written to the user, newest first.',
    args: { first: t.arg.int({ required: false, defaultValue: 20, description: 'How many, 1 to 100 (default 20).' }) },
    resolve: (user, args, ctx) => findEmailsOfUser(ctx.db, user.id, Math.min(Math.max(args.first ?? 20, 1), 100)),
  }),
}));
