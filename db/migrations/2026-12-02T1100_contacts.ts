/**
 * Merchants and partners get a contact e-mail address (optional), so the platform can write to
 * the owner of a webhook endpoint it disabled. E-mails stop being for users only: `user_id` is
 * null for a message to a merchant's or partner's contact address, and the kinds are no longer
 * a closed list in the table (the code's EmailKind is the list; a new kind needs no migration).
 * Frozen in time: uses Kysely<any>.
 */
import type { Kysely } from 'kysely';
import { runScript } from './run-script.js';

export async function up(db: Kysely<any>): Promise<void> {
  await runScript(
    db,
    `
    alter table merchants add column contact_email text check (length(contact_email) between 3 and 254 and contact_email like '%@%');

    alter table partners add column contact_email text check (length(contact_email) between 3 and 254 and contact_email like '%@%');

    alter table emails alter column user_id drop not null;

    alter table emails drop constraint emails_kind_check;

    alter table emails add constraint emails_kind_check check (kind ~ '^[A-Z][A-Z_]{1,63}$');
    `,
  );
}

export async function down(db: Kysely<any>): Promise<void> {
  await runScript(
    db,
    `
    delete from queued_jobs where queue = 'emails' and key in (select id::text from emails where user_id is null or kind not in ('CASHBACK_CONFIRMED', 'CASHBACK_CREDITED'));

    delete from emails where user_id is null or kind not in ('CASHBACK_CONFIRMED', 'CASHBACK_CREDITED');

    alter table emails drop constraint emails_kind_check;

    alter table emails add constraint emails_kind_check check (kind in ('CASHBACK_CONFIRMED', 'CASHBACK_CREDITED'));

    alter table emails alter column user_id set not null;

    alter table partners drop column contact_email;

    alter table merchants drop column contact_email;
    `,
  );
}
