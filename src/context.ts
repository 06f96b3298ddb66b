/**
 * What every resolver receives: the database, who is calling, and a logger bound to the request.
 */
import type { Kysely } from 'kysely';
import type { Config } from './config.js';
import type { EventRelay } from './live/relay.js';
import type { DB } from '../db/types.js';
import type { Logger } from './logger.js';
import type { Security } from './security.js';
import type { RateLimits } from './rate-limits.js';

/**
 * Scopes a partner key may hold. Each module that checks one adds it here by declaration merging
 * (see src/modules/module.ts), e.g. `interface PartnerScopeRegistry { 'transactions:write': true }`.
 */
export interface PartnerScopeRegistry {}
export type PartnerScope = keyof PartnerScopeRegistry & string;

export type Principal =
  | { kind: 'anonymous' }
  | { kind: 'admin'; apiKeyId: string }
  | { kind: 'merchant'; apiKeyId: string; merchantId: string }
  /** A partner's key: what it owns belongs to `partnerId`, whichever of its keys is used; `scopes` are the key's effective ones. */
  | { kind: 'partner'; apiKeyId: string; partnerId: string; scopes: PartnerScope[] }
  | { kind: 'user'; userId: string; expiresAt?: Date };

export interface Context {
  db: Kysely<DB>;
  principal: Principal;
  logger: Logger;
  requestId: string;
  /** The caller's network address, as rate limits key it. */
  clientAddress: string;
  security: Security;
  config: Config;
  /** Budgets that services charge (log-in, sign-up, card links, ingest); shared across instances. */
  rateLimits: RateLimits;
  /** Live events of this instance (subscriptions read from its bus). */
  events?: EventRelay;
  /** The WebSocket an operation arrived on, if any: live streams close it with a reason. */
  connection?: { close(code: number, reason: string): void; bufferedAmount(): number };
}

export const ANONYMOUS: Principal = { kind: 'anonymous' };
