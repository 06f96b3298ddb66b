/**
 * Webhooks: endpoints that partners and merchants register, the deliveries of events to them and
 * each attempt's outcome.
 *
 * `webhook_endpoints` belongs to exactly one owner (a merchant or a partner). Its signing secret
 * is stored sealed under the card key ring (AES-256-GCM, key id kept beside it), never in clear;
 * during a rotation the previous secret is kept sealed until `previous_secret_expires_at`.
 * `cursor` is the last event position the endpoint's dispatcher has looked at; `generation`
 * grows on every replay so a replayed event gets a new delivery. `failing_since` is the time of
 * the first failed attempt since the last success.
 *
 * `webhook_deliveries` is one message to one endpoint (an event, or a test message), sent by the
 * `webhooks` job queue; `webhook_attempts` records every HTTP attempt. Frozen in time: Kysely<any>.
 */
import type { Kysely } from 'kysely';
import { runScript } from './run-script.js';

export async function up(db: Kysely<any>): Promise<void> {
  await runScript(
    db,
    `
    create table webhook_endpoints (
      id uuid primary key default gen_random_uuid(),
      merchant_id uuid references merchants (id),
      partner_id uuid references partners (id),
      url text not null check (length(url) between 1 and 2000),
      description text not null default '' check (length(description) <= 500),
      event_types text[] not null default '{}',
      status text not null default 'ENABLED' check (status in ('ENABLED', 'DISABLED')),
      disabled_reason text check (disabled_reason is null or length(disabled_reason) <= 500),
      secret_key_id text not null,
      secret_ciphertext text not null,
      previous_secret_key_id text,
      previous_secret_ciphertext text,
      previous_secret_expires_at timestamptz(3),
      cursor bigint not null default 0 check (cursor >= 0),
      generation integer not null default 0 check (generation >= 0),
      failing_since timestamptz(3),
      created_at timestamptz(3) not null default now(),
      updated_at timestamptz(3) not null default now(),
      check ((merchant_id is null) <> (partner_id is null)),
      check ((previous_secret_ciphertext is null) = (previous_secret_key_id is null))
    );

    create index webhook_endpoints_merchant_idx on webhook_endpoints (merchant_id) where merchant_id is not null;

    create index webhook_endpoints_partner_idx on webhook_endpoints (partner_id) where partner_id is not null;

    create table webhook_deliveries (
      id bigint generated always as identity primary key,
      endpoint_id uuid not null references webhook_endpoints (id) on delete cascade,
      event_id bigint references events (id),
      event_position bigint,
      generation integer not null default 0,
      message_id text not null check (length(message_id) between 1 and 100),
      event_type text not null check (length(event_type) between 1 and 100),
      body text not null,
      status text not null default 'PENDING' check (status in ('PENDING', 'DELIVERED', 'FAILED')),
      attempts integer not null default 0 check (attempts >= 0),
      created_at timestamptz(3) not null default now(),
      finished_at timestamptz(3)
    );

    create unique index webhook_deliveries_event_key on webhook_deliveries (endpoint_id, event_id, generation) where event_id is not null;

    create index webhook_deliveries_endpoint_idx on webhook_deliveries (endpoint_id, id);

    create index webhook_deliveries_pending_idx on webhook_deliveries (endpoint_id) where status = 'PENDING';

    create table webhook_attempts (
      id bigint generated always as identity primary key,
      delivery_id bigint not null references webhook_deliveries (id) on delete cascade,
      attempted_at timestamptz(3) not null,
      http_status integer,
      duration_ms integer not null check (duration_ms >= 0),
      error text check (error is null or length(error) <= 1000),
      response_body text check (response_body is null or length(response_body) <= 2000)
    );

    create index webhook_attempts_delivery_idx on webhook_attempts (delivery_id, id);
  `,
  );
}

export async function down(db: Kysely<any>): Promise<void> {
  await runScript(
    db,
    `
    drop table webhook_attempts;

    drop table webhook_deliveries;

    drop table webhook_endpoints;
  `,
  );
}
