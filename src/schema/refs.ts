/**
 * Object refs declared once, implemented in their domain's schema file: domains can point at
 * each other's types without import cycles. Each node loads through a dataloader that applies
 * the caller's visibility, so a field never leaks a row the caller could not fetch by id.
 */
import type {
  ActivationRow,
  ApiKeyRow,
  CardRow,
  CashbackRow,
  LocationRow,
  MerchantRow,
  OfferRow,
  PostRow,
  TransactionRow,
  UserRow,
} from '../../db/types.js';
import type { Context } from '../context.js';
import { loadVisibleActivations } from '../modules/activations/activations.service.js';
import { loadVisibleApiKeys } from '../modules/api-keys/api-keys.service.js';
import { loadVisibleCards } from '../modules/cards/cards.service.js';
import { loadVisibleCashbacks } from '../modules/cashback/cashback.service.js';
import type { CreditWithCard } from '../modules/credits/credits.repository.js';
import { loadVisibleCredits } from '../modules/credits/credits.service.js';
import { loadVisibleLocations } from '../modules/locations/locations.service.js';
import { loadVisibleMerchants } from '../modules/merchants/merchants.service.js';
import { loadVisibleOffers } from '../modules/offers/offers.service.js';
import { loadVisiblePosts } from '../modules/posts/posts.service.js';
import { loadVisibleUsers } from '../modules/users/users.service.js';
import { loadVisibleTransactions } from '../modules/transactions/transactions.service.js';
import { isUuid } from '../lib/ids.js';
import { builder } from './builder.js';

const byId = <T extends { id: string }>(load: (ctx: Context, ids: readonly string[]) => Promise<T[]>) => ({
  // Ids that are not uuids cannot exist; they never reach SQL.
  load: (ids: string[], ctx: Context) => load(ctx, ids.filter(isUuid)),
  sort: (row: T) => row.id,
  id: { resolve: (row: T) => row.id },
});

export const MerchantRef = builder.loadableNodeRef<MerchantRow, string, string>('Merchant', byId(loadVisibleMerchants));
export const LocationRef = builder.loadableNodeRef<LocationRow, string, string>('Location', byId(loadVisibleLocations));
export const OfferRef = builder.loadableNodeRef<OfferRow, string, string>('Offer', byId(loadVisibleOffers));
export const PostRef = builder.loadableNodeRef<PostRow, string, string>('Post', byId(loadVisiblePosts));
export const ApiKeyRef = builder.loadableNodeRef<ApiKeyRow, string, string>('ApiKey', byId(loadVisibleApiKeys));
export const UserRef = builder.loadableNodeRef<UserRow, string, string>('User', byId(loadVisibleUsers));
export const CardRef = builder.loadableNodeRef<CardRow, string, string>('Card', byId(loadVisibleCards));
export const ActivationRef = builder.loadableNodeRef<ActivationRow, string, string>('Activation', byId(loadVisibleActivations));
export const TransactionRef = builder.loadableNodeRef<TransactionRow, string, string>('Transaction', byId(loadVisibleTransactions));
export const CashbackRef = builder.loadableNodeRef<CashbackRow, string, string>('Cashback', byId(loadVisibleCashbacks));
export const StatementCreditRef = builder.loadableNodeRef<CreditWithCard, string, string>('StatementCredit', byId(loadVisibleCredits));
