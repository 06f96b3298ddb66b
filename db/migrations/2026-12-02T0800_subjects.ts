/**
 * Shared tables name what they are about by a generic subject (`subject_type`, `subject_id`)
 * rather than a column per record kind, so a new domain (orders, webhooks) writes events and
 * ledger postings without changing these tables:
 * - events: `offer_id`, `cashback_id`, `credit_id` become the subject; what readers needed from
 *   the other columns (the offer of a cashback event; the cashback and offer of a credit event)
 *   moves into `data`. `user_id` and `merchant_id` stay: they are the audience (who may read the
 *   event), not its subject. Topics are checked by the code's typed registry, not a constraint.
 * - ledger_entries: `cashback_id` becomes the subject (`Cashback`). The append-only triggers are
 *   set aside for the length of this one rewrite.
 * Frozen in time: uses Kysely<any>.
 */
import type { Kysely } from 'kysely';
import { runScript } from './run-script.js';

export async function up(db: Kysely<any>): Promise<void> {
  await runScript(
    db,
    `
    alter table events add column subject_type text;
    alter table events add column subject_id uuid;
    update events set
      subject_type = case topic when 'OFFER' then 'Offer' when 'CASHBACK' then 'Cashback' else 'StatementCredit' end,
      subject_id = case topic when 'OFFER' then offer_id when 'CASHBACK' then cashback_id else credit_id end,
      data = case topic
        when 'CASHBACK' then data || jsonb_build_object('offerId', offer_id)
        when 'STATEMENT_CREDIT' then data || jsonb_build_object('cashbackId', cashback_id, 'offerId', offer_id)
        else data end;
    alter table events alter column subject_type set not null;
    alter table events alter column subject_id set not null;
    alter table events drop constraint events_topic_check;
    alter table events drop column offer_id;
    alter table events drop column cashback_id;
    alter table events drop column credit_id;
    create index events_subject_idx on events (subject_type, subject_id);

    alter table ledger_entries disable trigger user;
    alter table ledger_entries add column subject_type text;
    alter table ledger_entries add column subject_id uuid;
    update ledger_entries set subject_type = 'Cashback', subject_id = cashback_id;
    alter table ledger_entries alter column subject_type set not null;
    alter table ledger_entries alter column subject_id set not null;
    alter table ledger_entries drop column cashback_id;
    alter table ledger_entries enable trigger user;
    create index ledger_entries_subject_idx on ledger_entries (subject_type, subject_id);
    `,
  );
}

/** Back to a column per record kind (without re-creating the foreign keys the up dropped). */
export async function down(db: Kysely<any>): Promise<void> {
  await runScript(
    db,
    `
    alter table ledger_entries disable trigger user;
    alter table ledger_entries add column cashback_id uuid;
    update ledger_entries set cashback_id = subject_id;
    alter table ledger_entries alter column cashback_id set not null;
    create index ledger_entries_cashback_idx on ledger_entries (cashback_id);
    alter table ledger_entries drop column subject_type;
    alter table ledger_entries drop column subject_id;
    alter table ledger_entries enable trigger user;

    alter table events add column offer_id uuid;
    alter table events add column cashback_id uuid;
    alter table events add column credit_id uuid;
    update events set
      offer_id = case topic when 'OFFER' then subject_id else (data->>'offerId')::uuid end,
      cashback_id = case topic when 'CASHBACK' then subject_id when 'STATEMENT_CREDIT' then (data->>'cashbackId')::uuid end,
      credit_id = case topic when 'STATEMENT_CREDIT' then subject_id end;
    alter table events drop column subject_type;
    alter table events drop column subject_id;
    `,
  );
}
