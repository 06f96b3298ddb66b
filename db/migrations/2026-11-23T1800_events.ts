/**
 * Live events: the outbox. Every committed fact clients may see is a row written in the same
 * transaction as the change; a single sequencer gives committed rows their position (a gap-free,
 * increasing cursor) after commit, so a reader that has seen position P never later finds an
 * event below P. Offers remember which time-based transitions were announced, so each is once.
 * Frozen in time: uses Kysely<any>.
 */
import type { Kysely } from 'kysely';
import { runScript } from './run-script.js';

export async function up(db: Kysely<any>): Promise<void> {
  await runScript(
    db,
    `
    create sequence event_positions;

    create table events (
      id bigint generated always as identity primary key,
      position bigint unique,
      topic text not null check (topic in ('OFFER', 'CASHBACK', 'STATEMENT_CREDIT')),
      type text not null,
      offer_id uuid,
      merchant_id uuid,
      user_id uuid,
      cashback_id uuid,
      credit_id uuid,
      data jsonb not null default '{}',
      created_at timestamptz(3) not null default now()
    );

    create index events_unsequenced_idx on events (id) where position is null;
    create index events_user_idx on events (user_id, position) where user_id is not null;
    create index events_merchant_idx on events (merchant_id, position) where merchant_id is not null;

    create trigger events_append_only before delete on events for each row execute function refuse_append_only_change();

    alter table offers add column announced_live boolean not null default false;

    alter table offers add column announced_ended boolean not null default false;
  `,
  );
}

export async function down(db: Kysely<any>): Promise<void> {
  await runScript(
    db,
    `
    alter table offers drop column announced_ended;
    alter table offers drop column announced_live;
    drop table events;
    drop sequence event_positions;
  `,
  );
}
