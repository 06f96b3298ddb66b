/**
 * Purchases and cashback: partner transactions (idempotent per partner and external id), the
 * cashback each purchase earned with its history, the append-only double-entry ledger, statement
 * credits, stored e-mails with their delivery state, and idempotency keys of mutations.
 * Frozen in time: uses Kysely<any>.
 */
import type { Kysely } from 'kysely';
import { runScript } from './run-script.js';

export async function up(db: Kysely<any>): Promise<void> {
  await runScript(
    db,
    `
    create table idempotency_keys (
      principal text not null,
      key text not null check (length(key) between 1 and 200),
      operation text not null,
      request_hash text not null,
      response jsonb,
      created_at timestamptz(3) not null default now(),
      primary key (principal, key)
    );

    create table transactions (
      id uuid primary key,
      partner_key_id uuid not null references api_keys (id),
      external_id text not null check (length(external_id) between 1 and 128),
      type text not null check (type in ('AUTH', 'CLEARING', 'REFUND')),
      network text not null check (network in ('VISA', 'MASTERCARD', 'AMEX', 'DISCOVER')),
      mid text not null,
      location_id uuid references locations (id),
      card_id uuid references cards (id),
      user_id uuid references users (id),
      amount bigint not null check (amount > 0),
      currency char(3) not null,
      occurred_at timestamptz(3) not null,
      auth_external_id text,
      original_external_id text,
      outcome text not null check (outcome in ('QUALIFIED', 'NOT_QUALIFIED')),
      reason text,
      cashback_id uuid,
      created_at timestamptz(3) not null default now(),
      unique (partner_key_id, external_id),
      check ((outcome = 'QUALIFIED') = (reason is null)),
      check ((outcome = 'QUALIFIED') <= (cashback_id is not null)),
      check (type = 'CLEARING' or auth_external_id is null),
      check ((type = 'REFUND') = (original_external_id is not null))
    );

    create index transactions_cashback_idx on transactions (cashback_id) where cashback_id is not null;
    create index transactions_user_idx on transactions (user_id, occurred_at desc) where user_id is not null;

    create table cashbacks (
      id uuid primary key,
      user_id uuid not null references users (id),
      card_id uuid not null references cards (id),
      offer_id uuid not null references offers (id),
      merchant_id uuid not null references merchants (id),
      purchase_transaction_id uuid not null unique references transactions (id) deferrable initially deferred,
      status text not null check (status in ('PENDING', 'CONFIRMED', 'CREDITED', 'REVERSED')),
      currency char(3) not null,
      purchase_amount bigint not null check (purchase_amount > 0),
      refunded_amount bigint not null default 0 check (refunded_amount between 0 and purchase_amount),
      granted_amount bigint not null check (granted_amount > 0),
      amount bigint not null check (amount between 0 and granted_amount),
      credited_amount bigint not null default 0 check (credited_amount >= 0),
      clawback_amount bigint not null default 0 check (clawback_amount >= 0),
      reason text,
      occurred_at timestamptz(3) not null,
      expires_at timestamptz(3),
      expected_credit_at timestamptz(3) not null,
      created_at timestamptz(3) not null default now(),
      updated_at timestamptz(3) not null default now(),
      check ((status = 'REVERSED') = (amount = 0)),
      check ((status = 'PENDING') = (expires_at is not null)),
      check (amount + clawback_amount >= credited_amount)
    );

    alter table transactions add foreign key (cashback_id) references cashbacks (id) deferrable initially deferred;

    create index cashbacks_user_idx on cashbacks (user_id, created_at desc, id desc);
    create index cashbacks_offer_idx on cashbacks (offer_id, user_id);
    create index cashbacks_expiring_idx on cashbacks (expires_at) where status = 'PENDING';
    create index cashbacks_due_idx on cashbacks (expected_credit_at) where status = 'CONFIRMED';

    create table cashback_changes (
      id bigint generated always as identity primary key,
      cashback_id uuid not null references cashbacks (id) deferrable initially deferred,
      type text not null check (type in ('PENDING', 'CONFIRMED', 'REVERSED', 'CREDITED')),
      status text not null check (status in ('PENDING', 'CONFIRMED', 'CREDITED', 'REVERSED')),
      amount bigint not null check (amount >= 0),
      reason text,
      transaction_id uuid references transactions (id) deferrable initially deferred,
      at timestamptz(3) not null default now()
    );

    create index cashback_changes_cashback_idx on cashback_changes (cashback_id, id);

    create table ledger_entries (
      id bigint generated always as identity primary key,
      posting_id uuid not null,
      kind text not null check (kind in ('RESERVE', 'ADJUST', 'RELEASE', 'CREDIT', 'CLAWBACK')),
      account text not null check (account in ('OFFER_BUDGET', 'CASHBACK_PAYABLE', 'CREDITS_ISSUED', 'CLAWBACK_RECEIVABLE')),
      account_id uuid,
      amount bigint not null check (amount <> 0),
      currency char(3) not null,
      cashback_id uuid not null references cashbacks (id) deferrable initially deferred,
      created_at timestamptz(3) not null default now(),
      check ((account = 'CREDITS_ISSUED') = (account_id is null))
    );

    create index ledger_entries_posting_idx on ledger_entries (posting_id);
    create index ledger_entries_cashback_idx on ledger_entries (cashback_id);
    create index ledger_entries_account_idx on ledger_entries (account, account_id);

    create function refuse_append_only_change() returns trigger language plpgsql as $$ begin raise exception '% rows are append-only', tg_table_name using errcode = '55000'; end $$;

    create trigger ledger_entries_append_only before update or delete on ledger_entries for each row execute function refuse_append_only_change();

    create trigger ledger_entries_no_truncate before truncate on ledger_entries for each statement execute function refuse_append_only_change();

    create trigger cashback_changes_append_only before update or delete on cashback_changes for each row execute function refuse_append_only_change();

    create function check_posting_balanced() returns trigger language plpgsql as $$ begin if exists (select 1 from ledger_entries where posting_id = new.posting_id having sum(amount) <> 0 or count(distinct currency) > 1) then raise exception 'ledger posting % does not balance', new.posting_id using errcode = '23514'; end if; return null; end $$;

    create constraint trigger ledger_postings_balance after insert on ledger_entries deferrable initially deferred for each row execute function check_posting_balanced();

    create table statement_credits (
      id uuid primary key default gen_random_uuid(),
      cashback_id uuid not null unique references cashbacks (id),
      card_id uuid not null references cards (id),
      amount bigint not null check (amount > 0),
      currency char(3) not null,
      status text not null default 'PENDING' check (status in ('PENDING', 'ISSUED', 'FAILED', 'CANCELLED')),
      reference text check (reference is null or length(reference) between 1 and 128),
      attempts integer not null default 0,
      created_at timestamptz(3) not null default now(),
      updated_at timestamptz(3) not null default now(),
      settled_at timestamptz(3)
    );

    create index statement_credits_status_idx on statement_credits (status, created_at, id);

    create table emails (
      id uuid primary key default gen_random_uuid(),
      user_id uuid not null references users (id),
      kind text not null check (kind in ('CASHBACK_CONFIRMED', 'CASHBACK_CREDITED')),
      cashback_id uuid not null references cashbacks (id) deferrable initially deferred,
      recipient text not null,
      subject text not null,
      body text not null,
      status text not null default 'QUEUED' check (status in ('QUEUED', 'SENT', 'FAILED')),
      attempts integer not null default 0,
      next_attempt_at timestamptz(3) not null default now(),
      lease_token uuid,
      leased_until timestamptz(3),
      last_error text,
      sent_at timestamptz(3),
      created_at timestamptz(3) not null default now(),
      unique (kind, cashback_id)
    );

    create index emails_due_idx on emails (next_attempt_at) where status = 'QUEUED';
    create index emails_user_idx on emails (user_id, created_at desc, id desc);
  `,
  );
}

export async function down(db: Kysely<any>): Promise<void> {
  await runScript(
    db,
    `
    drop table emails;
    drop table statement_credits;
    drop table ledger_entries;
    drop function check_posting_balanced;
    drop table cashback_changes;
    drop function refuse_append_only_change;
    alter table transactions drop column cashback_id;
    drop table cashbacks;
    drop table transactions;
    drop table idempotency_keys;
  `,
  );
}
