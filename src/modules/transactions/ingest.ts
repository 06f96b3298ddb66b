/**
 * Ingest of one batch, inside one database transaction: read everything the batch needs and lock
 * the offers it can touch (in id order) in one statement (a second read only when an offer
 * changed meanwhile), decide every item in order in memory with the pure rules, then write in one
 * statement. Budget, per-user limits and duplicates are decided under the offer locks, so
 * concurrent batches can never overspend, exceed a limit or reward a transaction twice.
 *
 * A few new purchases can go without the transaction and the locks (`ingestBatchAlone`): the
 * write is then one statement that commits only if no offer it changes moved since the read, which
 * gives the same guarantees for two round trips instead of four.
 */
import { randomUUID } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type {
  CardNetwork,
  CashbackRow,
  DB,
  NewTransaction,
  OfferRow,
  TransactionType,
} from '../../../db/types.js';
import type { UserError } from '../../lib/errors.js';
import { RetryTransaction } from '../../lib/retry.js';
import { CashbackWork } from '../cashback/cashback-work.js';
import { lockCashbacks } from '../cashback/cashback.service.js';
import { TRANSACTION_TOPIC } from './transactions.topics.js';
import {
  chooseOffer,
  evaluateOffer,
  expectedCreditAt,
  rewardAfterRefund,
  rewardFor,
  type TransactionReason,
} from '../cashback/cashback.rules.js';
import {
  findMerchantsOfLocations,
  readAndLockBatch,
  readUnderLocks,
  transactionsInsert,
  type KnownTransaction,
  type LinkedCard,
  type LocationByMid,
} from './transactions.repository.js';

/** A well-formed item, its card reduced to a fingerprint or a card id (never the number). */
export interface IngestItem {
  externalId: string;
  type: TransactionType;
  card: { fingerprint: string } | { cardId: string };
  network: CardNetwork;
  mid: string;
  amount: number;
  currency: string;
  occurredAt: Date;
  authExternalId: string | null;
  originalExternalId: string | null;
}

export type IngestOutcome = 'QUALIFIED' | 'NOT_QUALIFIED' | 'DUPLICATE' | 'REJECTED';

/** One item's answer; plain data, so an idempotent replay can return it as stored. */
export interface IngestResult {
  externalId: string;
  outcome: IngestOutcome;
  reason: TransactionReason | null;
  errors: UserError[];
  transactionId: string | null;
  cashbackId: string | null;
}

/**
 * Thrown when another batch committed something this one read too early (one of our transactions,
 * or a purchase whose offer we did not lock): the whole batch is retried and sees it.
 */
export class ConcurrentDuplicate extends RetryTransaction {
  constructor() {
    super('a transaction of this batch was inserted concurrently');
  }
}

export interface IngestSettings {
  now: Date;
  authExpiryDays: number;
}

/** A transaction the batch knows of: stored before, or decided earlier in this batch. */
type Known = KnownTransaction;

const DAY_MS = 24 * 60 * 60 * 1000;

type BatchItems = readonly (IngestItem | { rejected: UserError[]; externalId: string })[];

/** Ingests a batch in the caller's transaction, holding its offers' locks from its first read. */
export async function ingestBatch(trx: Transaction<DB>, partnerId: string, items: BatchItems, settings: IngestSettings): Promise<IngestResult[]> {
  return (await runBatch({ kind: 'locked', trx }, partnerId, items, settings))!;
}

/**
 * Ingests a batch without a transaction of its own and without locks, in two statements: one
 * read, then one write that is its own transaction and commits only if every offer it changes is
 * still at the version the read saw (and every transaction it inserts is new). Any change between
 * the two fails the write whole, as a serialization failure. Null when the batch needs the
 * locked way instead (`ingestBatch`): an item names another transaction (a refund, the clearing
 * of an auth) or one stored before (a duplicate), or the write met a concurrent change. For a
 * one-item request this saves the round trips of BEGIN and COMMIT, and the offers' locks are held
 * by one statement only, not across two round trips and the work in between.
 */
export async function ingestBatchAlone(db: Kysely<DB>, partnerId: string, items: BatchItems, settings: IngestSettings): Promise<IngestResult[] | null> {
  try {
    return await runBatch({ kind: 'alone', db }, partnerId, items, settings);
  } catch (error) {
    if ((error as { code?: unknown } | null)?.code === SERIALIZATION_FAILURE) return null;
    throw error;
  }
}

const SERIALIZATION_FAILURE = '40001';

type Mode = { kind: 'locked'; trx: Transaction<DB> } | { kind: 'alone'; db: Kysely<DB> };

async function runBatch(mode: Mode, partnerId: string, items: BatchItems, settings: IngestSettings): Promise<IngestResult[] | null> {
  const db = mode.kind === 'locked' ? mode.trx : mode.db;
  const valid = items.filter((i): i is IngestItem => !('rejected' in i));
  // An item naming another transaction (a refund, a clearing of an auth) decides on what that one
  // is, and must wait for a batch that may be writing it right now: only locks do that.
  if (mode.kind === 'alone' && valid.some((i) => i.originalExternalId !== null || i.authExternalId !== null)) return null;

  // ---- read what the batch needs and (locked) lock its offers in id order: one statement ----
  const fingerprints = valid.flatMap((i) => ('fingerprint' in i.card ? [i.card.fingerprint] : []));
  const cardIds = valid.flatMap((i) => ('cardId' in i.card ? [i.card.cardId] : []));
  const midKey = (network: string, mid: string) => `${network}:${mid}`;
  const referenced = [...new Set(valid.flatMap((i) => [i.externalId, i.authExternalId, i.originalExternalId].filter((x): x is string => !!x)))];
  const context = await readAndLockBatch(
    db,
    partnerId,
    {
      fingerprints: [...new Set(fingerprints)],
      cardIds: [...new Set(cardIds)],
      mids: uniqueBy(valid.map((i) => ({ network: i.network, mid: i.mid })), (m) => midKey(m.network, m.mid)),
      externalIds: referenced,
    },
    { lock: mode.kind === 'locked' },
  );
  // Stored transactions the batch names need their cashback locked: not without a transaction.
  if (mode.kind === 'alone' && context.transactions.length > 0) return null;
  const { cards, locations, offerPairs } = context;
  const cardByFingerprint = new Map(cards.map((c) => [c.fingerprint, c]));
  const cardById = new Map(cards.map((c) => [c.id, c]));
  const cardOf = (item: IngestItem): LinkedCard | undefined =>
    'fingerprint' in item.card ? cardByFingerprint.get(item.card.fingerprint) : cardById.get(item.card.cardId);
  const locationByMid = new Map(locations.map((l) => [midKey(l.network, l.mid), l]));
  const locationById = new Map<string, LocationByMid>(locations.map((l) => [l.id, l]));
  const offerIdsAt = new Map<string, string[]>();
  for (const { location_id, offer_id } of offerPairs) offerIdsAt.set(location_id, [...(offerIdsAt.get(location_id) ?? []), offer_id]);
  const offers = new Map(context.offers.map((o) => [o.id, o]));

  // ---- an offer changed between the read and its lock: read again under the locks ----
  const userIds = [...new Set(cards.map((c) => c.user_id))];
  let reread = context.underLocks;
  if (!reread) {
    if (mode.kind !== 'locked') return null;
    reread = await readUnderLocks(mode.trx, partnerId, { externalIds: referenced, userIds, offerIds: [...offers.keys()] });
  }
  const locked = reread;
  const { transactions: fresh, activatedAt, held, names } = locked;
  // A purchase committed by another batch between the first read and the locks names an offer we
  // did not lock: start again, and the first read will see it.
  if (fresh.some((t) => t.cashback_offer_id && !offers.has(t.cashback_offer_id))) throw new ConcurrentDuplicate();
  const known = new Map<string, Known>(fresh.map((t) => [t.external_id, t]));
  const cashbackIds = [...new Set([...known.values()].flatMap((t) => (t.cashback_id ? [t.cashback_id] : [])))];
  if (cashbackIds.length > 0 && mode.kind !== 'locked') return null;
  const cashbacks = new Map<string, CashbackRow>(
    (mode.kind === 'locked' ? await lockCashbacks(mode.trx, cashbackIds) : []).map((c) => [c.id, c]),
  );

  // ---- decide each item in order ----
  // The e-mails name the user, the merchant and the card: all read above for this batch's cards and offers.
  const last4 = new Map(cards.map((c) => [c.id, c.last4]));
  const work = new CashbackWork(offers, {
    emailFacts: (cashback) => {
      const user = names.users.get(cashback.user_id);
      const merchantName = names.merchants.get(cashback.merchant_id);
      const cardLast4 = last4.get(cashback.card_id);
      return user && merchantName !== undefined && cardLast4 !== undefined
        ? { email: user.email, display_name: user.display_name, merchant_name: merchantName, last4: cardLast4 }
        : undefined;
    },
  });
  const inserts: NewTransaction[] = [];
  const results: IngestResult[] = [];

  for (const item of items) {
    if ('rejected' in item) {
      results.push({ externalId: item.externalId, outcome: 'REJECTED', reason: null, errors: item.rejected, transactionId: null, cashbackId: null });
      continue;
    }
    const seen = known.get(item.externalId);
    if (seen) {
      results.push({
        externalId: item.externalId,
        outcome: 'DUPLICATE',
        reason: seen.reason as TransactionReason | null,
        errors: [],
        transactionId: seen.id,
        cashbackId: seen.cashback_id,
      });
      continue;
    }
    const id = randomUUID();
    const base = {
      id,
      partner_id: partnerId,
      external_id: item.externalId,
      type: item.type,
      network: item.network,
      mid: item.mid,
      amount: item.amount,
      currency: item.currency,
      occurred_at: item.occurredAt,
      auth_external_id: item.authExternalId,
      original_external_id: item.originalExternalId,
    };
    const decision = decide(item, id);
    const row: Known = { id, external_id: item.externalId, type: item.type, ...decision, cashback_offer_id: null };
    inserts.push({ ...base, ...decision });
    known.set(item.externalId, row);
    results.push({
      externalId: item.externalId,
      outcome: decision.outcome,
      reason: decision.reason,
      errors: [],
      transactionId: id,
      cashbackId: decision.cashback_id,
    });
  }

  // ---- write ----
  // One statement writes the transactions, the cashback work and every event; fewer transactions
  // inserted than decided means another batch stored one first: the statement fails (40001) and
  // the batch starts again, and sees it. Alone, it also fails when an offer it changes moved on.
  const steps = inserts.length > 0 ? [{ statement: transactionsInsert(inserts), expect: inserts.length }] : [];
  const events = await transactionEvents(inserts);
  await work.flush(db, { steps, events, ...(mode.kind === 'alone' ? { offerVersions: context.versions } : {}) });
  return results;

  /**
   * One event per newly stored transaction, in this transaction: audience the merchant of its
   * location (when the MID was known), never its user; the partner reads it by `partner_id`.
   */
  async function transactionEvents(rows: readonly NewTransaction[]) {
    const merchantOf = new Map([...locked.merchantOfLocation, ...[...locationById.values()].map((l) => [l.id, l.merchant_id] as const)]);
    const unknown = [...new Set(rows.flatMap((r) => (r.location_id && !merchantOf.has(r.location_id) ? [r.location_id] : [])))];
    for (const [locationId, merchantId] of await findMerchantsOfLocations(db, unknown)) merchantOf.set(locationId, merchantId);
    return rows.map((r) =>
      TRANSACTION_TOPIC.event(
        r.outcome as 'QUALIFIED' | 'NOT_QUALIFIED',
        r.id!,
        { merchantId: r.location_id ? (merchantOf.get(r.location_id) ?? null) : null },
        { externalId: r.external_id, type: r.type, outcome: r.outcome as 'QUALIFIED' | 'NOT_QUALIFIED', reason: r.reason ?? null, amount: r.amount, currency: r.currency },
      ),
    );
  }

  // ---- the decisions (closures over the batch state) ----

  interface Decision {
    outcome: 'QUALIFIED' | 'NOT_QUALIFIED';
    reason: TransactionReason | null;
    cashback_id: string | null;
    card_id: string | null;
    user_id: string | null;
    location_id: string | null;
  }

  function decide(item: IngestItem, transactionId: string): Decision {
    if (item.type === 'REFUND') return refund(item, transactionId);
    if (item.type === 'CLEARING' && item.authExternalId) {
      const auth = known.get(item.authExternalId);
      if (auth?.type === 'AUTH') {
        if (auth.outcome === 'NOT_QUALIFIED') return { ...from(auth), outcome: 'NOT_QUALIFIED', reason: auth.reason as TransactionReason, cashback_id: null };
        const pending = auth.cashback_id ? cashbacks.get(auth.cashback_id) : undefined;
        if (pending?.status === 'PENDING') return clear(item, pending, transactionId);
        // Cleared already, or expired: the clearing is a purchase of its own.
      }
    }
    return purchase(item, transactionId);
  }

  function from(t: Known) {
    return { card_id: t.card_id, user_id: t.user_id, location_id: t.location_id };
  }

  function purchase(item: IngestItem, transactionId: string): Decision {
    const card = cardOf(item);
    const location = locationByMid.get(midKey(item.network, item.mid));
    const where = { card_id: card?.id ?? null, user_id: card?.user_id ?? null, location_id: location?.id ?? null };
    const no = (reason: TransactionReason): Decision => ({ ...where, outcome: 'NOT_QUALIFIED', reason, cashback_id: null });
    if (!card) return no('CARD_NOT_LINKED');
    if (!location) return no('UNKNOWN_LOCATION');

    const candidates = (offerIdsAt.get(location.id) ?? [])
      .map((offerId) => offers.get(offerId))
      .filter((offer): offer is OfferRow => offer?.state === 'PUBLISHED')
      .map((offer) => {
        const key = `${card.user_id}:${offer.id}`;
        const evaluation = evaluateOffer(offer, {
          amount: item.amount,
          currency: item.currency,
          occurredAt: item.occurredAt,
          channel: location.channel,
          country: location.country,
          timezone: location.timezone,
          activatedAt: activatedAt.get(key) ?? null,
          rewardsHeld: held.get(key) ?? 0,
        });
        return { offer, evaluation, budgetRemaining: offer.budget_remaining ?? 0 };
      });
    const choice = chooseOffer(candidates);
    if (!choice.qualified) return no(choice.reason);

    const { offer, reward, limitedByBudget } = choice;
    const confirmed = item.type === 'CLEARING';
    const cashback = work.create(
      {
        id: randomUUID(),
        user_id: card.user_id,
        card_id: card.id,
        offer_id: offer.id,
        merchant_id: offer.merchant_id,
        purchase_transaction_id: transactionId,
        status: confirmed ? 'CONFIRMED' : 'PENDING',
        currency: item.currency,
        purchase_amount: item.amount,
        granted_amount: reward,
        amount: reward,
        reason: limitedByBudget ? 'LIMITED_BY_BUDGET' : null,
        occurred_at: item.occurredAt,
        expires_at: confirmed ? null : new Date(item.occurredAt.getTime() + settings.authExpiryDays * DAY_MS),
        expected_credit_at: expectedCreditAt(item.occurredAt, offer.return_period_days),
      },
      transactionId,
    );
    cashbacks.set(cashback.id, cashback);
    held.set(`${card.user_id}:${offer.id}`, (held.get(`${card.user_id}:${offer.id}`) ?? 0) + 1);
    return { ...where, outcome: 'QUALIFIED', reason: null, cashback_id: cashback.id };
  }

  /** The clearing of a pending auth: the reward recomputed on the cleared amount. */
  function clear(item: IngestItem, cashback: CashbackRow, transactionId: string): Decision {
    const where = { card_id: cashback.card_id, user_id: cashback.user_id, location_id: known.get(item.authExternalId!)?.location_id ?? null };
    if (item.currency !== cashback.currency) return { ...where, outcome: 'NOT_QUALIFIED', reason: 'CURRENCY_MISMATCH', cashback_id: cashback.id };
    const offer = offers.get(cashback.offer_id)!;
    let granted = rewardFor(offer, item.amount);
    let limited = false;
    if (granted > cashback.amount) {
      const fits = cashback.amount + Math.min(granted - cashback.amount, offer.budget_remaining ?? 0);
      limited = fits < granted;
      granted = fits;
    }
    const refunded = Math.min(cashback.refunded_amount, item.amount);
    const amount = granted === 0 ? 0 : rewardAfterRefund(granted, item.amount, refunded, offer.min_spend);
    if (amount === 0) {
      work.reduce(cashback, 0, 'BELOW_MIN_SPEND', transactionId, { refundedAmount: refunded, purchaseAmount: item.amount });
      return { ...where, outcome: 'NOT_QUALIFIED', reason: 'BELOW_MIN_SPEND', cashback_id: cashback.id };
    }
    work.confirm(
      cashback,
      {
        purchaseAmount: item.amount,
        granted,
        amount,
        reason: refunded > 0 ? 'PARTIALLY_REFUNDED' : limited ? 'LIMITED_BY_BUDGET' : cashback.reason === 'LIMITED_BY_BUDGET' && granted === cashback.granted_amount ? 'LIMITED_BY_BUDGET' : null,
        expectedCreditAt: expectedCreditAt(item.occurredAt, offer.return_period_days),
      },
      transactionId,
    );
    return { ...where, outcome: 'QUALIFIED', reason: null, cashback_id: cashback.id };
  }

  /** A refund shrinks the purchase's cashback in proportion, re-checking the minimum spend. */
  function refund(item: IngestItem, transactionId: string): Decision {
    const original = known.get(item.originalExternalId!);
    if (!original || original.type === 'REFUND') {
      const card = cardOf(item);
      return {
        card_id: card?.id ?? null,
        user_id: card?.user_id ?? null,
        location_id: locationByMid.get(midKey(item.network, item.mid))?.id ?? null,
        outcome: 'NOT_QUALIFIED',
        reason: 'ORIGINAL_NOT_FOUND',
        cashback_id: null,
      };
    }
    const where = from(original);
    const cashback = original.cashback_id ? cashbacks.get(original.cashback_id) : undefined;
    if (!cashback || cashback.status === 'REVERSED') {
      return { ...where, outcome: 'NOT_QUALIFIED', reason: 'NO_CASHBACK', cashback_id: cashback?.id ?? null };
    }
    if (item.currency !== cashback.currency) return { ...where, outcome: 'NOT_QUALIFIED', reason: 'CURRENCY_MISMATCH', cashback_id: cashback.id };
    const offer = offers.get(cashback.offer_id)!;
    const refunded = Math.min(cashback.refunded_amount + item.amount, cashback.purchase_amount);
    const amount = Math.min(rewardAfterRefund(cashback.granted_amount, cashback.purchase_amount, refunded, offer.min_spend), cashback.amount);
    const reason = refunded >= cashback.purchase_amount ? 'REFUNDED' : amount === 0 ? 'BELOW_MIN_SPEND' : 'PARTIALLY_REFUNDED';
    work.reduce(cashback, amount, reason, transactionId, { refundedAmount: refunded });
    return { ...where, outcome: 'QUALIFIED', reason: null, cashback_id: cashback.id };
  }
}

function uniqueBy<T>(values: readonly T[], key: (v: T) => string): T[] {
  const seen = new Map<string, T>();
  for (const v of values) if (!seen.has(key(v))) seen.set(key(v), v);
  return [...seen.values()];
}
