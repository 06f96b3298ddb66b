/**
 * The outbox's typed topics. A module declares each kind of event it writes once, with
 * `defineTopic`: the record kind it is about (the event's subject), its event types, and the
 * shape of its data, checked when an event is written and typed when one is read. The outbox
 * itself knows no domain: every event row is (topic, type, subject_type, subject_id, audience,
 * data), and the audience columns (`user_id`, `merchant_id`) say who besides admins may read it,
 * for live streams and webhooks alike.
 */
import type { z } from 'zod';
import type { EventRow, NewEvent } from '../../db/types.js';

/** Who may read an event besides admins. */
export interface Audience {
  userId?: string | null;
  merchantId?: string | null;
}

export interface Topic<Type extends string = string, Data = unknown> {
  /** Stored in `events.topic`, e.g. `OFFER`. */
  readonly name: string;
  /** The kind of record its events are about, e.g. `Offer` (`events.subject_type`). */
  readonly subjectType: string;
  readonly types: readonly Type[];
  /** The receiver-facing name of one of its event types, e.g. `offer.published`. */
  dotted(type: Type): string;
  /** An event row to write in the transaction of the change; throws when `data` has not the topic's shape. */
  event(type: Type, subjectId: string, audience: Audience, data: Data): NewEvent;
  /** The data of a stored event of this topic. */
  data(event: Pick<EventRow, 'data'>): Data;
}

export function defineTopic<const Type extends string, Schema extends z.ZodType>(options: {
  name: string;
  subjectType: string;
  /** Prefix of the dotted names, e.g. `offer`. */
  prefix: string;
  types: readonly Type[];
  data: Schema;
}): Topic<Type, z.output<Schema>> {
  const { name, subjectType, prefix, types, data } = options;
  return {
    name,
    subjectType,
    types,
    dotted: (type) => `${prefix}.${type.toLowerCase()}`,
    event: (type, subjectId, audience, value) => {
      if (!types.includes(type)) throw new Error(`${name} has no event type ${type}`);
      return {
        topic: name,
        type,
        subject_type: subjectType,
        subject_id: subjectId,
        user_id: audience.userId ?? null,
        merchant_id: audience.merchantId ?? null,
        data: JSON.stringify(data.parse(value)),
      };
    },
    data: (event) => data.parse(event.data) as z.output<Schema>,
  };
}
