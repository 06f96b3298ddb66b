/**
 * Consumers: users, the log-in attempts that rate limiting counts, linked cards (ciphertext and
 * keyed fingerprint, never the number in clear, never a CVV) and offer activations.
 * Frozen in time: uses Kysely<any>.
 */
import type { Kysely } from 'kysely';
import { runScript } from './run-script.js';

export async function up(db: Kysely<any>): Promise<void> {
  await runScript(
    db,
    `
    create table users (
      id uuid primary key default gen_random_uuid(),
      email text not null check (length(email) between 3 and 254),
      email_key text not null unique,
      password_hash text not null,
      display_name text not null check (length(display_name) between 1 and 80),
      country char(2) not null,
      created_at timestamptz(3) not null default now()
    );

    create table login_attempts (
      id bigint generated always as identity primary key,
      email_key text not null,
      client_key text not null,
      succeeded boolean not null,
      attempted_at timestamptz(3) not null default now()
    );

    create index login_attempts_email_idx on login_attempts (email_key, attempted_at);
    create index login_attempts_client_idx on login_attempts (client_key, attempted_at);

    create table cards (
      id uuid primary key default gen_random_uuid(),
      user_id uuid not null references users (id),
      network text not null check (network in ('VISA', 'MASTERCARD', 'AMEX', 'DISCOVER')),
      first6 char(6) not null check (first6 ~ '^[0-9]{6}$'),
      last4 char(4) not null check (last4 ~ '^[0-9]{4}$'),
      exp_month smallint not null check (exp_month between 1 and 12),
      exp_year smallint not null check (exp_year between 2000 and 2100),
      fingerprint text not null check (fingerprint ~ '^[0-9a-f]{64}$'),
      key_id text,
      ciphertext text,
      linked_at timestamptz(3) not null default now(),
      unlinked_at timestamptz(3),
      -- A linked card holds its ciphertext; unlinking wipes it and keeps the rest for history.
      check ((unlinked_at is null) = (ciphertext is not null)),
      check ((key_id is null) = (ciphertext is null))
    );

    -- One live link per card number, whoever holds it.
    create unique index cards_linked_fingerprint_idx on cards (fingerprint) where unlinked_at is null;
    create index cards_user_idx on cards (user_id, linked_at);

    create table activations (
      id uuid primary key default gen_random_uuid(),
      offer_id uuid not null references offers (id),
      user_id uuid not null references users (id),
      activated_at timestamptz(3) not null default now(),
      unique (offer_id, user_id)
    );

    create index activations_user_idx on activations (user_id, activated_at);
  `,
  );
}

export async function down(db: Kysely<any>): Promise<void> {
  await runScript(
    db,
    `
    drop table activations;
    drop table cards;
    drop table login_attempts;
    drop table users;
  `,
  );
}
