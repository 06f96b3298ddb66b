/**
 * Transaction ingest for card partners: up to 500 items per call, one result per item in order.
 * Each item is checked on its own (a malformed one is REJECTED and spoils nothing), its card
 * number is reduced to the keyed fingerprint at once, and the batch runs in one retrying
 * database transaction, idempotent per partner and external id and, with a key, per request.
 */
import type { CardNetwork, TransactionRow, TransactionType } from '../../../db/types.js';
import type { Context } from '../../context.js';
import { principalKey, requirePartnerScope } from '../../lib/authorization.js';
import { fail, type ErrorCode, type UserError } from '../../lib/errors.js';
import { idempotent } from '../../lib/idempotency.js';
import { idOfType } from '../../lib/ids.js';
import { isCurrency } from '../../lib/iso.js';
import { MAX_MINOR_UNITS } from '../../lib/money.js';
import { inRetryingTransaction } from '../../lib/retry.js';
import { fingerprintCardNumber } from '../cards/card-crypto.js';
import { parseCardNumber } from '../cards/card-number.js';
import { ingestBatch, ingestBatchAlone, type IngestItem, type IngestResult } from './ingest.js';
import { findTransactionsByIds } from './transactions.repository.js';
import { withinLimit } from '../../rate-limits.js';

export const MAX_BATCH_SIZE = 500;

/** Batches up to this size try the unlocked way first (`ingestBatchAlone`). */
const MAX_ALONE_BATCH_SIZE = 10;

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

  if (errors.length > 0 || !card) return { rejected: errors, externalId: input.externalId };
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
  // A few new purchases without an idempotency key: one read and one self-contained write, no
  // transaction around them. Anything else, or a write that met a concurrent change: the locked
  // way. Large batches always lock: touching many offers, their write would often meet a change
  // and be done twice, and two round trips more are nothing to them.
  const alone =
    input.idempotencyKey == null && count <= MAX_ALONE_BATCH_SIZE ? await ingestBatchAlone(ctx.db, partner.partnerId, items, settings) : null;
  const results =
    alone ??
    (await inRetryingTransaction(ctx.db, (trx) =>
      idempotent(
        trx,
        { principal: principalKey(ctx.principal), operation: 'ingestTransactions', key: input.idempotencyKey, request: items },
        () => ingestBatch(trx, partner.partnerId, items, settings),
      ),
    ));
  const tally: Record<string, number> = {};
  for (const r of results) tally[r.outcome] = (tally[r.outcome] ?? 0) + 1;
  ctx.logger.info({ items: count, ...tally }, 'transactions ingested');
  return { results };
}

/** Transactions a caller may read: a partner its own (through any of its keys), a user its own, admins all. */
export function loadVisibleTransactions(ctx: Context, ids: readonly string[]): Promise<TransactionRow[]> {
  const p = ctx.principal;
  if (p.kind === 'admin') return findTransactionsByIds(ctx.db, ids, {});
  if (p.kind === 'partner') return findTransactionsByIds(ctx.db, ids, { partnerId: p.partnerId });
  if (p.kind === 'user') return findTransactionsByIds(ctx.db, ids, { userId: p.userId });
  return Promise.resolve([]);
}
