/**
 * Database types as the application reads and writes them (bigint columns arrive as numbers:
 * the Database factory parses int8 with a safe-integer check).
 */
import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type CreatedAt = ColumnType<Date, Date | string | undefined, never>;

export type MerchantStatus = 'PENDING' | 'APPROVED' | 'SUSPENDED';
export type ApiKeyRole = 'ADMIN' | 'MERCHANT' | 'PARTNER';
export type PartnerStatus = 'ACTIVE' | 'SUSPENDED';
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
  /** Where the platform writes to the merchant (e.g. an endpoint it disabled); never shown publicly. */
  contact_email: string | null;
  status: ColumnType<MerchantStatus, MerchantStatus | undefined, MerchantStatus>;
  created_at: CreatedAt;
  updated_at: Timestamp;
}

export interface PartnersTable {
  id: Generated<string>;
  name: string;
  scopes: ColumnType<string[], string[] | undefined, string[]>;
  /** Where the platform writes to the partner (e.g. an endpoint it disabled). */
  contact_email: string | null;
  status: ColumnType<PartnerStatus, PartnerStatus | undefined, PartnerStatus>;
  created_at: CreatedAt;
  updated_at: Timestamp;
}

export interface ApiKeysTable {
  id: Generated<string>;
  name: string;
  role: ApiKeyRole;
  merchant_id: string | null;
  /** The PARTNER key's partner. */
  partner_id: string | null;
  /** Empty for ADMIN and MERCHANT keys; for a PARTNER key the scopes it narrows its partner's to, or null for all of them. */
  scopes: ColumnType<string[] | null, string[] | null | undefined, string[] | null>;
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
  /** The buy hashtag of a PURCHASE offer, e.g. "#BuyGiftCard25". */
  hashtag: string | null;
  /** A PURCHASE offer's confirm hashtag, e.g. "#ConfirmGiftCard25". */
  confirm_hashtag: string | null;
  confirm_window_minutes: number | null;
  /** A CASHBACK offer's hashtag that activates it ("Get Offer" by post). */
  activation_hashtag: string | null;
  /** Units held by open purchase intents (not available, not sold yet). */
  quantity_held: ColumnType<number, number | undefined, number>;
  reward_rank: ColumnType<number, never, never>;
  announced_live: ColumnType<boolean, boolean | undefined, boolean>;
  announced_ended: ColumnType<boolean, boolean | undefined, boolean>;
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

export type TransactionType = 'AUTH' | 'CLEARING' | 'REFUND';
export type TransactionOutcome = 'QUALIFIED' | 'NOT_QUALIFIED';
export type CashbackStatus = 'PENDING' | 'CONFIRMED' | 'CREDITED' | 'REVERSED';
export type LedgerAccount = 'OFFER_BUDGET' | 'CASHBACK_PAYABLE' | 'CREDITS_ISSUED' | 'CLAWBACK_RECEIVABLE' | 'CARD_CHARGES' | 'MERCHANT_PAYABLE';
export type LedgerKind = 'RESERVE' | 'ADJUST' | 'RELEASE' | 'CREDIT' | 'CLAWBACK' | 'CHARGE' | 'REFUND';
export type StatementCreditStatus = 'PENDING' | 'ISSUED' | 'FAILED' | 'CANCELLED';
export type EmailKind = 'CASHBACK_CONFIRMED' | 'CASHBACK_CREDITED' | 'WEBHOOK_ENDPOINT_DISABLED' | 'PURCHASE_STARTED' | 'PURCHASE_DECLINED' | 'ORDER_RECEIPT' | 'ORDER_FULFILLED' | 'ORDER_REFUNDED';
export type EmailStatus = 'QUEUED' | 'SENT' | 'FAILED';

export interface IdempotencyKeysTable {
  principal: string;
  key: string;
  operation: string;
  request_hash: string;
  response: ColumnType<unknown, string | null, string>;
  created_at: CreatedAt;
}

export interface TransactionsTable {
  id: string;
  partner_id: string;
  external_id: string;
  type: TransactionType;
  network: CardNetwork;
  mid: string;
  location_id: string | null;
  card_id: string | null;
  user_id: string | null;
  amount: number;
  currency: string;
  occurred_at: Timestamp;
  auth_external_id: string | null;
  original_external_id: string | null;
  outcome: TransactionOutcome;
  reason: string | null;
  cashback_id: string | null;
  created_at: CreatedAt;
}

export interface CashbacksTable {
  id: string;
  user_id: string;
  card_id: string;
  offer_id: string;
  merchant_id: string;
  purchase_transaction_id: string;
  status: CashbackStatus;
  currency: string;
  purchase_amount: number;
  refunded_amount: ColumnType<number, number | undefined, number>;
  granted_amount: number;
  amount: number;
  credited_amount: ColumnType<number, number | undefined, number>;
  clawback_amount: ColumnType<number, number | undefined, number>;
  reason: string | null;
  occurred_at: Timestamp;
  expires_at: Date | null;
  expected_credit_at: Timestamp;
  created_at: CreatedAt;
  updated_at: Timestamp;
}

export interface CashbackChangesTable {
  id: Generated<number>;
  cashback_id: string;
  type: 'PENDING' | 'CONFIRMED' | 'REVERSED' | 'CREDITED';
  status: CashbackStatus;
  amount: number;
  reason: string | null;
  transaction_id: string | null;
  at: CreatedAt;
}

export interface LedgerEntriesTable {
  id: Generated<number>;
  posting_id: string;
  kind: LedgerKind;
  account: LedgerAccount;
  account_id: string | null;
  amount: number;
  currency: string;
  /** What the posting moves money for: a record kind (`Cashback`, …) and its id. */
  subject_type: string;
  subject_id: string;
  created_at: CreatedAt;
}

export interface StatementCreditsTable {
  id: Generated<string>;
  cashback_id: string;
  card_id: string;
  amount: number;
  currency: string;
  status: ColumnType<StatementCreditStatus, StatementCreditStatus | undefined, StatementCreditStatus>;
  reference: string | null;
  attempts: ColumnType<number, number | undefined, number>;
  created_at: CreatedAt;
  updated_at: Timestamp;
  settled_at: Date | null;
}

export interface EmailsTable {
  id: Generated<string>;
  /** The user it is written to; null for a merchant's or partner's contact address. */
  user_id: string | null;
  kind: EmailKind;
  /** What the e-mail tells about, e.g. ('Cashback', id): one e-mail per (kind, subject). */
  subject_type: string;
  subject_id: string;
  recipient: string;
  subject: string;
  body: string;
  /** The message's state for the user; its delivery (attempts, lease, errors) is its job in `queued_jobs`. */
  status: ColumnType<EmailStatus, EmailStatus | undefined, EmailStatus>;
  sent_at: Date | null;
  created_at: CreatedAt;
}

export type JobStatus = 'QUEUED' | 'RUNNING' | 'DONE' | 'DEAD';

export interface QueuedJobsTable {
  id: Generated<string>;
  queue: string;
  /** Unique per queue: enqueuing the same key twice is a no-op. */
  key: string;
  /** Identifiers only: never a secret or card data. */
  payload: ColumnType<Record<string, unknown>, string | undefined, string>;
  status: ColumnType<JobStatus, JobStatus | undefined, JobStatus>;
  attempts: ColumnType<number, number | undefined, number>;
  /** Null: the queue worker's default. */
  max_attempts: number | null;
  run_at: Timestamp;
  lease_token: string | null;
  leased_until: Date | null;
  last_error: string | null;
  created_at: CreatedAt;
  updated_at: Timestamp;
  finished_at: Date | null;
}


export interface EventsTable {
  id: Generated<number>;
  position: number | null;
  /** A topic of the outbox's registry (src/events/topics.ts), e.g. OFFER, CASHBACK. */
  topic: string;
  type: string;
  /** What the event is about: a record kind (`Offer`, `Cashback`, …) and its id. */
  subject_type: string;
  subject_id: string;
  /** The audience besides admins: the merchant and the user who may read the event. */
  merchant_id: string | null;
  user_id: string | null;
  data: ColumnType<Record<string, unknown>, string | undefined, string>;
  created_at: CreatedAt;
}

export type SocialPlatform = 'X' | 'INSTAGRAM';
export type SocialAccountStatus = 'VERIFIED' | 'MOVED' | 'UNLINKED';
export type PostOutcome = 'VERIFIED_HANDLE' | 'INTENT_CREATED' | 'ORDER_PLACED' | 'PAYMENT_PENDING' | 'OFFER_ACTIVATED' | 'IGNORED' | 'REJECTED';
export type HashtagBuying = 'OFF' | 'CONFIRM_BY_POST' | 'CONFIRM_IN_APP';
export type PurchaseIntentStatus = 'AWAITING_CONFIRMATION' | 'CONFIRMED' | 'CHARGED' | 'DECLINED' | 'EXPIRED' | 'CANCELLED';
export type OrderStatus = 'PAID' | 'FULFILLED' | 'REFUNDED';

/** A verified social handle of a user; one VERIFIED owner per (platform, handle). */
export interface SocialAccountsTable {
  id: Generated<string>;
  user_id: string;
  platform: SocialPlatform;
  /** Normalised: lower case, without "@". */
  handle: string;
  status: ColumnType<SocialAccountStatus, SocialAccountStatus | undefined, SocialAccountStatus>;
  verified_at: Timestamp;
  ended_at: Date | null;
  created_at: CreatedAt;
}

/** A code a user must post from a handle to prove it. */
export interface HandleVerificationsTable {
  id: Generated<string>;
  user_id: string;
  platform: SocialPlatform;
  handle: string;
  code: string;
  expires_at: Date;
  verified_at: Date | null;
  created_at: CreatedAt;
}

/** A post a social partner delivered (text redacted), and what it did. */
export interface SocialPostsTable {
  id: Generated<string>;
  partner_id: string;
  platform: SocialPlatform;
  post_id: string;
  author_handle: string;
  text: string;
  posted_at: Date;
  in_reply_to_post_id: string | null;
  url: string | null;
  outcome: PostOutcome;
  reason: string | null;
  offer_id: string | null;
  intent_id: string | null;
  created_at: CreatedAt;
}

/** What the platform should post back, for the partner that delivered the post it answers. */
export interface SocialRepliesTable {
  id: Generated<string>;
  position: ColumnType<number, never, never>;
  partner_id: string;
  platform: SocialPlatform;
  in_reply_to_post_id: string;
  kind: string;
  text: string;
  subject_type: string;
  subject_id: string;
  platform_post_id: string | null;
  acknowledged_at: Date | null;
  created_at: CreatedAt;
}

export interface HashtagSettingsTable {
  user_id: string;
  buying: ColumnType<HashtagBuying, HashtagBuying | undefined, HashtagBuying>;
  /** Minor units per day in the currency of each purchase; null: no limit. */
  daily_limit: number | null;
  updated_at: Timestamp;
}

export interface PurchaseIntentsTable {
  id: Generated<string>;
  offer_id: string;
  merchant_id: string;
  user_id: string;
  card_id: string;
  social_account_id: string | null;
  partner_id: string | null;
  platform: SocialPlatform | null;
  /** The platform's ids of the buy and confirm posts. */
  buy_post_id: string | null;
  confirm_post_id: string | null;
  price: number;
  currency: string;
  status: ColumnType<PurchaseIntentStatus, PurchaseIntentStatus | undefined, PurchaseIntentStatus>;
  reason: string | null;
  confirmed_via: 'POST' | 'APP' | null;
  expires_at: Date;
  confirmed_at: Date | null;
  settled_at: Date | null;
  created_at: CreatedAt;
  updated_at: Timestamp;
}

export interface OrdersTable {
  id: Generated<string>;
  intent_id: string;
  offer_id: string;
  merchant_id: string;
  user_id: string;
  card_id: string;
  amount: number;
  currency: string;
  status: ColumnType<OrderStatus, OrderStatus | undefined, OrderStatus>;
  payment_reference: string;
  refund_reference: string | null;
  fulfilled_at: Date | null;
  refunded_at: Date | null;
  created_at: CreatedAt;
  updated_at: Timestamp;
}

/** A rate-limit window: points taken by one (budget, key) until `expire` (ms since the epoch). */
export interface RateLimitsTable {
  key: string;
  points: number;
  expire: number | null;
}

export type WebhookEndpointStatus = 'ENABLED' | 'DISABLED';
export type WebhookDeliveryStatus = 'PENDING' | 'DELIVERED' | 'FAILED';

/** An endpoint of one owner (a merchant or a partner); its secrets are sealed under the card key ring. */
export interface WebhookEndpointsTable {
  id: Generated<string>;
  merchant_id: string | null;
  partner_id: string | null;
  url: string;
  description: ColumnType<string, string | undefined, string>;
  /** Dotted event types it receives; empty: every type its owner may read. */
  event_types: ColumnType<string[], string[] | undefined, string[]>;
  status: ColumnType<WebhookEndpointStatus, WebhookEndpointStatus | undefined, WebhookEndpointStatus>;
  disabled_reason: string | null;
  secret_key_id: string;
  secret_ciphertext: string;
  previous_secret_key_id: string | null;
  previous_secret_ciphertext: string | null;
  previous_secret_expires_at: Date | null;
  /** Last event position the dispatcher looked at (bigint: read back as a string by pg). */
  cursor: ColumnType<string | number, string | number | undefined, string | number>;
  generation: ColumnType<number, number | undefined, number>;
  failing_since: Date | null;
  created_at: CreatedAt;
  updated_at: Timestamp;
}

/** One message to one endpoint, sent by the `webhooks` queue (job key: its id). */
export interface WebhookDeliveriesTable {
  id: Generated<string | number>;
  endpoint_id: string;
  event_id: number | null;
  event_position: number | string | null;
  generation: ColumnType<number, number | undefined, number>;
  /** The `webhook-id` header: the same on every attempt. */
  message_id: string;
  event_type: string;
  /** The exact JSON body sent (and signed) on every attempt. */
  body: string;
  status: ColumnType<WebhookDeliveryStatus, WebhookDeliveryStatus | undefined, WebhookDeliveryStatus>;
  attempts: ColumnType<number, number | undefined, number>;
  created_at: CreatedAt;
  finished_at: Date | null;
}

export interface WebhookAttemptsTable {
  id: Generated<string | number>;
  delivery_id: string | number;
  attempted_at: Date;
  http_status: number | null;
  duration_ms: number;
  error: string | null;
  response_body: string | null;
}

export type SandboxChargeStatus = 'APPROVED' | 'DECLINED' | 'RETRYABLE';
export type SandboxRefundStatus = 'APPROVED' | 'DECLINED';

/** The sandbox gateway's charge per idempotency key (src/modules/payments): last 4 digits only, never the number. */
export interface SandboxChargesTable {
  id: Generated<string>;
  idempotency_key: string;
  amount: number;
  currency: string;
  card_last4: string;
  network: string;
  /** APPROVED and DECLINED are final; RETRYABLE charged nothing and is tried again by a retry with the key. */
  status: SandboxChargeStatus;
  decline_code: string | null;
  attempts: ColumnType<number, number | undefined, number>;
  reference: string | null;
  /** What its approved refunds add up to (at most `amount`). */
  refunded_amount: ColumnType<number, number | undefined, number>;
  created_at: CreatedAt;
  updated_at: Timestamp;
}

/** The sandbox gateway's refund per idempotency key; `charge_id` is null when it named no known charge. */
export interface SandboxRefundsTable {
  id: Generated<string>;
  idempotency_key: string;
  charge_id: string | null;
  charge_reference: string;
  amount: number;
  currency: string;
  status: SandboxRefundStatus;
  decline_code: string | null;
  reference: string | null;
  created_at: CreatedAt;
  updated_at: Timestamp;
}

export interface DB {
  sandbox_charges: SandboxChargesTable;
  sandbox_refunds: SandboxRefundsTable;
  webhook_endpoints: WebhookEndpointsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  webhook_attempts: WebhookAttemptsTable;
  events: EventsTable;
  idempotency_keys: IdempotencyKeysTable;
  transactions: TransactionsTable;
  cashbacks: CashbacksTable;
  cashback_changes: CashbackChangesTable;
  ledger_entries: LedgerEntriesTable;
  statement_credits: StatementCreditsTable;
  emails: EmailsTable;
  social_accounts: SocialAccountsTable;
  handle_verifications: HandleVerificationsTable;
  social_posts: SocialPostsTable;
  social_replies: SocialRepliesTable;
  hashtag_settings: HashtagSettingsTable;
  purchase_intents: PurchaseIntentsTable;
  orders: OrdersTable;
  queued_jobs: QueuedJobsTable;
  users: UsersTable;
  login_attempts: LoginAttemptsTable;
  cards: CardsTable;
  activations: ActivationsTable;
  merchants: MerchantsTable;
  api_keys: ApiKeysTable;
  partners: PartnersTable;
  locations: LocationsTable;
  location_mids: LocationMidsTable;
  offers: OffersTable;
  offer_locations: OfferLocationsTable;
  posts: PostsTable;
  rate_limits: RateLimitsTable;
}

export type MerchantRow = Selectable<MerchantsTable>;
export type ApiKeyRow = Selectable<ApiKeysTable>;
export type PartnerRow = Selectable<PartnersTable>;
export type LocationRow = Selectable<LocationsTable>;
export type LocationMidRow = Selectable<LocationMidsTable>;
export type OfferRow = Selectable<OffersTable>;
export type NewOffer = Insertable<OffersTable>;
export type OfferUpdate = Updateable<OffersTable>;
export type PostRow = Selectable<PostsTable>;
export type UserRow = Selectable<UsersTable>;
export type CardRow = Selectable<CardsTable>;
export type ActivationRow = Selectable<ActivationsTable>;
export type TransactionRow = Selectable<TransactionsTable>;
export type NewTransaction = Insertable<TransactionsTable>;
export type CashbackRow = Selectable<CashbacksTable>;
export type NewCashback = Insertable<CashbacksTable>;
export type CashbackChangeRow = Selectable<CashbackChangesTable>;
export type NewCashbackChange = Insertable<CashbackChangesTable>;
export type NewLedgerEntry = Insertable<LedgerEntriesTable>;
export type LedgerEntryRow = Selectable<LedgerEntriesTable>;
export type StatementCreditRow = Selectable<StatementCreditsTable>;
export type EmailRow = Selectable<EmailsTable>;
export type NewEmail = Insertable<EmailsTable>;
export type SocialAccountRow = Selectable<SocialAccountsTable>;
export type SocialPostRow = Selectable<SocialPostsTable>;
export type SocialReplyRow = Selectable<SocialRepliesTable>;
export type HashtagSettingsRow = Selectable<HashtagSettingsTable>;
export type PurchaseIntentRow = Selectable<PurchaseIntentsTable>;
export type OrderRow = Selectable<OrdersTable>;
export type QueuedJobRow = Selectable<QueuedJobsTable>;
export type EventRow = Selectable<EventsTable>;
export type NewEvent = Insertable<EventsTable>;
export type WebhookEndpointRow = Selectable<WebhookEndpointsTable>;
export type WebhookDeliveryRow = Selectable<WebhookDeliveriesTable>;
export type WebhookAttemptRow = Selectable<WebhookAttemptsTable>;
export type SandboxChargeRow = Selectable<SandboxChargesTable>;
export type SandboxRefundRow = Selectable<SandboxRefundsTable>;
