/**
 * Cashback as people see it (the user's timeline and totals, the merchant's redemption figures)
 * and the lifecycle jobs that move it with time: expiring auths that never cleared, and turning
 * confirmed cashback past its hold period into statement credits.
 */
import type { Kysely } from 'kysely';
import type { CashbackChangeRow, CashbackRow, CashbackStatus, DB, OfferRow } from '../../../db/types.js';
import type { Context } from '../../context.js';
import { visibilityOf } from '../../lib/authorization.js';
import { groupByKeys } from '../../lib/group.js';
import type { Money } from '../../lib/money.js';
import { decodeCursor, encodeCursor, toPage, type Page } from '../../lib/pagination.js';
import { inRetryingTransaction } from '../../lib/retry.js';
import { CashbackWork } from './cashback-work.js';
import {
  cashbackTotalsOfUser,
  createDueStatementCredits,
  findCardLast4,
  findChangesOfCashbacks,
  findOffersWithExpiredAuths,
  findPartnerCashbacksByIds,
  findUserCashbacksByIds,
  listUserCashbacks,
  lockExpiredAuthsOfOffer,
  redemptionStats,
} from './cashback.repository.js';
import { lockOffers } from '../offers/offers.service.js';

/** A user its own cashback, a partner the cashback of its own transactions, admins all. */
export function loadVisibleCashbacks(ctx: Context, ids: readonly string[]): Promise<CashbackRow[]> {
  const p = ctx.principal;
  if (p.kind === 'user') return findUserCashbacksByIds(ctx.db, p.userId, ids);
  if (p.kind === 'admin') return findUserCashbacksByIds(ctx.db, null, ids);
  if (p.kind === 'partner') return findPartnerCashbacksByIds(ctx.db, p.partnerId, ids);
  return Promise.resolve([]);
}

const cashbackCursor = (c: CashbackRow) => encodeCursor([c.created_at.toISOString(), c.id]);

export async function listCashbackOfUser(
  ctx: Context,
  userId: string,
  args: { first: number; after?: string | null; status?: CashbackStatus | null },
): Promise<Page<CashbackRow>> {
  const after = args.after ? decodeCursor(args.after, ['date', 'uuid'] as const) : null;
  const rows = await listUserCashbacks(ctx.db, userId, { status: args.status ?? null, limit: args.first + 1, after });
  return toPage(rows, args.first, args.after, cashbackCursor);
}

export interface CashbackTotals {
  currency: string;
  pending: Money;
  confirmed: Money;
  credited: Money;
}

export async function cashbackTotalsOf(ctx: Context, userId: string): Promise<CashbackTotals[]> {
  const totals = new Map<string, CashbackTotals>();
  for (const row of await cashbackTotalsOfUser(ctx.db, userId)) {
    const zero = (amount = 0): Money => ({ amount, currency: row.currency });
    const entry = totals.get(row.currency) ?? { currency: row.currency, pending: zero(), confirmed: zero(), credited: zero() };
    const key = row.status === 'PENDING' ? 'pending' : row.status === 'CONFIRMED' ? 'confirmed' : 'credited';
    entry[key] = zero(Number(row.total));
    totals.set(row.currency, entry);
  }
  return [...totals.values()];
}

export async function changesOf(ctx: Context, cashbackIds: readonly string[]): Promise<CashbackChangeRow[][]> {
  return groupByKeys(cashbackIds, await findChangesOfCashbacks(ctx.db, cashbackIds), (c) => c.cashback_id);
}

export async function cardLast4Of(ctx: Context, cardIds: readonly string[]): Promise<(string | null)[]> {
  const last4 = await findCardLast4(ctx.db, cardIds);
  return cardIds.map((id) => last4.get(id) ?? null);
}

export interface RedemptionFigures {
  count: number;
  rewards: Money;
}

/** Per offer, for its merchant and admins only (null for anyone else): counts and sums, no user data. */
export async function redemptionFigures(ctx: Context, offers: readonly OfferRow[]): Promise<(RedemptionFigures | null)[]> {
  const { all, merchantId } = visibilityOf(ctx.principal);
  const allowed = offers.filter((o) => all || o.merchant_id === merchantId);
  const stats = await redemptionStats(ctx.db, allowed.map((o) => o.id));
  return offers.map((o) => {
    if (!allowed.includes(o)) return null;
    const s = stats.get(o.id) ?? { count: 0, total: 0 };
    return {
      count: s.count,
      rewards: { amount: s.total, currency: o.currency },
    };
  });
}

// ---- lifecycle jobs ----

const JOB_BATCH = 200;

/**
 * Pending cashback whose auth was never cleared within AUTH_EXPIRY_DAYS is reversed and its
 * reward goes back to the budget. Offer by offer, with the offer locked (skipped while ingest
 * holds it, taken next round), so it never races a clearing of the same purchase.
 */
export async function expireStaleAuths(db: Kysely<DB>, now: Date): Promise<number> {
  let expired = 0;
  for (const offerId of await findOffersWithExpiredAuths(db, now, JOB_BATCH)) {
    expired += await inRetryingTransaction(db, async (trx) => {
      const offers = await lockOffers(trx, [offerId], { skipLocked: true });
      if (offers.length === 0) return 0;
      const work = new CashbackWork(new Map(offers.map((o) => [o.id, o])));
      const due = await lockExpiredAuthsOfOffer(trx, offerId, now, JOB_BATCH);
      for (const cashback of due) work.reduce(cashback, 0, 'AUTH_EXPIRED', null);
      await work.flush(trx);
      return due.length;
    });
  }
  return expired;
}

/** Confirmed cashback past its hold period becomes a statement credit for the card partner. */
export function issueDueStatementCredits(db: Kysely<DB>, now: Date): Promise<number> {
  return createDueStatementCredits(db, now, JOB_BATCH);
}

/** What other modules read or lock through this one (they never import its repository). */
export { findUserCashbacksByIds, lockCashbacks } from './cashback.repository.js';
