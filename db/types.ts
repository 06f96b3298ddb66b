/**
 * Database types as the application reads and writes them (bigint columns arrive as numbers:
 * the Database factory parses int8 with a safe-integer check).
 */
import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type CreatedAt = ColumnType<Date, Date | string | undefined, never>;

export type MerchantStatus = 'PENDING' | 'APPROVED' | 'SUSPENDED';
export type ApiKeyRole = 'ADMIN' | 'MERCHANT' | 'PARTNER';
export type Channel = 'IN_STORE' | 'ONLINE';
export type CardNetwork = 'VISA' | 'MASTERCARD' | 'AMEX' | 'DISCOVER';
export type OfferKind = 'CASHBACK' | 'PURCHASE';
export type OfferState = 'DRAFT' | 'PUBLISHED' | 'PAUSED';
export type RewardType = 'PERCENT' | 'FIXED';

export interface MerchantsTable {
  id: Generated<string>;
  name: string;
  country: string;
  category: string;
  social_handle: string | null;
  status: ColumnType<MerchantStatus, MerchantStatus | undefined, MerchantStatus>;
  created_at: CreatedAt;
  updated_at: Timestamp;
}

export interface ApiKeysTable {
  id: Generated<string>;
  name: string;
  role: ApiKeyRole;
  merchant_id: string | null;
  scopes: ColumnType<string[], string[] | undefined, string[]>;
  prefix: string;
  secret_hash: string;
  created_at: CreatedAt;
  revoked_at: Date | null;
}

export interface LocationsTable {
  id: Generated<string>;
  merchant_id: string;
  name: string;
  channel: Channel;
  country: string;
  timezone: string;
  address: string | null;
  created_at: CreatedAt;
  updated_at: Timestamp;
}

export interface LocationMidsTable {
  network: CardNetwork;
  mid: string;
  location_id: string;
}

export interface OffersTable {
  id: Generated<string>;
  merchant_id: string;
  kind: OfferKind;
  state: ColumnType<OfferState, OfferState | undefined, OfferState>;
  title: string;
  description: ColumnType<string, string | undefined, string>;
  currency: string;
  reward_type: RewardType | null;
  reward_basis_points: number | null;
  reward_amount: number | null;
  max_reward: number | null;
  min_spend: number | null;
  starts_at: Timestamp;
  ends_at: Timestamp;
  days_of_week: ColumnType<number[], number[] | undefined, number[]>;
  channels: Channel[];
  countries: string[];
  activation_required: ColumnType<boolean, boolean | undefined, boolean>;
  per_user_limit: number | null;
  budget: number | null;
  budget_remaining: number | null;
  return_period_days: ColumnType<number, number | undefined, number>;
  price: number | null;
  quantity: number | null;
  quantity_remaining: number | null;
  hashtag: string | null;
  reward_rank: ColumnType<number, never, never>;
  published_at: Date | null;
  created_at: CreatedAt;
  updated_at: Timestamp;
}

export interface OfferLocationsTable {
  offer_id: string;
  location_id: string;
}

export interface PostsTable {
  id: Generated<string>;
  external_id: string;
  url: string;
  author_handle: string;
  text: ColumnType<string, string | undefined, string>;
  offer_id: string | null;
  created_at: CreatedAt;
}

export interface UsersTable {
  id: Generated<string>;
  email: string;
  email_key: string;
  password_hash: string;
  display_name: string;
  country: string;
  created_at: CreatedAt;
}

export interface LoginAttemptsTable {
  id: Generated<number>;
  email_key: string;
  client_key: string;
  succeeded: boolean;
  attempted_at: CreatedAt;
}

export interface CardsTable {
  id: Generated<string>;
  user_id: string;
  network: CardNetwork;
  first6: string;
  last4: string;
  exp_month: number;
  exp_year: number;
  fingerprint: string;
  key_id: string | null;
  ciphertext: string | null;
  linked_at: CreatedAt;
  unlinked_at: Date | null;
}

export interface ActivationsTable {
  id: Generated<string>;
  offer_id: string;
  user_id: string;
  activated_at: CreatedAt;
}

export interface DB {
  users: UsersTable;
  login_attempts: LoginAttemptsTable;
  cards: CardsTable;
  activations: ActivationsTable;
  merchants: MerchantsTable;
  api_keys: ApiKeysTable;
  locations: LocationsTable;
  location_mids: LocationMidsTable;
  offers: OffersTable;
  offer_locations: OfferLocationsTable;
  posts: PostsTable;
}

export type MerchantRow = Selectable<MerchantsTable>;
export type ApiKeyRow = Selectable<ApiKeysTable>;
export type LocationRow = Selectable<LocationsTable>;
export type LocationMidRow = Selectable<LocationMidsTable>;
export type OfferRow = Selectable<OffersTable>;
export type NewOffer = Insertable<OffersTable>;
export type OfferUpdate = Updateable<OffersTable>;
export type PostRow = Selectable<PostsTable>;
export type UserRow = Selectable<UsersTable>;
export type CardRow = Selectable<CardsTable>;
export type ActivationRow = Selectable<ActivationsTable>;
