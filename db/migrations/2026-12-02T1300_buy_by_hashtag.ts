/**
 * Buy by hashtag. Tables by owner:
 * - offers (offers module): a PURCHASE offer's confirm hashtag and window, and the units held by
 *   open intents (`quantity_held`): available = quantity_remaining, held = quantity_held, sold =
 *   quantity − both; a CASHBACK offer's activation hashtag ("Get Offer" by post).
 * - social_accounts, handle_verifications, social_posts (social module): verified handles (one
 *   verified owner per platform and handle), the codes that prove them, and every post a social
 *   partner delivered, redacted, with what it did (idempotent per partner, platform and post id).
 * - social_replies (replies module): what the platform should post back, readable by the partner
 *   that delivered the post, in order, acknowledged once posted.
 * - hashtag_settings, purchase_intents, orders (orders module): how a user confirms and how much a
 *   day; an intent holds one unit until it is charged, declined, expires or is cancelled (at most
 *   one open intent per user and offer); an order per charged intent.
 * - ledger_entries: an order's money moves between two new accounts, CARD_CHARGES (per user: what
 *   their cards were charged) and MERCHANT_PAYABLE (per merchant: what is owed to it), by CHARGE
 *   and REFUND postings; the down migration can restore the old checks only on a ledger without them.
 * Frozen in time: uses Kysely<any>.
 */
import type { Kysely } from 'kysely';
import { runScript } from './run-script.js';

export async function up(db: Kysely<any>): Promise<void> {
  await runScript(
    db,
    `
    alter table offers add column confirm_hashtag text;

    alter table offers add column confirm_window_minutes integer check (confirm_window_minutes between 1 and 60);

    alter table offers add column activation_hashtag text;

    alter table offers add column quantity_held integer not null default 0 check (quantity_held >= 0);

    alter table offers add constraint offers_stock_check check (quantity_remaining + quantity_held <= quantity);

    create index offers_confirm_hashtag_idx on offers (lower(confirm_hashtag)) where confirm_hashtag is not null;

    create index offers_activation_hashtag_idx on offers (lower(activation_hashtag)) where activation_hashtag is not null;

    create table social_accounts (
      id uuid primary key default gen_random_uuid(),
      user_id uuid not null references users (id),
      platform text not null check (platform in ('X', 'INSTAGRAM')),
      handle text not null check (handle ~ '^[a-z0-9_.]{1,30}$'),
      status text not null default 'VERIFIED' check (status in ('VERIFIED', 'MOVED', 'UNLINKED')),
      verified_at timestamptz(3) not null default now(),
      ended_at timestamptz(3),
      created_at timestamptz(3) not null default now(),
      check ((status = 'VERIFIED') = (ended_at is null))
    );

    create unique index social_accounts_owner_idx on social_accounts (platform, handle) where status = 'VERIFIED';

    create index social_accounts_user_idx on social_accounts (user_id, created_at);

    create table handle_verifications (
      id uuid primary key default gen_random_uuid(),
      user_id uuid not null references users (id),
      platform text not null check (platform in ('X', 'INSTAGRAM')),
      handle text not null check (handle ~ '^[a-z0-9_.]{1,30}$'),
      code text not null unique,
      expires_at timestamptz(3) not null,
      verified_at timestamptz(3),
      created_at timestamptz(3) not null default now()
    );

    create table social_posts (
      id uuid primary key default gen_random_uuid(),
      partner_id uuid not null references partners (id),
      platform text not null check (platform in ('X', 'INSTAGRAM')),
      post_id text not null check (length(post_id) between 1 and 128),
      author_handle text not null,
      text text not null check (length(text) <= 5000),
      posted_at timestamptz(3) not null,
      in_reply_to_post_id text,
      url text,
      outcome text not null check (outcome in ('VERIFIED_HANDLE', 'INTENT_CREATED', 'ORDER_PLACED', 'PAYMENT_PENDING', 'OFFER_ACTIVATED', 'IGNORED', 'REJECTED')),
      reason text,
      offer_id uuid references offers (id),
      intent_id uuid,
      created_at timestamptz(3) not null default now(),
      unique (partner_id, platform, post_id)
    );

    create table social_replies (
      id uuid primary key default gen_random_uuid(),
      position bigint generated always as identity unique,
      partner_id uuid not null references partners (id),
      platform text not null check (platform in ('X', 'INSTAGRAM')),
      in_reply_to_post_id text not null,
      kind text not null check (kind ~ '^[A-Z][A-Z_]{1,63}$'),
      text text not null check (length(text) between 1 and 500),
      subject_type text not null,
      subject_id uuid not null,
      platform_post_id text,
      acknowledged_at timestamptz(3),
      created_at timestamptz(3) not null default now(),
      unique (partner_id, platform, in_reply_to_post_id, kind)
    );

    create index social_replies_unacknowledged_idx on social_replies (partner_id, platform, position) where acknowledged_at is null;

    create table hashtag_settings (
      user_id uuid primary key references users (id),
      buying text not null default 'CONFIRM_IN_APP' check (buying in ('OFF', 'CONFIRM_BY_POST', 'CONFIRM_IN_APP')),
      daily_limit bigint check (daily_limit >= 0),
      updated_at timestamptz(3) not null default now()
    );

    create table purchase_intents (
      id uuid primary key default gen_random_uuid(),
      offer_id uuid not null references offers (id),
      merchant_id uuid not null references merchants (id),
      user_id uuid not null references users (id),
      card_id uuid not null references cards (id),
      social_account_id uuid references social_accounts (id),
      partner_id uuid references partners (id),
      platform text check (platform in ('X', 'INSTAGRAM')),
      buy_post_id text,
      confirm_post_id text,
      price bigint not null check (price > 0),
      currency char(3) not null,
      status text not null default 'AWAITING_CONFIRMATION'
        check (status in ('AWAITING_CONFIRMATION', 'CONFIRMED', 'CHARGED', 'DECLINED', 'EXPIRED', 'CANCELLED')),
      reason text,
      confirmed_via text check (confirmed_via in ('POST', 'APP')),
      expires_at timestamptz(3) not null,
      confirmed_at timestamptz(3),
      settled_at timestamptz(3),
      created_at timestamptz(3) not null default now(),
      updated_at timestamptz(3) not null default now()
    );

    create unique index purchase_intents_open_idx on purchase_intents (user_id, offer_id) where status in ('AWAITING_CONFIRMATION', 'CONFIRMED');

    create index purchase_intents_due_idx on purchase_intents (expires_at) where status = 'AWAITING_CONFIRMATION';

    create index purchase_intents_user_idx on purchase_intents (user_id, created_at desc, id desc);

    create index purchase_intents_account_idx on purchase_intents (social_account_id) where status = 'AWAITING_CONFIRMATION';

    create table orders (
      id uuid primary key default gen_random_uuid(),
      intent_id uuid not null unique references purchase_intents (id),
      offer_id uuid not null references offers (id),
      merchant_id uuid not null references merchants (id),
      user_id uuid not null references users (id),
      card_id uuid not null references cards (id),
      amount bigint not null check (amount > 0),
      currency char(3) not null,
      status text not null default 'PAID' check (status in ('PAID', 'FULFILLED', 'REFUNDED')),
      payment_reference text not null,
      refund_reference text,
      fulfilled_at timestamptz(3),
      refunded_at timestamptz(3),
      created_at timestamptz(3) not null default now(),
      updated_at timestamptz(3) not null default now()
    );

    create index orders_merchant_idx on orders (merchant_id, created_at desc, id desc);

    create index orders_user_idx on orders (user_id, created_at desc, id desc);

    alter table ledger_entries drop constraint ledger_entries_kind_check;

    alter table ledger_entries add constraint ledger_entries_kind_check check (kind in ('RESERVE', 'ADJUST', 'RELEASE', 'CREDIT', 'CLAWBACK', 'CHARGE', 'REFUND'));

    alter table ledger_entries drop constraint ledger_entries_account_check;

    alter table ledger_entries add constraint ledger_entries_account_check
      check (account in ('OFFER_BUDGET', 'CASHBACK_PAYABLE', 'CREDITS_ISSUED', 'CLAWBACK_RECEIVABLE', 'CARD_CHARGES', 'MERCHANT_PAYABLE'));
    `,
  );
}

export async function down(db: Kysely<any>): Promise<void> {
  await runScript(
    db,
    `
    alter table ledger_entries drop constraint ledger_entries_account_check;
    alter table ledger_entries add constraint ledger_entries_account_check check (account in ('OFFER_BUDGET', 'CASHBACK_PAYABLE', 'CREDITS_ISSUED', 'CLAWBACK_RECEIVABLE'));
    alter table ledger_entries drop constraint ledger_entries_kind_check;
    alter table ledger_entries add constraint ledger_entries_kind_check check (kind in ('RESERVE', 'ADJUST', 'RELEASE', 'CREDIT', 'CLAWBACK'));
    drop table orders;
    drop table purchase_intents;
    drop table hashtag_settings;
    drop table social_replies;
    drop table social_posts;
    drop table handle_verifications;
    drop table social_accounts;
    drop index offers_activation_hashtag_idx;
    drop index offers_confirm_hashtag_idx;
    alter table offers drop constraint offers_stock_check;
    alter table offers drop column quantity_held;
    alter table offers drop column activation_hashtag;
    alter table offers drop column confirm_window_minutes;
    alter table offers drop column confirm_hashtag;
    `,
  );
}
