/**
 * `offerFeed`: live changes of public offers, for anyone. Each event's offer is read once per
 * instance and shared by every subscriber, whatever their filter.
 */
import type { OfferKind, OfferRow } from '../../../db/types.js';
import type { Context } from '../../context.js';
import { eventFields } from '../../live/live.schema.js';
import type { SequencedEvent } from '../../outbox/outbox.repository.js';
import { eventStream } from '../../live/streams.js';
import { PUBLIC_VISIBILITY } from '../../lib/authorization.js';
import { idOfType } from '../../lib/ids.js';
import { builder } from '../../schema/builder.js';
import { OfferRef } from './offers.refs.js';
import { OfferKindRef } from './offers.schema.js';
import { findVisibleOffersByIds } from './offers.service.js';
import { OFFER_TOPIC } from './offers.topics.js';

interface OfferFeedEvent {
  event: SequencedEvent;
  offer: OfferRow;
}

const OfferEventTypeRef = builder.enumType('OfferEventType', {
  description: 'What happened to an offer.',
  values: {
    CREATED: { description: 'Created (as a draft: only its merchant sees it).' },
    UPDATED: { description: 'Changed by its merchant.' },
    PUBLISHED: { description: 'Published.' },
    PAUSED: { description: 'Paused by its merchant.' },
    RESUMED: { description: 'Resumed after a pause.' },
    LIVE: { description: 'Reached its start.' },
    EXPIRED: { description: 'Reached its end.' },
    EXHAUSTED: { description: 'Spent its whole budget.' },
  },
});

const OfferFeedEventRef = builder.objectRef<OfferFeedEvent>('OfferFeedEvent').implement({
  description: 'A change of a public offer.',
  fields: (t) => ({
    type: t.field({ type: OfferEventTypeRef, description: 'What happened.', resolve: (p) => p.event.type as never }),
    offer: t.field({ type: OfferRef, description: 'The offer as it is now.', resolve: (p) => p.offer }),
    ...eventFields(t),
  }),
});

const OfferFeedFilterRef = builder.inputType('OfferFeedFilter', {
  description: 'Which offers to follow.',
  fields: (t) => ({
    merchantId: t.id({ required: false, description: 'Only this merchant.' }),
    country: t.string({ required: false, description: 'Only offers valid in this ISO 3166-1 alpha-2 country.' }),
    kind: t.field({ type: OfferKindRef, required: false, description: 'Only this kind.' }),
  }),
});

/**
 * The public offer behind an event, read once per event for every subscriber of this instance
 * (kept per relay: positions are only unique within one database).
 */
const publicOffers = new WeakMap<object, Map<number, Promise<OfferRow | undefined>>>();
function publicOfferAt(ctx: Context, event: SequencedEvent): Promise<OfferRow | undefined> {
  let byPosition = publicOffers.get(ctx.events!);
  if (!byPosition) publicOffers.set(ctx.events!, (byPosition = new Map()));
  let offer = byPosition.get(event.position);
  if (!offer) {
    offer = findVisibleOffersByIds(ctx.db, [event.subject_id], PUBLIC_VISIBILITY).then((rows) => rows[0]);
    byPosition.set(event.position, offer);
    if (byPosition.size > 1000) byPosition.delete(byPosition.keys().next().value!);
  }
  return offer;
}

builder.subscriptionFields((t) => ({
  offerFeed: t.field({
    type: OfferFeedEventRef,
    description: 'Live changes of public offers (published by approved merchants). Anyone may follow it.',
    args: { filter: t.arg({ type: OfferFeedFilterRef, required: false, description: 'Which offers to follow.' }) },
    subscribe: (_root, args, ctx) => {
      const merchantId = args.filter?.merchantId ? (idOfType(args.filter.merchantId, 'Merchant') ?? 'none') : undefined;
      const country = args.filter?.country ?? null;
      const kind = (args.filter?.kind as OfferKind | null | undefined) ?? null;
      return eventStream<OfferFeedEvent>(ctx, {
        filter: { topic: OFFER_TOPIC.name, merchantId },
        present: async (event) => {
          if (event.type === 'CREATED') return null;
          const offer = await publicOfferAt(ctx, event);
          if (!offer || (country && !offer.countries.includes(country)) || (kind && offer.kind !== kind)) return null;
          return { event, offer };
        },
      });
    },
    resolve: (event) => event,
  }),
}));
