/**
 * The ledger's statement-level balance check (2026-12-02T1500_ingest_checks) reads the inserted
 * rows once into an array and looks the postings up by it: a query joining the transition table
 * is planned at every statement (0.55 ms for a one-entry posting, ten times the old per-entry
 * check), while this one keeps its plan. Same rule: every posting balances, in one currency, at
 * the end of the statement that writes it.
 * Frozen in time: uses Kysely<any>.
 */
import type { Kysely } from 'kysely';
import { runScript } from './run-script.js';

export async function up(db: Kysely<any>): Promise<void> {
  await runScript(
    db,
    `
    create or replace function check_postings_balanced() returns trigger language plpgsql as $$ declare ids uuid[]; unbalanced uuid; begin select array_agg(posting_id) into ids from inserted; select e.posting_id into unbalanced from ledger_entries e where e.posting_id = any(ids) group by e.posting_id having sum(e.amount) <> 0 or count(distinct e.currency) > 1 limit 1; if found then raise exception 'ledger posting % does not balance', unbalanced using errcode = '23514'; end if; return null; end $$;
  `,
  );
}

export async function down(db: Kysely<any>): Promise<void> {
  await runScript(
    db,
    `
    create or replace function check_postings_balanced() returns trigger language plpgsql as $$ declare unbalanced uuid; begin select e.posting_id into unbalanced from ledger_entries e where e.posting_id in (select posting_id from inserted) group by e.posting_id having sum(e.amount) <> 0 or count(distinct e.currency) > 1 limit 1; if found then raise exception 'ledger posting % does not balance', unbalanced using errcode = '23514'; end if; return null; end $$;
  `,
  );
}
