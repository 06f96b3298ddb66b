/**
 * The sequencer in one round trip: `sequence_events(max_events)` takes the sequencer's advisory
 * lock for the transaction and, holding it, gives committed unsequenced events their positions,
 * answering one row (sequenced, head), or no row when another sequencer holds the lock. It used to
 * be a transaction of four statements (BEGIN, the lock, the update, COMMIT) after every commit that
 * wrote events. Called alone, the statement is its own transaction: the lock lasts until it commits.
 *
 * The rule is the one the four statements kept: the update reads the head under the lock with a
 * snapshot taken after the lock was granted (each statement of a volatile PL/pgSQL function takes a
 * new one under READ COMMITTED), so it sees whatever the previous holder committed before releasing
 * the lock, and positions stay gap-free and unique.
 * Frozen in time: uses Kysely<any>.
 */
import type { Kysely } from 'kysely';
import { runScript } from './run-script.js';

export async function up(db: Kysely<any>): Promise<void> {
  await runScript(
    db,
    `
    create function sequence_events(max_events integer) returns table (sequenced integer, head bigint) language plpgsql volatile as $$ begin if not pg_try_advisory_xact_lock(7215004) then return; end if; return query with assigned as (update events e set position = s.position from (select p.id, (select coalesce(max(ev.position), 0) from events ev) + row_number() over (order by p.id) as position from (select ev.id from events ev where ev.position is null order by ev.id limit max_events) p) s where e.id = s.id returning e.position) select (select count(*) from assigned)::integer, coalesce((select max(a.position) from assigned a), (select coalesce(max(ev.position), 0) from events ev))::bigint; end $$;
  `,
  );
}

export async function down(db: Kysely<any>): Promise<void> {
  await runScript(db, `drop function sequence_events(integer);`);
}
