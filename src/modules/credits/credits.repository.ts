/**
 * Statement credits: cashback to be paid back onto a card, listed and settled by card partners.
 */
import { sql, type Kysely, type Transaction } from 'kysely';
import type { DB, StatementCreditRow, StatementCreditStatus } from '../../../db/types.js';

export type CreditWithCard = StatementCreditRow & { network: string; last4: string; transaction_external_id: string };

function withCard(db: Kysely<DB>) {
  return db
    .selectFrom('statement_credits')
    .innerJoin('cards', 'cards.id', 'statement_credits.card_id')
    .innerJoin('cashbacks', 'cashbacks.id', 'statement_credits.cashback_id')
    .innerJoin('transactions', 'transactions.id', 'cashbacks.purchase_transaction_id')
    .selectAll('statement_credits')
    .select(['cards.network', 'cards.last4', 'transactions.external_id as transaction_external_id']);
}

/** Whose credits: a partner (id) sees those of purchases it ingested, with any of its keys; null means all (admins). */
export type CreditOwner = string | null;

export async function findCreditsByIds(db: Kysely<DB>, ids: readonly string[], owner: CreditOwner): Promise<CreditWithCard[]> {
  if (ids.length === 0) return [];
  let query = withCard(db).where('statement_credits.id', 'in', ids);
  if (owner) query = query.where('transactions.partner_id', '=', owner);
  return query.execute();
}

export async function listCredits(
  db: Kysely<DB>,
  options: { owner: CreditOwner; status: StatementCreditStatus | null; limit: number; after: readonly [string, string] | null },
): Promise<CreditWithCard[]> {
  let query = withCard(db);
  if (options.owner) query = query.where('transactions.partner_id', '=', options.owner);
  if (options.status) query = query.where('statement_credits.status', '=', options.status);
  if (options.after) {
    const [createdAt, id] = options.after;
    query = query.where(sql<boolean>`(statement_credits.created_at, statement_credits.id) > (${createdAt}::timestamptz, ${id}::uuid)`);
  }
  return query.orderBy('statement_credits.created_at').orderBy('statement_credits.id').limit(options.limit).execute();
}

export async function lockCredits(trx: Transaction<DB>, ids: readonly string[], owner: CreditOwner): Promise<StatementCreditRow[]> {
  if (ids.length === 0) return [];
  let query = trx.selectFrom('statement_credits').selectAll('statement_credits').where('statement_credits.id', 'in', ids);
  if (owner) {
    query = query.where((eb) =>
      eb.exists(
        eb
          .selectFrom('cashbacks')
          .innerJoin('transactions', 'transactions.id', 'cashbacks.purchase_transaction_id')
          .select('cashbacks.id')
          .whereRef('cashbacks.id', '=', 'statement_credits.cashback_id')
          .where('transactions.partner_id', '=', owner),
      ),
    );
  }
  return query.orderBy('statement_credits.id').forUpdate().execute();
}

export async function findOfferIdsOfCredits(trx: Transaction<DB>, ids: readonly string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const rows = await trx
    .selectFrom('statement_credits')
    .innerJoin('cashbacks', 'cashbacks.id', 'statement_credits.cashback_id')
    .select('cashbacks.offer_id')
    .distinct()
    .where('statement_credits.id', 'in', ids)
    .execute();
  return rows.map((r) => r.offer_id);
}

export async function setCreditSettlement(
  trx: Transaction<DB>,
  id: string,
  settlement: { status: 'ISSUED' | 'FAILED'; reference: string | null },
): Promise<void> {
  await trx
    .updateTable('statement_credits')
    .set((eb) => ({
      status: settlement.status,
      reference: settlement.reference,
      attempts: eb('attempts', '+', 1),
      settled_at: new Date(),
      updated_at: new Date(),
    }))
    .where('id', '=', id)
    .execute();
}
