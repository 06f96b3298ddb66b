/**
 * The event log (outbox): written in the transaction of the change it records, given its
 * position by the sequencer after commit, read back by position for live delivery and replay.
 */
import { sql, type Kysely, type RawBuilder, type Transaction } from 'kysely';
import type { DB, EventRow, NewEvent } from '../../db/types.js';
import { executePrepared } from '../lib/statements.js';

export type SequencedEvent = EventRow & { position: number };

/** Writes events (built by their topics, src/outbox/topics.ts) in the transaction of the change. */
export async function insertEvents(trx: Transaction<DB>, events: readonly NewEvent[]): Promise<void> {
  for (let i = 0; i < events.length; i += 1000) await trx.insertInto('events').values(events.slice(i, i + 1000)).execute();
}

/**
 * The INSERT of `events` as one statement with one array parameter per column, for a caller that
 * writes many events at once, alone or as one step of a larger statement. Events get their ids
 * in the given order, as with `insertEvents`.
 */
export function eventsInsert(events: readonly NewEvent[]): RawBuilder<unknown> {
  const column = <T>(pick: (e: NewEvent) => T) => events.map(pick);
  return sql`insert into events (topic, type, subject_type, subject_id, user_id, merchant_id, data)
    select topic, type, subject_type, subject_id, user_id, merchant_id, coalesce(data, '{}')
    from unnest(${column((e) => e.topic)}::text[], ${column((e) => e.type)}::text[], ${column((e) => e.subject_type)}::text[],
      ${column((e) => e.subject_id)}::uuid[], ${column((e) => e.user_id ?? null)}::uuid[], ${column((e) => e.merchant_id ?? null)}::uuid[],
      ${column((e) => e.data ?? null)}::jsonb[]) with ordinality as e(topic, type, subject_type, subject_id, user_id, merchant_id, data, n)
    order by n`;
}

/**
 * Gives every event committed before this call its position, waiting (briefly) for a sequencer
 * that holds the lock to finish first. A reader that starts "from now on" (a new
 * webhook endpoint) reads its starting point after this, so no event committed before it can
 * still take a position behind its back.
 */
export async function sequenceCommitted(db: Kysely<DB>): Promise<void> {
  for (let attempt = 0; attempt < 50; attempt++) {
    if ((await sequenceEvents(db)) !== null) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * Gives committed, unsequenced events their positions, in id order, and returns the highest
 * position now assigned (0 when none). Only one sequencer runs at a time (an advisory lock held
 * for its transaction); a caller that does not get the lock returns null and lets the holder work.
 *
 * Positions are gap-free: each is the head plus the event's rank, computed under the lock in the
 * same transaction, so a sequencer that dies before commit (its process killed, its connection
 * terminated) leaves nothing taken. The `event_positions` sequence the first migration created
 * is no longer used for this: `nextval` is not transactional, and a rolled-back sequencer left
 * a hole of as many positions as it had taken. The work is one database function
 * (`sequence_events`, migration 2026-12-02T1600), one round trip after every commit that wrote
 * events: it reads the head with a snapshot taken after the lock was granted, so it sees what the
 * previous holder committed before releasing it.
 */
export async function sequenceEvents(db: Kysely<DB>, limit = 5000): Promise<{ sequenced: number; head: number } | null> {
  const { rows } = await executePrepared(db, sql<{ sequenced: number; head: string | number }>`select sequenced, head from sequence_events(${limit}::integer)`);
  const row = rows[0];
  return row ? { sequenced: Number(row.sequenced), head: Number(row.head) } : null;
}

/** Tells every listening instance that the log has grown to `head` (Postgres NOTIFY on `channel`). */
export async function notifyHead(db: Kysely<DB>, channel: string, head: number): Promise<void> {
  await sql`select pg_notify(${channel}, ${String(head)})`.execute(db);
}

export async function headPosition(db: Kysely<DB>): Promise<number> {
  const row = await db.selectFrom('events').select(sql<number>`coalesce(max(position), 0)::bigint`.as('head')).executeTakeFirst();
  return Number(row?.head ?? 0);
}

export interface EventFilter {
  userId?: string;
  merchantId?: string;
  topic?: EventRow['topic'];
}

/** Sequenced events after `position`, in order, optionally only those a filter allows. */
export async function fetchEventsAfter(db: Kysely<DB>, position: number, limit: number, filter: EventFilter = {}): Promise<SequencedEvent[]> {
  let query = db.selectFrom('events').selectAll().where('position', '>', position);
  if (filter.userId) query = query.where('user_id', '=', filter.userId);
  if (filter.merchantId) query = query.where('merchant_id', '=', filter.merchantId);
  if (filter.topic) query = query.where('topic', '=', filter.topic);
  return (await query.orderBy('position').limit(limit).execute()) as SequencedEvent[];
}
