/**
 * `offerFeed`: live changes of public offers, for anyone; a merchant key also sees the changes of
 * its own offers that the public does not (drafts, their creation), an admin key every offer's.
 * Each event's offer is read once per instance and visibility, whatever the subscribers' filters,
 * and subscribers with the same document, variables and audience share one execution per event
 * (src/live/shared-fanout.ts).
 */
import type { OfferKind, OfferRow } from '../../../db/types.js';
import type { Context } from '../../context.js';
import { eventFields } from '../../live/live.schema.js';
import type { SequencedEvent } from '../../outbox/outbox.repository.js';
import { eventStream } from '../../live/streams.js';
import { SHARED_FANOUT } from '../../live/shared-fanout.js';
import { PUBLIC_VISIBILITY, visibilityOf, type Visibility } from '../../lib/authorization.js';
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
 * The offer behind an event as the public sees it, or as its owner (and admins) do: read once per
 * event and view for every subscriber of this instance (kept per relay: positions are only unique
 * within one database).
 */
const offersAt = new WeakMap<object, Map<string, Promise<OfferRow | undefined>>>();
function offerAt(ctx: Context, event: SequencedEvent, owner: Visibility | null): Promise<OfferRow | undefined> {
  let byEvent = offersAt.get(ctx.events!);
  if (!byEvent) offersAt.set(ctx.events!, (byEvent = new Map()));
  const key = `${event.position}${owner ? ':owner' : ''}`;
  let offer = byEvent.get(key);
  if (!offer) {
    offer = findVisibleOffersByIds(ctx.db, [event.subject_id], owner ?? PUBLIC_VISIBILITY).then((rows) => rows[0]);
    byEvent.set(key, offer);
    if (byEvent.size > 1000) byEvent.delete(byEvent.keys().next().value!);
  }
  return offer;
}

builder.subscriptionFields((t) => ({
  offerFeed: t.field({
    type: OfferFeedEventRef,
    description:
      "Live changes of public offers (published by approved merchants). Anyone may follow it; a merchant key also receives its own offers' changes that the public does not see (drafts).",
    // Its stream depends only on the filter and the caller: subscribers share one execution per event.
    extensions: { [SHARED_FANOUT]: true },
    args: { filter: t.arg({ type: OfferFeedFilterRef, required: false, description: 'Which offers to follow.' }) },
    subscribe: (_root, args, ctx) => {
      const merchantId = args.filter?.merchantId ? (idOfType(args.filter.merchantId, 'Merchant') ?? 'none') : undefined;
      const country = args.filter?.country ?? null;
      const kind = (args.filter?.kind as OfferKind | null | undefined) ?? null;
      const visibility = visibilityOf(ctx.principal);
      return eventStream<OfferFeedEvent>(ctx, {
        filter: { topic: OFFER_TOPIC.name, merchantId },
        present: async (event) => {
          // The offer's merchant (and admins) see it whatever its state; everyone else sees it
          // only while it is public. A creation is a draft's: only they hear of it (read later,
          // the offer may be public by then).
          const owner = visibility.all || (visibility.merchantId !== null && visibility.merchantId === event.merchant_id) ? visibility : null;
          if (event.type === 'CREATED' && !owner) return null;
          const offer = await offerAt(ctx, event, owner);
          if (!offer || (country && !offer.countries.includes(country)) || (kind && offer.kind !== kind)) return null;
          return { event, offer };
        },
      });
    },
    resolve: (event) => event,
  }),
}));
