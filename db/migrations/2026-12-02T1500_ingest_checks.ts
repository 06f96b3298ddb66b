/**
 * Checks that cost ingest one query per row or a transaction of its own, made one per statement:
 * - The ledger's balance check runs once per INSERT statement over the postings it wrote (a
 *   statement trigger with the inserted rows), instead of once per entry at commit. Every posting
 *   is written whole by one statement, so a posting must now balance at the end of the statement
 *   that writes it: stricter than at commit, and the faulty statement is the one refused.
 * - `raise_serialization_failure(message)` lets a single statement that checks its own
 *   preconditions (rows it expected to write) fail as a serialization failure (40001), which the
 *   caller retries, instead of committing half of what it meant.
 * Frozen in time: uses Kysely<any>.
 */
import type { Kysely } from 'kysely';
import { runScript } from './run-script.js';

export async function up(db: Kysely<any>): Promise<void> {
  await runScript(
    db,
    `
    drop trigger ledger_postings_balance on ledger_entries;

    drop function check_posting_balanced;

    create function check_postings_balanced() returns trigger language plpgsql as $$ declare unbalanced uuid; begin select e.posting_id into unbalanced from ledger_entries e where e.posting_id in (select posting_id from inserted) group by e.posting_id having sum(e.amount) <> 0 or count(distinct e.currency) > 1 limit 1; if found then raise exception 'ledger posting % does not balance', unbalanced using errcode = '23514'; end if; return null; end $$;

    create trigger ledger_postings_balance after insert on ledger_entries referencing new table as inserted for each statement execute function check_postings_balanced();

    create function raise_serialization_failure(message text) returns boolean language plpgsql as $$ begin raise exception '%', message using errcode = '40001'; end $$;
  `,
  );
}

export async function down(db: Kysely<any>): Promise<void> {
  await runScript(
    db,
    `
    drop function raise_serialization_failure;

    drop trigger ledger_postings_balance on ledger_entries;

    drop function check_postings_balanced;

    create function check_posting_balanced() returns trigger language plpgsql as $$ begin if exists (select 1 from ledger_entries where posting_id = new.posting_id having sum(amount) <> 0 or count(distinct currency) > 1) then raise exception 'ledger posting % does not balance', new.posting_id using errcode = '23514'; end if; return null; end $$;

    create constraint trigger ledger_postings_balance after insert on ledger_entries deferrable initially deferred for each row execute function check_posting_balanced();
  `,
  );
}
