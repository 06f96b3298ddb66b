/**
 * Payments: the built-in sandbox gateway's own records, as a card processor's sandbox keeps them.
 *
 * `sandbox_charges` is one authorize-and-capture per idempotency key (unique: a replayed key
 * answers the stored outcome, never a second charge). It holds the card's last 4 digits and
 * network only, never the number. `status` is the gateway's answer: APPROVED and DECLINED are
 * final; RETRYABLE means nothing was charged and a retry with the same key tries again
 * (`attempts` counts them). `refunded_amount` is what its approved refunds add up to, never more
 * than the charge.
 *
 * `sandbox_refunds` is one refund per idempotency key; a refund naming no known charge is
 * recorded DECLINED with a null `charge_id`. Frozen in time: Kysely<any>.
 */
import type { Kysely } from 'kysely';
import { runScript } from './run-script.js';

export async function up(db: Kysely<any>): Promise<void> {
  await runScript(
    db,
    `
    create table sandbox_charges (
      id uuid primary key default gen_random_uuid(),
      idempotency_key text not null unique check (length(idempotency_key) between 1 and 255),
      amount bigint not null check (amount > 0),
      currency text not null check (currency ~ '^[A-Z]{3}$'),
      card_last4 text not null check (card_last4 ~ '^[0-9]{4}$'),
      network text not null check (length(network) between 1 and 20),
      status text not null check (status in ('APPROVED', 'DECLINED', 'RETRYABLE')),
      decline_code text check ((status = 'DECLINED') = (decline_code is not null)),
      attempts integer not null default 1 check (attempts >= 1),
      reference text unique check ((status = 'APPROVED') = (reference is not null)),
      refunded_amount bigint not null default 0 check (refunded_amount >= 0 and refunded_amount <= amount),
      created_at timestamptz(3) not null default now(),
      updated_at timestamptz(3) not null default now()
    );

    create table sandbox_refunds (
      id uuid primary key default gen_random_uuid(),
      idempotency_key text not null unique check (length(idempotency_key) between 1 and 255),
      charge_id uuid references sandbox_charges (id),
      charge_reference text not null check (length(charge_reference) between 1 and 255),
      amount bigint not null check (amount > 0),
      currency text not null check (currency ~ '^[A-Z]{3}$'),
      status text not null check (status in ('APPROVED', 'DECLINED')),
      decline_code text check ((status = 'DECLINED') = (decline_code is not null)),
      reference text unique check ((status = 'APPROVED') = (reference is not null)),
      created_at timestamptz(3) not null default now(),
      updated_at timestamptz(3) not null default now(),
      check (status = 'DECLINED' or charge_id is not null)
    );

    create index sandbox_refunds_charge_idx on sandbox_refunds (charge_id) where charge_id is not null;
  `,
  );
}

export async function down(db: Kysely<any>): Promise<void> {
  await runScript(
    db,
    `
    drop table sandbox_refunds;

    drop table sandbox_charges;
  `,
  );
}
