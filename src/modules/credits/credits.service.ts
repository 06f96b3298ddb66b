/**
 * Statement credits for card partners (scope credits:write): list them, settle them ISSUED or
 * FAILED. ISSUED pays the cashback onto the card (ledger CREDIT, cashback CREDITED, e-mail);
 * FAILED leaves it owed and the credit can be settled again. A settlement call is all or
 * nothing: one bad item changes nothing.
 */
import type { NewEvent, StatementCreditStatus } from '../../../db/types.js';
import type { Context } from '../../context.js';
import { insertEvents } from '../../outbox/outbox.repository.js';
import { STATEMENT_CREDIT_TOPIC } from './credits.topics.js';
import { principalKey, requirePartnerScope } from '../../lib/authorization.js';
import { DomainError, fail, type UserError } from '../../lib/errors.js';
import { idempotent } from '../../lib/idempotency.js';
import { idOfType } from '../../lib/ids.js';
import { decodeCursor, encodeCursor, toPage, type Page } from '../../lib/pagination.js';
import { inRetryingTransaction } from '../../lib/retry.js';
import { CashbackWork } from '../cashback/cashback-work.js';
import { lockCashbacks } from '../cashback/cashback.service.js';
import { lockOffers } from '../offers/offers.service.js';
import {
  findCreditsByIds,
  findOfferIdsOfCredits,
  listCredits,
  lockCredits,
  setCreditSettlement,
  type CreditOwner,
  type CreditWithCard,
} from './credits.repository.js';

export const MAX_SETTLEMENTS = 500;

/**
 * Whose credits the caller may see: a partner with credits:write those of the purchases it
 * ingested (DESIGN §2: a partner reads its own records), admins all; undefined for anyone else.
 */
function creditOwner(ctx: Context): CreditOwner | undefined {
  const p = ctx.principal;
  if (p.kind === 'admin') return null;
  if (p.kind === 'partner' && p.scopes.includes('credits:write')) return p.partnerId;
  return undefined;
}

export function loadVisibleCredits(ctx: Context, ids: readonly string[]): Promise<CreditWithCard[]> {
  const owner = creditOwner(ctx);
  return owner === undefined ? Promise.resolve([]) : findCreditsByIds(ctx.db, ids, owner);
}

export async function listStatementCredits(
  ctx: Context,
  args: { first: number; after?: string | null; status?: StatementCreditStatus | null },
): Promise<Page<CreditWithCard>> {
  const owner = creditOwner(ctx);
  // What a caller may not see is simply not there (DESIGN §2).
  if (owner === undefined) return toPage([], args.first, args.after, () => '');
  const after = args.after ? decodeCursor(args.after, ['date', 'uuid'] as const) : null;
  const rows = await listCredits(ctx.db, { owner, status: args.status ?? null, limit: args.first + 1, after });
  return toPage(rows, args.first, args.after, (c) => encodeCursor([c.created_at.toISOString(), c.id]));
}

export interface SettlementInput {
  id: string;
  status: 'ISSUED' | 'FAILED';
  reference?: string | null;
}

export async function settleStatementCredits(
  ctx: Context,
  input: { credits: readonly SettlementInput[]; idempotencyKey?: string | null },
): Promise<{ credits: CreditWithCard[] }> {
  const { partnerId } = requirePartnerScope(ctx.principal, 'credits:write');
  if (input.credits.length < 1 || input.credits.length > MAX_SETTLEMENTS) {
    fail('OUT_OF_RANGE', `Settle 1 to ${MAX_SETTLEMENTS} credits per call.`, ['credits']);
  }
  const errors: UserError[] = [];
  const seen = new Set<string>();
  const items = input.credits.map((item, i) => {
    const field = (name: string) => ['credits', String(i), name];
    const id = idOfType(item.id, 'StatementCredit');
    if (!id) errors.push({ code: 'INVALID_ID', message: 'id is not a valid StatementCredit id.', field: field('id') });
    else if (seen.has(id)) errors.push({ code: 'INVALID_INPUT', message: 'The same credit appears twice.', field: field('id') });
    else seen.add(id);
    const reference = item.reference ?? null;
    if (reference !== null && (reference.length < 1 || reference.length > 128)) {
      errors.push({ code: 'INVALID_LENGTH', message: 'reference must be 1 to 128 characters.', field: field('reference') });
    }
    return { id: id ?? '', status: item.status, reference, field };
  });
  if (errors.length > 0) throw new DomainError(errors);

  const ids = await inRetryingTransaction(ctx.db, (trx) =>
    idempotent(
      trx,
      { principal: principalKey(ctx.principal), operation: 'settleStatementCredits', key: input.idempotencyKey, request: items },
      async () => {
        const offers = await lockOffers(trx, await findOfferIdsOfCredits(trx, [...seen]));
        const credits = new Map((await lockCredits(trx, [...seen], partnerId)).map((c) => [c.id, c]));
        const cashbacks = new Map((await lockCashbacks(trx, [...credits.values()].map((c) => c.cashback_id))).map((c) => [c.id, c]));
        const work = new CashbackWork(new Map(offers.map((o) => [o.id, o])));
        const events: NewEvent[] = [];
        for (const item of items) {
          const credit = credits.get(item.id);
          if (!credit) {
            errors.push({ code: 'NOT_FOUND', message: 'Statement credit not found.', field: item.field('id') });
            continue;
          }
          if (credit.status === item.status && item.status === 'ISSUED') continue; // settling twice is harmless
          if (credit.status === 'ISSUED' || credit.status === 'CANCELLED') {
            errors.push({ code: 'INVALID_STATE', message: `A ${credit.status} credit cannot be settled ${item.status}.`, field: item.field('status') });
            continue;
          }
          const cashback = cashbacks.get(credit.cashback_id)!;
          if (item.status === 'ISSUED') work.credit(cashback, credit.amount);
          await setCreditSettlement(trx, credit.id, { status: item.status, reference: item.reference });
          events.push(
            STATEMENT_CREDIT_TOPIC.event(
              item.status,
              credit.id,
              { userId: cashback.user_id, merchantId: cashback.merchant_id },
              { amount: credit.amount, currency: credit.currency, cashbackId: cashback.id, offerId: cashback.offer_id },
            ),
          );
        }
        if (errors.length > 0) throw new DomainError(errors);
        await work.flush(trx);
        await insertEvents(trx, events);
        return items.map((i) => i.id);
      },
    ),
  );
  const byId = new Map((await findCreditsByIds(ctx.db, ids, partnerId)).map((c) => [c.id, c]));
  ctx.logger.info({ credits: ids.length }, 'statement credits settled');
  return { credits: ids.map((id) => byId.get(id)!).filter(Boolean) };
}
