/**
 * Linked cards: what the user sees of them (never more than first 6 and last 4), link and unlink.
 */
import type { CardRow } from '../../../db/types.js';
import type { UserError } from '../../lib/errors.js';
import { builder } from '../../schema/builder.js';
import { CARD_NUMBER_ALLOWED } from '../../schema/card-number-guard.js';
import { idempotencyKeyField, userErrorsField, withUserErrors, type PayloadFieldBuilder } from '../../schema/common.js';
import { CardRef } from './cards.refs.js';
import { CardNetworkRef } from '../locations/locations.schema.js';
import { linkCard, unlinkCard } from './cards.service.js';

CardRef.implement({
  description: 'A payment card linked by the user. The full number is never shown.',
  fields: (t) => ({
    network: t.expose('network', { type: CardNetworkRef, description: 'Card network.' }),
    first6: t.exposeString('first6', { description: 'First six digits (the issuer range).' }),
    last4: t.exposeString('last4', { description: 'Last four digits.' }),
    expMonth: t.exposeInt('exp_month', { description: 'Expiry month, 1 to 12.' }),
    expYear: t.exposeInt('exp_year', { description: 'Expiry year, four digits.' }),
    linkedAt: t.expose('linked_at', { type: 'DateTime', description: 'When the card was linked.' }),
    unlinkedAt: t.expose('unlinked_at', { type: 'DateTime', nullable: true, description: 'When the card was unlinked, if it was.' }),
  }),
});

const cardPayload = (name: string) => ({
  description: `Result of ${name}.`,
  outputFields: (t: PayloadFieldBuilder<{ card?: CardRow; userErrors: UserError[] }>) => ({
    card: t.expose('card', { type: CardRef, nullable: true, description: 'The card.' }),
    userErrors: userErrorsField(t),
  }),
});

builder.relayMutationField(
  'linkCard',
  {
    description: 'Input of linkCard. There is no CVV: hashback never asks for it.',
    inputFields: (t) => ({
      number: t.string({ required: true, description: 'Card number; spaces and dashes are ignored.', extensions: CARD_NUMBER_ALLOWED }),
      expMonth: t.int({ required: true, description: 'Expiry month, 1 to 12.' }),
      expYear: t.int({ required: true, description: 'Expiry year, four digits.' }),
      idempotencyKey: idempotencyKeyField(t),
    }),
  },
  {
    description: 'Links a payment card to the signed-in user (user token).',
    resolve: (_root, { input }, ctx) => withUserErrors(() => linkCard(ctx, input)),
  },
  cardPayload('linkCard'),
);

builder.relayMutationField(
  'unlinkCard',
  {
    description: 'Input of unlinkCard.',
    inputFields: (t) => ({ cardId: t.id({ required: true, description: 'Global id of one of your cards.' }), idempotencyKey: idempotencyKeyField(t) }),
  },
  {
    description: 'Unlinks one of your cards: its encrypted number is wiped; the record stays for history.',
    resolve: (_root, { input }, ctx) => withUserErrors(() => unlinkCard(ctx, input)),
  },
  cardPayload('unlinkCard'),
);
