/**
 * "Get Offer": activations, and what an offer says about them.
 */
import type { ActivationRow, OfferRow } from '../../../db/types.js';
import type { UserError } from '../../lib/errors.js';
import { builder } from '../../schema/builder.js';
import { idempotencyKeyField, userErrorsField, withUserErrors, type PayloadFieldBuilder } from '../../schema/common.js';
import { ActivationRef } from './activations.refs.js';
import { OfferRef } from '../offers/offers.refs.js';
import { activateOffer, activationCounts, deactivateOffer, viewerActivated } from './activations.service.js';

ActivationRef.implement({
  description: 'An offer the user saved with "Get Offer".',
  fields: (t) => ({
    offer: t.field({ type: OfferRef, nullable: true, description: 'The offer, while it is visible.', resolve: (a) => a.offer_id }),
    activatedAt: t.expose('activated_at', { type: 'DateTime', description: 'When the user saved it; purchases before this do not count.' }),
  }),
});

builder.objectFields(OfferRef, (t) => ({
  viewerHasActivated: t.loadable({
    type: 'Boolean',
    description: 'Whether the signed-in user has saved the offer (false when not signed in).',
    load: (ids: string[], ctx) => viewerActivated(ctx, ids),
    resolve: (offer) => offer.id,
  }),
  activationCount: t.loadable({
    type: 'Int',
    nullable: true,
    description: "How many users saved the offer: for the offer's merchant and admins only (null otherwise).",
    load: (offers: OfferRow[], ctx) => activationCounts(ctx, offers),
    resolve: (offer) => offer,
  }),
}));

const activationPayload = (name: string) => ({
  description: `Result of ${name}.`,
  outputFields: (t: PayloadFieldBuilder<{ offer?: OfferRow; activation?: ActivationRow; userErrors: UserError[] }>) => ({
    offer: t.expose('offer', { type: OfferRef, nullable: true, description: 'The offer.' }),
    userErrors: userErrorsField(t),
  }),
});

for (const [name, run, description] of [
  [
    'activateOffer',
    activateOffer,
    'Saves a live or scheduled cashback offer for the signed-in user ("Get Offer"). Needs a linked card; repeating is harmless.',
  ],
  ['deactivateOffer', deactivateOffer, 'Removes a saved offer; repeating is harmless.'],
] as const) {
  builder.relayMutationField(
    name,
    {
      description: `Input of ${name}.`,
      inputFields: (t) => ({ offerId: t.id({ required: true, description: 'Global id of the offer.' }), idempotencyKey: idempotencyKeyField(t) }),
    },
    { description, resolve: (_root, { input }, ctx) => withUserErrors(() => run(ctx, input)) },
    activationPayload(name),
  );
}
