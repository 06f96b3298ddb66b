/**
 * Transaction ingest for card partners: up to 500 items per call, one result per item in order.
 * Each item is checked on its own (a malformed one is REJECTED and spoils nothing), its card
 * number is reduced to the keyed fingerprint at once, and the batch runs in one retrying
 * database transaction, idempotent per partner and external id and, with a key, per request.
 * Small requests without a key are written together with their partner's others that arrive
 * meanwhile (`ingestCoalesced`).
 */
import type { Kysely } from 'kysely';
import type { CardNetwork, DB, TransactionRow, TransactionType } from '../../../db/types.js';
import type { Context } from '../../context.js';
import { principalKey, requirePartnerScope } from '../../lib/authorization.js';
import { fail, type ErrorCode, type UserError } from '../../lib/errors.js';
import { coalesce } from '../../lib/coalesce.js';
import { idempotent } from '../../lib/idempotency.js';
import { idOfType } from '../../lib/ids.js';
import { isCurrency } from '../../lib/iso.js';
import { MAX_MINOR_UNITS } from '../../lib/money.js';
import { inRetryingTransaction } from '../../lib/retry.js';
import { fingerprintCardNumber } from '../cards/card-crypto.js';
import { parseCardNumber } from '../cards/card-number.js';
import { ingestBatch, ingestBatchAlone, type IngestItem, type IngestResult, type IngestSettings } from './ingest.js';
import { findTransactionsByIds } from './transactions.repository.js';
import { withinLimit } from '../../rate-limits.js';
import { truncate } from '../../lib/text.js';

export const MAX_BATCH_SIZE = 500;

/** Batches up to this size try the unlocked way first (`ingestBatchAlone`). */
const MAX_ALONE_BATCH_SIZE = 10;

/** Requests without an idempotency key up to this size are ingested together with their partner's others (`ingestCoalesced`). */
const MAX_COALESCED_REQUEST_SIZE = MAX_ALONE_BATCH_SIZE;

/** How far ahead of the server's clock a transaction may be dated (clock skew between systems). */
const MAX_FUTURE_MS = 24 * 60 * 60 * 1000;

export interface TransactionInput {
  externalId: string;
  type: TransactionType;
  cardNumber?: string | null;
  cardId?: string | null;
  network: CardNetwork;
  mid: string;
  amount: number;
  currency: string;
  occurredAt: Date;
  authExternalId?: string | null;
  originalExternalId?: string | null;
}

type Parsed = IngestItem | { rejected: UserError[]; externalId: string };

/** Checks one item; the card number goes no further than this function. */
function parseItem(ctx: Context, input: TransactionInput, index: number, now: Date): Parsed {
  const errors: UserError[] = [];
  const reject = (code: ErrorCode, message: string, field: string) =>
    errors.push({ code, message, field: ['transactions', String(index), field] });
  const text = (value: string | null | undefined, field: string, max: number) => {
    if (value != null && (value.length < 1 || value.length > max)) reject('INVALID_LENGTH', `${field} must be 1 to ${max} characters.`, field);
  };

  text(input.externalId, 'externalId', 128);
  text(input.mid, 'mid', 32);
  text(input.authExternalId, 'authExternalId', 128);
  text(input.originalExternalId, 'originalExternalId', 128);
  if (!Number.isInteger(input.amount) || input.amount < 1 || input.amount > MAX_MINOR_UNITS) {
    reject('OUT_OF_RANGE', `amount must be from 1 to ${MAX_MINOR_UNITS} minor units.`, 'amount');
  }
  if (!isCurrency(input.currency)) reject('INVALID_CURRENCY', 'currency must be an ISO 4217 code such as USD.', 'currency');
  if (input.occurredAt.getTime() > now.getTime() + MAX_FUTURE_MS) reject('OUT_OF_RANGE', 'occurredAt is in the future.', 'occurredAt');
  if (input.authExternalId != null && input.type !== 'CLEARING') reject('INVALID_INPUT', 'Only a CLEARING names an auth.', 'authExternalId');
  if ((input.originalExternalId != null) !== (input.type === 'REFUND')) {
    reject('INVALID_INPUT', 'A REFUND, and only a refund, names its original purchase.', 'originalExternalId');
  }

  let card: IngestItem['card'] | null = null;
  const hasNumber = input.cardNumber != null;
  if (hasNumber === (input.cardId != null)) {
    reject('INVALID_INPUT', 'Give the card as exactly one of cardNumber or cardId.', 'cardNumber');
  } else if (hasNumber) {
    const parsed = parseCardNumber(input.cardNumber!);
    if (parsed.ok) card = { fingerprint: fingerprintCardNumber(ctx.security.cards.fingerprintKey, parsed.digits) };
    else if (parsed.reason === 'UNKNOWN_NETWORK') reject('UNSUPPORTED_CARD_NETWORK', 'The card is not Visa, Mastercard, American Express or Discover.', 'cardNumber');
    else reject('INVALID_CARD_NUMBER', 'The card number is not valid.', 'cardNumber');
  } else {
    const cardId = idOfType(input.cardId!, 'Card');
    if (cardId) card = { cardId };
    else reject('INVALID_ID', 'cardId is not a valid Card id.', 'cardId');
  }

  // Named back as sent, but never at length (a refusal does not quote its input).
  if (errors.length > 0 || !card) return { rejected: errors, externalId: truncate(input.externalId, 128) };
  return {
    externalId: input.externalId,
    type: input.type,
    card,
    network: input.network,
    mid: input.mid,
    amount: input.amount,
    currency: input.currency,
    occurredAt: input.occurredAt,
    authExternalId: input.authExternalId ?? null,
    originalExternalId: input.originalExternalId ?? null,
  };
}

export async function ingestTransactions(
  ctx: Context,
  input: { transactions: readonly TransactionInput[]; idempotencyKey?: string | null },
): Promise<{ results: IngestResult[] }> {
  const partner = requirePartnerScope(ctx.principal, 'transactions:write');
  const count = input.transactions.length;
  if (count < 1 || count > MAX_BATCH_SIZE) fail('OUT_OF_RANGE', `Send 1 to ${MAX_BATCH_SIZE} transactions per call.`, ['transactions']);
  await withinLimit(ctx.logger, 'ingest', () => ctx.rateLimits.ingestItemsByPartner.charge(partner.partnerId, count));
  const now = new Date();
  const items = input.transactions.map((t, i) => parseItem(ctx, t, i, now));
  const settings = { now, authExpiryDays: ctx.config.authExpiryDays };
  const results =
    input.idempotencyKey == null && count <= MAX_COALESCED_REQUEST_SIZE
      ? await ingestCoalesced(ctx.db, partner.partnerId, { items, settings })
      : await inRetryingTransaction(ctx.db, (trx) =>
          idempotent(
            trx,
            { principal: principalKey(ctx.principal), operation: 'ingestTransactions', key: input.idempotencyKey, request: items },
            () => ingestBatch(trx, partner.partnerId, items, settings),
          ),
        );
  const tally: Record<string, number> = {};
  for (const r of results) tally[r.outcome] = (tally[r.outcome] ?? 0) + 1;
  ctx.logger.info({ items: count, ...tally }, 'transactions ingested');
  return { results };
}

/**
 * Ingests a batch without an idempotency key. A few new purchases take one read and one
 * self-contained write, no transaction around them (`ingestBatchAlone`); anything else, or a write
 * that met a concurrent change, the locked way. Large batches always lock: touching many offers,
 * their write would often meet a change and be done twice, and two round trips more are nothing
 * to them.
 */
async function ingestKeyless(db: Kysely<DB>, partnerId: string, items: Parsed[], settings: IngestSettings): Promise<IngestResult[]> {
  const alone = items.length <= MAX_ALONE_BATCH_SIZE ? await ingestBatchAlone(db, partnerId, items, settings) : null;
  return alone ?? (await inRetryingTransaction(db, (trx) => ingestBatch(trx, partnerId, items, settings)));
}

interface KeylessRequest {
  items: Parsed[];
  settings: IngestSettings;
}

/** One request's share of a coalesced run: its results, or the error it met on its own. */
type Share = { results: IngestResult[] } | { error: unknown };

/**
 * Small requests without an idempotency key are ingested as one batch with the requests of the
 * same partner that arrived while its previous batch was being written (group commit): one read,
 * one write and one commit serve them all, each request answered with its own items' results in
 * its order. An item's outcome is the one it would get were the requests sent one after another:
 * the batch decides its items in order, as concurrent requests are decided in some order. A batch
 * that fails is taken apart and each request ingested on its own, so one request's failure is
 * never another's (a batch that failed after its commit would answer DUPLICATE then, never apply
 * an item twice: transactions are unique per partner and external id). One coalescer per
 * database handle: per app, as the handle is.
 */
const coalescers = new WeakMap<Kysely<DB>, (partnerId: string, request: KeylessRequest) => Promise<Share>>();

async function ingestCoalesced(db: Kysely<DB>, partnerId: string, request: KeylessRequest): Promise<IngestResult[]> {
  let ingest = coalescers.get(db);
  if (!ingest) {
    ingest = coalesce<KeylessRequest, Share>(
      async (partner, requests) => {
        const alone = (r: KeylessRequest) => ingestKeyless(db, partner, r.items, r.settings);
        if (requests.length === 1) return [{ results: await alone(requests[0]!) }];
        let results: IngestResult[];
        try {
          results = await ingestKeyless(db, partner, requests.flatMap((r) => r.items), requests[0]!.settings);
        } catch {
          return Promise.all(requests.map((r) => alone(r).then((results): Share => ({ results }), (error: unknown): Share => ({ error }))));
        }
        let at = 0;
        return requests.map((r) => ({ results: results.slice(at, (at += r.items.length)) }));
      },
      { weight: (r) => r.items.length, max: MAX_BATCH_SIZE },
    );
    coalescers.set(db, ingest);
  }
  const share = await ingest(partnerId, request);
  if ('error' in share) throw share.error;
  return share.results;
}

/** Transactions a caller may read: a partner its own (through any of its keys), a user its own, admins all. */
export function loadVisibleTransactions(ctx: Context, ids: readonly string[]): Promise<TransactionRow[]> {
  const p = ctx.principal;
  if (p.kind === 'admin') return findTransactionsByIds(ctx.db, ids, {});
  if (p.kind === 'partner') return findTransactionsByIds(ctx.db, ids, { partnerId: p.partnerId });
  if (p.kind === 'user') return findTransactionsByIds(ctx.db, ids, { userId: p.userId });
  return Promise.resolve([]);
}
