/* eslint-disable */
/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';
/** Input of activatePartner. */
export type ActivatePartnerInput = {
  /** Makes the call safe to retry: 1 to 200 characters of your choosing (e.g. a UUID). A replay with the same key and input returns the first answer and changes nothing, even if that answer was lost; the same key with another input is refused with IDEMPOTENCY_KEY_REUSED. Keys belong to the caller (a partner shares them across its API keys) and are never forgotten. */
  idempotencyKey?: string | null | undefined;
  /** Global id of the partner. */
  partnerId: string | number;
};

/** What an API key may do. */
export type ApiKeyRole =
  /** Approves merchants and manages keys. */
  | 'ADMIN'
  /** Manages one merchant's locations and offers. */
  | 'MERCHANT'
  /** One of a partner's keys (a card network, processor or social platform); acts for the partner with its scopes. */
  | 'PARTNER';

/** Input of approveMerchant. */
export type ApproveMerchantInput = {
  /** Makes the call safe to retry: 1 to 200 characters of your choosing (e.g. a UUID). A replay with the same key and input returns the first answer and changes nothing, even if that answer was lost; the same key with another input is refused with IDEMPOTENCY_KEY_REUSED. Keys belong to the caller (a partner shares them across its API keys) and are never forgotten. */
  idempotencyKey?: string | null | undefined;
  /** Global id of the merchant. */
  merchantId: string | number;
};

/** A card network. */
export type CardNetwork =
  /** American Express. */
  | 'AMEX'
  /** Discover. */
  | 'DISCOVER'
  /** Mastercard. */
  | 'MASTERCARD'
  /** Visa. */
  | 'VISA';

/** Where a purchase happens. */
export type Channel =
  /** At a physical point of sale. */
  | 'IN_STORE'
  /** Online or in an app. */
  | 'ONLINE';

/** Input of createApiKey. */
export type CreateApiKeyInput = {
  /** Makes the call safe to retry: 1 to 200 characters of your choosing (e.g. a UUID). A replay with the same key and input returns the first answer and changes nothing, even if that answer was lost; the same key with another input is refused with IDEMPOTENCY_KEY_REUSED. Keys belong to the caller (a partner shares them across its API keys) and are never forgotten. */
  idempotencyKey?: string | null | undefined;
  /** The merchant a MERCHANT key acts for (required for MERCHANT). */
  merchantId?: string | number | null | undefined;
  /** What the key is for, 1 to 120 characters. */
  name: string;
  /** The partner a PARTNER key belongs to (required for PARTNER); it must be ACTIVE. */
  partnerId?: string | number | null | undefined;
  /** What the key may do. */
  role: ApiKeyRole;
  /** Only for a PARTNER key: narrows it to these of its partner's scopes (each must be one the partner holds; an empty list makes a key that only reads). Omitted, the key holds all of the partner's scopes, as they are. */
  scopes?: Array<PartnerScope> | null | undefined;
};

/** Input of createLocation. */
export type CreateLocationInput = {
  /** Street address, up to 300 characters. */
  address?: string | null | undefined;
  /** In store or online. */
  channel: Channel;
  /** ISO 3166-1 alpha-2 country code. */
  country: string;
  /** Makes the call safe to retry: 1 to 200 characters of your choosing (e.g. a UUID). A replay with the same key and input returns the first answer and changes nothing, even if that answer was lost; the same key with another input is refused with IDEMPOTENCY_KEY_REUSED. Keys belong to the caller (a partner shares them across its API keys) and are never forgotten. */
  idempotencyKey?: string | null | undefined;
  /** Merchant ids on card networks (up to 20). */
  mids?: Array<MerchantIdInput> | null | undefined;
  /** Display name, 1 to 120 characters. */
  name: string;
  /** IANA time zone, e.g. "America/New_York". */
  timezone: string;
};

/** A new merchant, PENDING until approved. */
export type CreateMerchantInput = {
  /** Business category, 1 to 60 characters. */
  category: string;
  /** Where the platform writes to the merchant, e.g. when it disables one of its webhook endpoints. */
  contactEmail?: string | null | undefined;
  /** ISO 3166-1 alpha-2 country code. */
  country: string;
  /** Makes the call safe to retry: 1 to 200 characters of your choosing (e.g. a UUID). A replay with the same key and input returns the first answer and changes nothing, even if that answer was lost; the same key with another input is refused with IDEMPOTENCY_KEY_REUSED. Keys belong to the caller (a partner shares them across its API keys) and are never forgotten. */
  idempotencyKey?: string | null | undefined;
  /** Display name, 1 to 120 characters. */
  name: string;
  /** Social handle, with or without "@". */
  socialHandle?: string | null | undefined;
};

/** Input of createOffer. Amounts are integer minor units of `currency`. */
export type CreateOfferInput = {
  /** Hashtag that activates it when posted from a verified handle (CASHBACK). */
  activationHashtag?: string | null | undefined;
  /** Consumers must tap "Get Offer" first (default false). */
  activationRequired?: boolean | null | undefined;
  /** Total reward money in minor units (required for cashback). */
  budget?: number | null | undefined;
  /** Channels (default: both). */
  channels?: Array<Channel> | null | undefined;
  /** Hashtag that confirms a purchase (PURCHASE; default: #BuyX gives #ConfirmX). */
  confirmHashtag?: string | null | undefined;
  /** Minutes to confirm a purchase, 1 to 60 (PURCHASE; default 15). */
  confirmWindowMinutes?: number | null | undefined;
  /** Countries (default: the merchant's country). */
  countries?: Array<string> | null | undefined;
  /** ISO 4217 currency of every amount. */
  currency: string;
  /** Days it applies; empty or absent means every day. */
  daysOfWeek?: Array<DayOfWeek> | null | undefined;
  /** Details and terms, up to 2000 characters. */
  description?: string | null | undefined;
  /** End of the window, after startsAt. */
  endsAt: string;
  /** Hashtag that buys it, e.g. "#BuyGiftCard25" (PURCHASE). */
  hashtag?: string | null | undefined;
  /** Makes the call safe to retry: 1 to 200 characters of your choosing (e.g. a UUID). A replay with the same key and input returns the first answer and changes nothing, even if that answer was lost; the same key with another input is refused with IDEMPOTENCY_KEY_REUSED. Keys belong to the caller (a partner shares them across its API keys) and are never forgotten. */
  idempotencyKey?: string | null | undefined;
  /** Cashback or purchase; cannot change later. */
  kind: OfferKind;
  /** Your locations where it applies; at least one before publishing. */
  locationIds?: Array<string | number> | null | undefined;
  /** Cap per purchase in minor units (PERCENT). */
  maxReward?: number | null | undefined;
  /** Smallest qualifying purchase in minor units. */
  minSpend?: number | null | undefined;
  /** Rewarded purchases (CASHBACK) or units bought (PURCHASE) per consumer, 1 to 1000. */
  perUserLimit?: number | null | undefined;
  /** Price in minor units (PURCHASE). */
  price?: number | null | undefined;
  /** Stock (PURCHASE). */
  quantity?: number | null | undefined;
  /** Days cashback is held for returns, 0 to 365 (default 0). */
  returnPeriodDays?: number | null | undefined;
  /** Reward in minor units (FIXED). */
  rewardAmount?: number | null | undefined;
  /** Percentage in basis points, 1 to 10000 (PERCENT). */
  rewardBasisPoints?: number | null | undefined;
  /** PERCENT or FIXED (cashback offers). */
  rewardType?: RewardType | null | undefined;
  /** Start of the window (default: now). */
  startsAt?: string | null | undefined;
  /** Headline, 1 to 120 characters. */
  title: string;
};

/** Input of createPartner. */
export type CreatePartnerInput = {
  /** Where the platform writes to the partner, e.g. when it disables one of its webhook endpoints. */
  contactEmail?: string | null | undefined;
  /** Makes the call safe to retry: 1 to 200 characters of your choosing (e.g. a UUID). A replay with the same key and input returns the first answer and changes nothing, even if that answer was lost; the same key with another input is refused with IDEMPOTENCY_KEY_REUSED. Keys belong to the caller (a partner shares them across its API keys) and are never forgotten. */
  idempotencyKey?: string | null | undefined;
  /** Display name, 1 to 120 characters. */
  name: string;
  /** What the partner may do (may be empty). */
  scopes: Array<PartnerScope>;
};

/** A day of the week, in the location's time zone. */
export type DayOfWeek =
  /** Friday. */
  | 'FRIDAY'
  /** Monday. */
  | 'MONDAY'
  /** Saturday. */
  | 'SATURDAY'
  /** Sunday. */
  | 'SUNDAY'
  /** Thursday. */
  | 'THURSDAY'
  /** Tuesday. */
  | 'TUESDAY'
  /** Wednesday. */
  | 'WEDNESDAY';

/** Why a mutation refused its input. The list is closed: clients can switch on it. */
export type ErrorCode =
  /** You have already linked this card. */
  | 'CARD_ALREADY_LINKED'
  /** The card has expired. */
  | 'CARD_EXPIRED'
  /** The field holds what looks like a card number (a Luhn-valid run of 13 to 19 digits); card numbers are accepted only where a card number is asked for. */
  | 'CARD_NUMBER_NOT_ALLOWED'
  /** This card cannot be linked. */
  | 'CARD_UNAVAILABLE'
  /** The offer is not available in the user's country. */
  | 'COUNTRY_NOT_ELIGIBLE'
  /** An account with this e-mail already exists. */
  | 'EMAIL_TAKEN'
  /** The field cannot change once the offer is published. */
  | 'FIELD_LOCKED'
  /** The caller's role may not perform this operation. */
  | 'FORBIDDEN'
  /** Hashtag buying is off for this user (updateHashtagSettings turns it on). */
  | 'HASHTAG_BUYING_OFF'
  /** Another published purchase offer uses the hashtag. */
  | 'HASHTAG_TAKEN'
  /** The idempotency key was already used with a different input. */
  | 'IDEMPOTENCY_KEY_REUSED'
  /** The purchase intent was not confirmed within its confirm window; its unit went back to stock. */
  | 'INTENT_EXPIRED'
  /** The purchase intent is no longer awaiting confirmation (confirmed, charged, declined, expired or cancelled). */
  | 'INTENT_NOT_OPEN'
  /** The card number is malformed or fails its check digit. */
  | 'INVALID_CARD_NUMBER'
  /** Not an ISO 3166-1 alpha-2 country code. */
  | 'INVALID_COUNTRY'
  /** The e-mail or the password is not right. */
  | 'INVALID_CREDENTIALS'
  /** Not an ISO 4217 currency code. */
  | 'INVALID_CURRENCY'
  /** The end of a time window is not after its start. */
  | 'INVALID_DATE_RANGE'
  /** Not an e-mail address. */
  | 'INVALID_EMAIL'
  /** Not a valid handle for the platform. */
  | 'INVALID_HANDLE'
  /** The id is malformed or names another type. */
  | 'INVALID_ID'
  /** The value is not acceptable (format, combination or a rule of the field). */
  | 'INVALID_INPUT'
  /** A text or list is shorter or longer than allowed. */
  | 'INVALID_LENGTH'
  /** The object is not in a state that allows the operation. */
  | 'INVALID_STATE'
  /** Not an IANA time zone name. */
  | 'INVALID_TIMEZONE'
  /** The merchant is not approved. */
  | 'MERCHANT_NOT_APPROVED'
  /** The merchant id is already registered on that card network. */
  | 'MID_TAKEN'
  /** Nothing with that id exists that the caller may see. */
  | 'NOT_FOUND'
  /** Link a card first. */
  | 'NO_CARD_LINKED'
  /** The offer has no locations to be used at. */
  | 'OFFER_HAS_NO_LOCATIONS'
  /** The order was already refunded; an order is refunded once. */
  | 'ORDER_ALREADY_REFUNDED'
  /** Only a paid order can be fulfilled (it is fulfilled or refunded already). */
  | 'ORDER_NOT_PAID'
  /** A number is outside its allowed range. */
  | 'OUT_OF_RANGE'
  /** The partner is suspended: it cannot be issued keys, and its keys do not work. */
  | 'PARTNER_SUSPENDED'
  /** The payment gateway did not answer; try again (the same operation never moves money twice). */
  | 'PAYMENT_GATEWAY_UNAVAILABLE'
  /** The post already carries another offer. */
  | 'POST_HAS_OTHER_OFFER'
  /** Too many attempts; try again later. */
  | 'RATE_LIMITED'
  /** The payment gateway declined the refund. */
  | 'REFUND_DECLINED'
  /** A partner key may only narrow its partner's scopes, not add others. */
  | 'SCOPE_NOT_HELD'
  /** The operation needs credentials. */
  | 'UNAUTHENTICATED'
  /** The card is not Visa, Mastercard, American Express or Discover. */
  | 'UNSUPPORTED_CARD_NETWORK'
  /** The password is too short. */
  | 'WEAK_PASSWORD'
  /** The endpoint host is, or resolves to, a private, loopback, link-local or metadata address. */
  | 'WEBHOOK_ADDRESS_NOT_ALLOWED'
  /** Not an event type of webhookEventTypes. */
  | 'WEBHOOK_EVENT_TYPE_UNKNOWN'
  /** The endpoint URL is not an https URL (http only where private networks are allowed), carries credentials, or does not resolve. */
  | 'WEBHOOK_URL_INVALID';

/** A merchant id (MID) on a card network; unique per network. */
export type MerchantIdInput = {
  /** 1 to 32 letters, digits or dashes. */
  mid: string;
  /** The card network. */
  network: CardNetwork;
};

/** Where a merchant is in review. Only APPROVED merchants and their offers are public. */
export type MerchantStatus =
  /** Reviewed; its published offers are public. */
  | 'APPROVED'
  /** Created, awaiting review; invisible to the public. */
  | 'PENDING'
  /** Taken off the platform; its offers are hidden. */
  | 'SUSPENDED';

/** Narrows the offer list; every given condition must hold. */
export type OfferFilter = {
  /** Only offers valid in this channel. */
  channel?: Channel | null | undefined;
  /** Only offers valid in this ISO 3166-1 alpha-2 country. */
  country?: string | null | undefined;
  /** Only offers of this kind. */
  kind?: OfferKind | null | undefined;
  /** Only offers whose window contains this instant. */
  liveAt?: string | null | undefined;
  /** Only offers of this merchant. */
  merchantId?: string | number | null | undefined;
  /** Words in the title, description or merchant name (up to 100 characters). */
  search?: string | null | undefined;
};

/** What an offer is. */
export type OfferKind =
  /** Card-linked: a purchase with a linked card earns a reward. */
  | 'CASHBACK'
  /** Bought by hashtag: a post with the hashtag buys it with the linked card. */
  | 'PURCHASE';

/** How to sort the offer list. */
export type OfferOrder =
  /** Highest reward rate first: a percentage as such, a fixed reward as its share of the minimum spend (100% without one); purchase offers last. */
  | 'BEST_REWARD'
  /** Soonest end first. */
  | 'ENDING_SOON'
  /** Most recently created first. */
  | 'NEWEST';

/** Where an offer is in its life, as of the moment it is read. */
export type OfferStatus =
  /** Being prepared; only its merchant sees it. */
  | 'DRAFT'
  /** Its budget or stock is used up. */
  | 'EXHAUSTED'
  /** Past its end. */
  | 'EXPIRED'
  /** Published and running now. */
  | 'LIVE'
  /** Stopped by its merchant for now. */
  | 'PAUSED'
  /** Published, starts later. */
  | 'SCHEDULED';

/** What a partner, and each of its keys, may do. */
export type PartnerScope =
  /** List and settle statement credits. */
  | 'CREDITS_WRITE'
  /** Post social posts. */
  | 'POSTS_WRITE'
  /** Post card transactions. */
  | 'TRANSACTIONS_WRITE';

/** Whether a partner may act. */
export type PartnerStatus =
  /** Its keys that are not revoked work. */
  | 'ACTIVE'
  /** Every one of its keys is refused (HTTP 401); its records stay. */
  | 'SUSPENDED';

/** Input of publishOffer. */
export type PublishOfferInput = {
  /** Makes the call safe to retry: 1 to 200 characters of your choosing (e.g. a UUID). A replay with the same key and input returns the first answer and changes nothing, even if that answer was lost; the same key with another input is refused with IDEMPOTENCY_KEY_REUSED. Keys belong to the caller (a partner shares them across its API keys) and are never forgotten. */
  idempotencyKey?: string | null | undefined;
  /** Global id of one of your offers. */
  offerId: string | number;
};

/** Input of revokeApiKey. */
export type RevokeApiKeyInput = {
  /** Global id of the key. */
  apiKeyId: string | number;
  /** Makes the call safe to retry: 1 to 200 characters of your choosing (e.g. a UUID). A replay with the same key and input returns the first answer and changes nothing, even if that answer was lost; the same key with another input is refused with IDEMPOTENCY_KEY_REUSED. Keys belong to the caller (a partner shares them across its API keys) and are never forgotten. */
  idempotencyKey?: string | null | undefined;
};

/** How a cashback reward is computed. */
export type RewardType =
  /** A fixed amount of money. */
  | 'FIXED'
  /** A share of the amount in basis points (1000 = 10%), rounded down, optionally capped by maxReward. */
  | 'PERCENT';

/** Input of suspendPartner. */
export type SuspendPartnerInput = {
  /** Makes the call safe to retry: 1 to 200 characters of your choosing (e.g. a UUID). A replay with the same key and input returns the first answer and changes nothing, even if that answer was lost; the same key with another input is refused with IDEMPOTENCY_KEY_REUSED. Keys belong to the caller (a partner shares them across its API keys) and are never forgotten. */
  idempotencyKey?: string | null | undefined;
  /** Global id of the partner. */
  partnerId: string | number;
};

export type CreateMerchantMutationVariables = Exact<{
  input: CreateMerchantInput;
}>;


export type CreateMerchantMutation = { createMerchant: { merchant: { id: string, name: string, status: MerchantStatus, country: string } | null, userErrors: Array<{ field: Array<string> | null, message: string, code: ErrorCode }> } };

export type ApproveMerchantMutationVariables = Exact<{
  input: ApproveMerchantInput;
}>;


export type ApproveMerchantMutation = { approveMerchant: { merchant: { id: string, status: MerchantStatus } | null, userErrors: Array<{ field: Array<string> | null, message: string, code: ErrorCode }> } };

export type CreateApiKeyMutationVariables = Exact<{
  input: CreateApiKeyInput;
}>;


export type CreateApiKeyMutation = { createApiKey: { secret: string | null, apiKey: { id: string, role: ApiKeyRole, prefix: string, scopes: Array<PartnerScope> } | null, userErrors: Array<{ field: Array<string> | null, message: string, code: ErrorCode }> } };

export type OffersPageQueryVariables = Exact<{
  first: number;
  after?: string | null | undefined;
  filter?: OfferFilter | null | undefined;
  orderBy?: OfferOrder | null | undefined;
}>;


export type OffersPageQuery = { offers: { edges: Array<{ cursor: string, node: { id: string, title: string, status: OfferStatus, rewardSummary: string, endsAt: string, merchant: { id: string, name: string } } }>, pageInfo: { hasNextPage: boolean, endCursor: string | null } } };

export type OffersForPostsQueryVariables = Exact<{
  postIds: Array<string | number> | string | number;
}>;


export type OffersForPostsQuery = { offersForPosts: Array<{ postId: string, offer: { id: string, title: string, rewardSummary: string, merchant: { name: string } } | null }> };

export type OfferDetailQueryVariables = Exact<{
  id: string | number;
}>;


export type OfferDetailQuery = { offer: { id: string, kind: OfferKind, status: OfferStatus, title: string, currency: string, rewardType: RewardType | null, rewardBasisPoints: number | null, startsAt: string, endsAt: string, daysOfWeek: Array<DayOfWeek>, channels: Array<Channel>, countries: Array<string>, activationRequired: boolean, perUserLimit: number | null, returnPeriodDays: number, quantity: number | null, quantityRemaining: number | null, hashtag: string | null, rewardAmount: { amount: number, currency: string, formatted: string } | null, maxReward: { amount: number, formatted: string } | null, minSpend: { amount: number, formatted: string } | null, budget: { amount: number, formatted: string } | null, budgetRemaining: { amount: number, formatted: string } | null, price: { amount: number, formatted: string } | null, locations: Array<{ id: string, name: string, channel: Channel }>, posts: Array<{ externalId: string, url: string }>, merchant: { id: string, name: string, status: MerchantStatus } } | null };

export type CreateLocationMutationVariables = Exact<{
  input: CreateLocationInput;
}>;


export type CreateLocationMutation = { createLocation: { location: { id: string, name: string, channel: Channel, mids: Array<{ network: CardNetwork, mid: string }> | null } | null, userErrors: Array<{ field: Array<string> | null, message: string, code: ErrorCode }> } };

export type CreateOfferMutationVariables = Exact<{
  input: CreateOfferInput;
}>;


export type CreateOfferMutation = { createOffer: { offer: { id: string, status: OfferStatus, title: string, budget: { amount: number, currency: string } | null, budgetRemaining: { amount: number } | null } | null, userErrors: Array<{ field: Array<string> | null, message: string, code: ErrorCode }> } };

export type PublishOfferMutationVariables = Exact<{
  input: PublishOfferInput;
}>;


export type PublishOfferMutation = { publishOffer: { offer: { id: string, status: OfferStatus, publishedAt: string | null } | null, userErrors: Array<{ field: Array<string> | null, message: string, code: ErrorCode }> } };

export type MerchantViewerQueryVariables = Exact<{ [key: string]: never; }>;


export type MerchantViewerQuery = { merchantViewer: { id: string, name: string, status: MerchantStatus, locations: Array<{ id: string, name: string, mids: Array<{ network: CardNetwork, mid: string }> | null }>, offers: { edges: Array<{ node: { id: string, title: string, status: OfferStatus } }> } } | null };

export type CreatePartnerMutationVariables = Exact<{
  input: CreatePartnerInput;
}>;


export type CreatePartnerMutation = { createPartner: { partner: { id: string, name: string, scopes: Array<PartnerScope>, status: PartnerStatus, createdAt: string } | null, userErrors: Array<{ field: Array<string> | null, message: string, code: ErrorCode }> } };

export type IssuePartnerKeyMutationVariables = Exact<{
  input: CreateApiKeyInput;
}>;


export type IssuePartnerKeyMutation = { createApiKey: { secret: string | null, apiKey: { id: string, name: string, role: ApiKeyRole, prefix: string, scopes: Array<PartnerScope>, revokedAt: string | null, partner: { id: string } | null } | null, userErrors: Array<{ field: Array<string> | null, message: string, code: ErrorCode }> } };

export type RevokeKeyMutationVariables = Exact<{
  input: RevokeApiKeyInput;
}>;


export type RevokeKeyMutation = { revokeApiKey: { apiKey: { id: string, revokedAt: string | null } | null, userErrors: Array<{ field: Array<string> | null, message: string, code: ErrorCode }> } };

export type SuspendPartnerMutationVariables = Exact<{
  input: SuspendPartnerInput;
}>;


export type SuspendPartnerMutation = { suspendPartner: { partner: { id: string, status: PartnerStatus } | null, userErrors: Array<{ field: Array<string> | null, message: string, code: ErrorCode }> } };

export type ActivatePartnerMutationVariables = Exact<{
  input: ActivatePartnerInput;
}>;


export type ActivatePartnerMutation = { activatePartner: { partner: { id: string, status: PartnerStatus } | null, userErrors: Array<{ field: Array<string> | null, message: string, code: ErrorCode }> } };

export type PartnerViewerQueryVariables = Exact<{ [key: string]: never; }>;


export type PartnerViewerQuery = { partnerViewer: { partner: { id: string, name: string, scopes: Array<PartnerScope>, status: PartnerStatus }, keys: Array<{ id: string, name: string, prefix: string, createdAt: string, revokedAt: string | null }> } | null };

export type PartnersPageQueryVariables = Exact<{
  first: number;
  after?: string | null | undefined;
}>;


export type PartnersPageQuery = { partners: { edges: Array<{ cursor: string, node: { id: string, name: string, scopes: Array<PartnerScope>, status: PartnerStatus, keys: Array<{ id: string, revokedAt: string | null }> } }>, pageInfo: { hasNextPage: boolean, endCursor: string | null } } };


export const CreateMerchantDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"CreateMerchant"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"input"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"CreateMerchantInput"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"createMerchant"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"Variable","name":{"kind":"Name","value":"input"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"merchant"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"country"}}]}},{"kind":"Field","name":{"kind":"Name","value":"userErrors"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"field"}},{"kind":"Field","name":{"kind":"Name","value":"message"}},{"kind":"Field","name":{"kind":"Name","value":"code"}}]}}]}}]}}]} as unknown as DocumentNode<CreateMerchantMutation, CreateMerchantMutationVariables>;
export const ApproveMerchantDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"ApproveMerchant"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"input"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ApproveMerchantInput"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"approveMerchant"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"Variable","name":{"kind":"Name","value":"input"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"merchant"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"status"}}]}},{"kind":"Field","name":{"kind":"Name","value":"userErrors"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"field"}},{"kind":"Field","name":{"kind":"Name","value":"message"}},{"kind":"Field","name":{"kind":"Name","value":"code"}}]}}]}}]}}]} as unknown as DocumentNode<ApproveMerchantMutation, ApproveMerchantMutationVariables>;
export const CreateApiKeyDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"CreateApiKey"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"input"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"CreateApiKeyInput"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"createApiKey"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"Variable","name":{"kind":"Name","value":"input"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"apiKey"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"role"}},{"kind":"Field","name":{"kind":"Name","value":"prefix"}},{"kind":"Field","name":{"kind":"Name","value":"scopes"}}]}},{"kind":"Field","name":{"kind":"Name","value":"secret"}},{"kind":"Field","name":{"kind":"Name","value":"userErrors"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"field"}},{"kind":"Field","name":{"kind":"Name","value":"message"}},{"kind":"Field","name":{"kind":"Name","value":"code"}}]}}]}}]}}]} as unknown as DocumentNode<CreateApiKeyMutation, CreateApiKeyMutationVariables>;
export const OffersPageDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"OffersPage"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"first"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"Int"}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"after"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"filter"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"OfferFilter"}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"orderBy"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"OfferOrder"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"offers"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"first"},"value":{"kind":"Variable","name":{"kind":"Name","value":"first"}}},{"kind":"Argument","name":{"kind":"Name","value":"after"},"value":{"kind":"Variable","name":{"kind":"Name","value":"after"}}},{"kind":"Argument","name":{"kind":"Name","value":"filter"},"value":{"kind":"Variable","name":{"kind":"Name","value":"filter"}}},{"kind":"Argument","name":{"kind":"Name","value":"orderBy"},"value":{"kind":"Variable","name":{"kind":"Name","value":"orderBy"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"edges"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"cursor"}},{"kind":"Field","name":{"kind":"Name","value":"node"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"title"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"rewardSummary"}},{"kind":"Field","name":{"kind":"Name","value":"endsAt"}},{"kind":"Field","name":{"kind":"Name","value":"merchant"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}}]}}]}}]}},{"kind":"Field","name":{"kind":"Name","value":"pageInfo"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"hasNextPage"}},{"kind":"Field","name":{"kind":"Name","value":"endCursor"}}]}}]}}]}}]} as unknown as DocumentNode<OffersPageQuery, OffersPageQueryVariables>;
export const OffersForPostsDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"OffersForPosts"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"postIds"}},"type":{"kind":"NonNullType","type":{"kind":"ListType","type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"offersForPosts"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"postIds"},"value":{"kind":"Variable","name":{"kind":"Name","value":"postIds"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"postId"}},{"kind":"Field","name":{"kind":"Name","value":"offer"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"title"}},{"kind":"Field","name":{"kind":"Name","value":"rewardSummary"}},{"kind":"Field","name":{"kind":"Name","value":"merchant"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"name"}}]}}]}}]}}]}}]} as unknown as DocumentNode<OffersForPostsQuery, OffersForPostsQueryVariables>;
export const OfferDetailDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"OfferDetail"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"id"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"offer"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"id"},"value":{"kind":"Variable","name":{"kind":"Name","value":"id"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"kind"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"title"}},{"kind":"Field","name":{"kind":"Name","value":"currency"}},{"kind":"Field","name":{"kind":"Name","value":"rewardType"}},{"kind":"Field","name":{"kind":"Name","value":"rewardBasisPoints"}},{"kind":"Field","name":{"kind":"Name","value":"rewardAmount"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"amount"}},{"kind":"Field","name":{"kind":"Name","value":"currency"}},{"kind":"Field","name":{"kind":"Name","value":"formatted"}}]}},{"kind":"Field","name":{"kind":"Name","value":"maxReward"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"amount"}},{"kind":"Field","name":{"kind":"Name","value":"formatted"}}]}},{"kind":"Field","name":{"kind":"Name","value":"minSpend"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"amount"}},{"kind":"Field","name":{"kind":"Name","value":"formatted"}}]}},{"kind":"Field","name":{"kind":"Name","value":"budget"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"amount"}},{"kind":"Field","name":{"kind":"Name","value":"formatted"}}]}},{"kind":"Field","name":{"kind":"Name","value":"budgetRemaining"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"amount"}},{"kind":"Field","name":{"kind":"Name","value":"formatted"}}]}},{"kind":"Field","name":{"kind":"Name","value":"startsAt"}},{"kind":"Field","name":{"kind":"Name","value":"endsAt"}},{"kind":"Field","name":{"kind":"Name","value":"daysOfWeek"}},{"kind":"Field","name":{"kind":"Name","value":"channels"}},{"kind":"Field","name":{"kind":"Name","value":"countries"}},{"kind":"Field","name":{"kind":"Name","value":"activationRequired"}},{"kind":"Field","name":{"kind":"Name","value":"perUserLimit"}},{"kind":"Field","name":{"kind":"Name","value":"returnPeriodDays"}},{"kind":"Field","name":{"kind":"Name","value":"price"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"amount"}},{"kind":"Field","name":{"kind":"Name","value":"formatted"}}]}},{"kind":"Field","name":{"kind":"Name","value":"quantity"}},{"kind":"Field","name":{"kind":"Name","value":"quantityRemaining"}},{"kind":"Field","name":{"kind":"Name","value":"hashtag"}},{"kind":"Field","name":{"kind":"Name","value":"locations"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"channel"}}]}},{"kind":"Field","name":{"kind":"Name","value":"posts"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"externalId"}},{"kind":"Field","name":{"kind":"Name","value":"url"}}]}},{"kind":"Field","name":{"kind":"Name","value":"merchant"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"status"}}]}}]}}]}}]} as unknown as DocumentNode<OfferDetailQuery, OfferDetailQueryVariables>;
export const CreateLocationDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"CreateLocation"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"input"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"CreateLocationInput"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"createLocation"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"Variable","name":{"kind":"Name","value":"input"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"location"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"channel"}},{"kind":"Field","name":{"kind":"Name","value":"mids"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"network"}},{"kind":"Field","name":{"kind":"Name","value":"mid"}}]}}]}},{"kind":"Field","name":{"kind":"Name","value":"userErrors"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"field"}},{"kind":"Field","name":{"kind":"Name","value":"message"}},{"kind":"Field","name":{"kind":"Name","value":"code"}}]}}]}}]}}]} as unknown as DocumentNode<CreateLocationMutation, CreateLocationMutationVariables>;
export const CreateOfferDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"CreateOffer"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"input"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"CreateOfferInput"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"createOffer"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"Variable","name":{"kind":"Name","value":"input"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"offer"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"title"}},{"kind":"Field","name":{"kind":"Name","value":"budget"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"amount"}},{"kind":"Field","name":{"kind":"Name","value":"currency"}}]}},{"kind":"Field","name":{"kind":"Name","value":"budgetRemaining"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"amount"}}]}}]}},{"kind":"Field","name":{"kind":"Name","value":"userErrors"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"field"}},{"kind":"Field","name":{"kind":"Name","value":"message"}},{"kind":"Field","name":{"kind":"Name","value":"code"}}]}}]}}]}}]} as unknown as DocumentNode<CreateOfferMutation, CreateOfferMutationVariables>;
export const PublishOfferDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"PublishOffer"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"input"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"PublishOfferInput"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"publishOffer"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"Variable","name":{"kind":"Name","value":"input"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"offer"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"publishedAt"}}]}},{"kind":"Field","name":{"kind":"Name","value":"userErrors"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"field"}},{"kind":"Field","name":{"kind":"Name","value":"message"}},{"kind":"Field","name":{"kind":"Name","value":"code"}}]}}]}}]}}]} as unknown as DocumentNode<PublishOfferMutation, PublishOfferMutationVariables>;
export const MerchantViewerDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"MerchantViewer"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"merchantViewer"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"locations"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"mids"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"network"}},{"kind":"Field","name":{"kind":"Name","value":"mid"}}]}}]}},{"kind":"Field","name":{"kind":"Name","value":"offers"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"first"},"value":{"kind":"IntValue","value":"100"}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"edges"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"node"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"title"}},{"kind":"Field","name":{"kind":"Name","value":"status"}}]}}]}}]}}]}}]}}]} as unknown as DocumentNode<MerchantViewerQuery, MerchantViewerQueryVariables>;
export const CreatePartnerDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"CreatePartner"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"input"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"CreatePartnerInput"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"createPartner"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"Variable","name":{"kind":"Name","value":"input"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"partner"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"scopes"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"createdAt"}}]}},{"kind":"Field","name":{"kind":"Name","value":"userErrors"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"field"}},{"kind":"Field","name":{"kind":"Name","value":"message"}},{"kind":"Field","name":{"kind":"Name","value":"code"}}]}}]}}]}}]} as unknown as DocumentNode<CreatePartnerMutation, CreatePartnerMutationVariables>;
export const IssuePartnerKeyDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"IssuePartnerKey"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"input"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"CreateApiKeyInput"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"createApiKey"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"Variable","name":{"kind":"Name","value":"input"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"apiKey"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"role"}},{"kind":"Field","name":{"kind":"Name","value":"prefix"}},{"kind":"Field","name":{"kind":"Name","value":"scopes"}},{"kind":"Field","name":{"kind":"Name","value":"partner"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}}]}},{"kind":"Field","name":{"kind":"Name","value":"revokedAt"}}]}},{"kind":"Field","name":{"kind":"Name","value":"secret"}},{"kind":"Field","name":{"kind":"Name","value":"userErrors"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"field"}},{"kind":"Field","name":{"kind":"Name","value":"message"}},{"kind":"Field","name":{"kind":"Name","value":"code"}}]}}]}}]}}]} as unknown as DocumentNode<IssuePartnerKeyMutation, IssuePartnerKeyMutationVariables>;
export const RevokeKeyDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"RevokeKey"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"input"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"RevokeApiKeyInput"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"revokeApiKey"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"Variable","name":{"kind":"Name","value":"input"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"apiKey"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"revokedAt"}}]}},{"kind":"Field","name":{"kind":"Name","value":"userErrors"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"field"}},{"kind":"Field","name":{"kind":"Name","value":"message"}},{"kind":"Field","name":{"kind":"Name","value":"code"}}]}}]}}]}}]} as unknown as DocumentNode<RevokeKeyMutation, RevokeKeyMutationVariables>;
export const SuspendPartnerDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"SuspendPartner"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"input"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"SuspendPartnerInput"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"suspendPartner"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"Variable","name":{"kind":"Name","value":"input"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"partner"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"status"}}]}},{"kind":"Field","name":{"kind":"Name","value":"userErrors"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"field"}},{"kind":"Field","name":{"kind":"Name","value":"message"}},{"kind":"Field","name":{"kind":"Name","value":"code"}}]}}]}}]}}]} as unknown as DocumentNode<SuspendPartnerMutation, SuspendPartnerMutationVariables>;
export const ActivatePartnerDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"ActivatePartner"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"input"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ActivatePartnerInput"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"activatePartner"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"Variable","name":{"kind":"Name","value":"input"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"partner"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"status"}}]}},{"kind":"Field","name":{"kind":"Name","value":"userErrors"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"field"}},{"kind":"Field","name":{"kind":"Name","value":"message"}},{"kind":"Field","name":{"kind":"Name","value":"code"}}]}}]}}]}}]} as unknown as DocumentNode<ActivatePartnerMutation, ActivatePartnerMutationVariables>;
export const PartnerViewerDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"PartnerViewer"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"partnerViewer"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"partner"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"scopes"}},{"kind":"Field","name":{"kind":"Name","value":"status"}}]}},{"kind":"Field","name":{"kind":"Name","value":"keys"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"prefix"}},{"kind":"Field","name":{"kind":"Name","value":"createdAt"}},{"kind":"Field","name":{"kind":"Name","value":"revokedAt"}}]}}]}}]}}]} as unknown as DocumentNode<PartnerViewerQuery, PartnerViewerQueryVariables>;
export const PartnersPageDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"PartnersPage"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"first"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"Int"}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"after"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"partners"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"first"},"value":{"kind":"Variable","name":{"kind":"Name","value":"first"}}},{"kind":"Argument","name":{"kind":"Name","value":"after"},"value":{"kind":"Variable","name":{"kind":"Name","value":"after"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"edges"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"cursor"}},{"kind":"Field","name":{"kind":"Name","value":"node"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"}},{"kind":"Field","name":{"kind":"Name","value":"scopes"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"keys"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"revokedAt"}}]}}]}}]}},{"kind":"Field","name":{"kind":"Name","value":"pageInfo"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"hasNextPage"}},{"kind":"Field","name":{"kind":"Name","value":"endCursor"}}]}}]}}]}}]} as unknown as DocumentNode<PartnersPageQuery, PartnersPageQueryVariables>;