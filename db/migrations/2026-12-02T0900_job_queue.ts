/**
 * One durable job queue below the modules, and e-mails on it.
 *
 * `queued_jobs` holds every background job that must happen at least once: a queue name, a key
 * unique per queue ("never twice"), a payload (identifiers only: no secrets, no card data), and
 * the delivery state: QUEUED (due at run_at), RUNNING (leased to one worker until leased_until;
 * past it, another worker may take it over), DONE, or DEAD (gave up after max_attempts, or
 * refused by its handler). max_attempts null means the queue worker's default.
 *
 * E-mails stop being their own queue: the row stays the stored message (and its QUEUED / SENT /
 * FAILED state for the user), its sending becomes a job of the `emails` queue keyed by the e-mail
 * id. E-mails name what they tell about by a generic subject (subject_type, subject_id) instead of
 * cashback_id, unique per (kind, subject). Existing rows move over: cashback_id becomes
 * ('Cashback', id) and every e-mail gets its job in the matching state, with its attempts, due
 * time, lease and last error. Frozen in time: uses Kysely<any>.
 */
import type { Kysely } from 'kysely';
import { runScript } from './run-script.js';

export async function up(db: Kysely<any>): Promise<void> {
  await runScript(
    db,
    `
    create table queued_jobs (
      id uuid primary key default gen_random_uuid(),
      queue text not null check (length(queue) between 1 and 100),
      key text not null check (length(key) between 1 and 200),
      payload jsonb not null default '{}',
      status text not null default 'QUEUED' check (status in ('QUEUED', 'RUNNING', 'DONE', 'DEAD')),
      attempts integer not null default 0 check (attempts >= 0),
      max_attempts integer check (max_attempts >= 1),
      run_at timestamptz(3) not null default now(),
      lease_token uuid,
      leased_until timestamptz(3),
      last_error text check (last_error is null or length(last_error) <= 1000),
      created_at timestamptz(3) not null default now(),
      updated_at timestamptz(3) not null default now(),
      finished_at timestamptz(3),
      unique (queue, key),
      check ((status = 'RUNNING') = (lease_token is not null and leased_until is not null))
    );

    create index queued_jobs_due_idx on queued_jobs (queue, run_at) where status in ('QUEUED', 'RUNNING');

    alter table emails add column subject_type text;

    alter table emails add column subject_id uuid;

    update emails set subject_type = 'Cashback', subject_id = cashback_id;

    alter table emails alter column subject_type set not null;

    alter table emails alter column subject_id set not null;

    alter table emails add constraint emails_subject_type_check check (length(subject_type) between 1 and 100);

    alter table emails add constraint emails_kind_subject_key unique (kind, subject_type, subject_id);

    insert into queued_jobs (queue, key, payload, status, attempts, run_at, lease_token, leased_until, last_error, created_at, updated_at, finished_at)
    select 'emails', id::text, jsonb_build_object('emailId', id),
           case when status = 'SENT' then 'DONE' when status = 'FAILED' then 'DEAD' when lease_token is not null and leased_until is not null then 'RUNNING' else 'QUEUED' end,
           attempts, next_attempt_at,
           case when status = 'QUEUED' and leased_until is not null then lease_token end,
           case when status = 'QUEUED' and lease_token is not null then leased_until end,
           left(last_error, 1000), created_at, now(),
           case when status = 'SENT' then coalesce(sent_at, now()) when status = 'FAILED' then now() end
    from emails;

    drop index emails_due_idx;

    alter table emails drop column cashback_id;

    alter table emails drop column attempts;

    alter table emails drop column next_attempt_at;

    alter table emails drop column lease_token;

    alter table emails drop column leased_until;

    alter table emails drop column last_error;
  `,
  );
}

export async function down(db: Kysely<any>): Promise<void> {
  await runScript(
    db,
    `
    alter table emails add column cashback_id uuid references cashbacks (id) deferrable initially deferred;

    alter table emails add column attempts integer not null default 0;

    alter table emails add column next_attempt_at timestamptz(3) not null default now();

    alter table emails add column lease_token uuid;

    alter table emails add column leased_until timestamptz(3);

    alter table emails add column last_error text;

    update emails e set attempts = j.attempts, next_attempt_at = j.run_at, lease_token = j.lease_token, leased_until = j.leased_until, last_error = j.last_error
    from queued_jobs j where j.queue = 'emails' and j.key = e.id::text;

    delete from emails where subject_type <> 'Cashback';

    update emails set cashback_id = subject_id;

    alter table emails alter column cashback_id set not null;

    alter table emails drop constraint emails_kind_subject_key;

    alter table emails drop column subject_type;

    alter table emails drop column subject_id;

    alter table emails add constraint emails_kind_cashback_id_key unique (kind, cashback_id);

    create index emails_due_idx on emails (next_attempt_at) where status = 'QUEUED';

    drop table queued_jobs;
  `,
  );
}
