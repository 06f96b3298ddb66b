/**
 * The catalogue: merchants, their locations and network merchant ids, offers with every rule
 * field, social posts offers are attached to, and API keys. Frozen in time: uses Kysely<any>.
 */
import type { Kysely } from 'kysely';
import { runScript } from './run-script.js';

export async function up(db: Kysely<any>): Promise<void> {
  await runScript(
    db,
    `
    create table merchants (
      id uuid primary key default gen_random_uuid(),
      name text not null check (length(name) between 1 and 120),
      country char(2) not null,
      category text not null check (length(category) between 1 and 60),
      social_handle text check (social_handle is null or length(social_handle) between 2 and 31),
      status text not null default 'PENDING' check (status in ('PENDING', 'APPROVED', 'SUSPENDED')),
      created_at timestamptz(3) not null default now(),
      updated_at timestamptz(3) not null default now()
    );

    create index merchants_name_idx on merchants (name, id);

    create table api_keys (
      id uuid primary key default gen_random_uuid(),
      name text not null check (length(name) between 1 and 120),
      role text not null check (role in ('ADMIN', 'MERCHANT', 'PARTNER')),
      merchant_id uuid references merchants (id),
      scopes text[] not null default '{}',
      prefix text not null,
      secret_hash text not null unique,
      created_at timestamptz(3) not null default now(),
      revoked_at timestamptz(3),
      check ((role = 'MERCHANT') = (merchant_id is not null)),
      check (role = 'PARTNER' or cardinality(scopes) = 0)
    );

    create table locations (
      id uuid primary key default gen_random_uuid(),
      merchant_id uuid not null references merchants (id),
      name text not null check (length(name) between 1 and 120),
      channel text not null check (channel in ('IN_STORE', 'ONLINE')),
      country char(2) not null,
      timezone text not null,
      address text check (address is null or length(address) <= 300),
      created_at timestamptz(3) not null default now(),
      updated_at timestamptz(3) not null default now()
    );

    create index locations_merchant_idx on locations (merchant_id, created_at, id);

    create table location_mids (
      network text not null check (network in ('VISA', 'MASTERCARD', 'AMEX', 'DISCOVER')),
      mid text not null check (length(mid) between 1 and 32),
      location_id uuid not null references locations (id) on delete cascade,
      primary key (network, mid)
    );

    create index location_mids_location_idx on location_mids (location_id);

    create table offers (
      id uuid primary key default gen_random_uuid(),
      merchant_id uuid not null references merchants (id),
      kind text not null check (kind in ('CASHBACK', 'PURCHASE')),
      state text not null default 'DRAFT' check (state in ('DRAFT', 'PUBLISHED', 'PAUSED')),
      title text not null check (length(title) between 1 and 120),
      description text not null default '' check (length(description) <= 2000),
      currency char(3) not null,
      reward_type text check (reward_type in ('PERCENT', 'FIXED')),
      reward_basis_points integer check (reward_basis_points between 1 and 10000),
      reward_amount bigint check (reward_amount > 0),
      max_reward bigint check (max_reward > 0),
      min_spend bigint check (min_spend >= 0),
      starts_at timestamptz(3) not null,
      ends_at timestamptz(3) not null,
      days_of_week smallint[] not null default '{}',
      channels text[] not null,
      countries text[] not null,
      activation_required boolean not null default false,
      per_user_limit integer check (per_user_limit >= 1),
      budget bigint check (budget > 0),
      budget_remaining bigint check (budget_remaining >= 0 and budget_remaining <= budget),
      return_period_days integer not null default 0 check (return_period_days between 0 and 365),
      price bigint check (price > 0),
      quantity integer check (quantity > 0),
      quantity_remaining integer check (quantity_remaining >= 0 and quantity_remaining <= quantity),
      hashtag text,
      -- Reward rate in basis points used by orderBy BEST_REWARD: a percentage as such, a fixed
      -- reward as its share of the minimum spend (100% without one), a purchase offer 0.
      reward_rank integer not null generated always as (
        case
          when reward_type = 'PERCENT' then reward_basis_points
          when reward_type = 'FIXED' and coalesce(min_spend, 0) > 0
            then least(reward_amount * 10000 / min_spend, 10000)::integer
          when reward_type = 'FIXED' then 10000
          else 0
        end
      ) stored,
      published_at timestamptz(3),
      created_at timestamptz(3) not null default now(),
      updated_at timestamptz(3) not null default now(),
      check (ends_at > starts_at),
      check (cardinality(channels) > 0 and cardinality(countries) > 0),
      check ((state = 'DRAFT') = (published_at is null)),
      check (
        (kind = 'CASHBACK'
          and reward_type is not null
          and (reward_type = 'PERCENT') = (reward_basis_points is not null)
          and (reward_type = 'FIXED') = (reward_amount is not null)
          and (reward_type = 'PERCENT' or max_reward is null)
          and budget is not null and budget_remaining is not null
          and price is null and quantity is null and quantity_remaining is null and hashtag is null)
        or
        (kind = 'PURCHASE'
          and reward_type is null and reward_basis_points is null and reward_amount is null
          and max_reward is null and min_spend is null and budget is null and budget_remaining is null
          and price is not null and quantity is not null and quantity_remaining is not null
          and hashtag is not null)
      )
    );

    create index offers_merchant_idx on offers (merchant_id, created_at desc, id desc);
    create index offers_public_newest_idx on offers (created_at desc, id desc) where state = 'PUBLISHED';
    create index offers_public_ending_idx on offers (ends_at, id) where state = 'PUBLISHED';
    create index offers_public_reward_idx on offers (reward_rank desc, id desc) where state = 'PUBLISHED';
    create index offers_hashtag_idx on offers (lower(hashtag)) where hashtag is not null;

    create table offer_locations (
      offer_id uuid not null references offers (id) on delete cascade,
      location_id uuid not null references locations (id),
      primary key (offer_id, location_id)
    );

    create index offer_locations_location_idx on offer_locations (location_id);

    create table posts (
      id uuid primary key default gen_random_uuid(),
      external_id text not null unique check (length(external_id) between 1 and 128),
      url text not null check (length(url) between 1 and 2048),
      author_handle text not null check (length(author_handle) between 1 and 64),
      text text not null default '' check (length(text) <= 5000),
      offer_id uuid references offers (id),
      created_at timestamptz(3) not null default now()
    );

    create index posts_offer_idx on posts (offer_id);
  `,
  );
}

export async function down(db: Kysely<any>): Promise<void> {
  await runScript(
    db,
    `
    drop table posts;
    drop table offer_locations;
    drop table offers;
    drop table location_mids;
    drop table locations;
    drop table api_keys;
    drop table merchants;
  `,
  );
}
