/**
 * The live layer's part of the schema: where the event log stands (`eventCursor`), and the
 * fields every event type of a subscription has. The subscriptions themselves live in the
 * modules whose events they stream (offers: `offerFeed`; cashback: `purchaseConfirmations`,
 * `merchantRedemptions`).
 */
import type { PayloadFieldBuilder } from '../schema/common.js';
import { builder } from '../schema/builder.js';
import { headPosition, type SequencedEvent } from '../outbox/outbox.repository.js';
import { eventCursor } from './streams.js';

/** `cursor` and `at`, the fields every event type has. */
export const eventFields = <T extends { event: SequencedEvent }>(t: PayloadFieldBuilder<T>) => ({
  cursor: t.string({ description: 'Position of the event: pass it as `after` to resume right after it.', resolve: (p) => eventCursor(p.event.position) }),
  at: t.field({ type: 'DateTime', description: 'When the change was committed.', resolve: (p) => p.event.created_at }),
});

builder.queryField('eventCursor', (t) =>
  t.string({
    description:
      'Where the event log stands now, as a cursor. Subscribe to purchaseConfirmations or merchantRedemptions with `after:` it to receive everything from this moment on, however long the subscription takes to register.',
    resolve: async (_root, _args, ctx) => eventCursor(await headPosition(ctx.db)),
  }),
);
