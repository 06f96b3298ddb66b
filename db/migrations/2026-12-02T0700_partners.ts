/**
 * Partners above keys: a partner (card network, processor, social platform) holds scopes and a
 * status and is issued several API keys; its transactions, and through them its statement
 * credits, and its idempotency keys belong to the partner, so a key can be rotated without
 * losing anything. Existing data moves over: one partner per existing PARTNER key (revoked ones
 * too, their transactions need an owner), named after the key, with its scopes and the key's id
 * as its own (so the move needs no mapping table); the key then follows its partner's scopes
 * (`api_keys.scopes` null). Frozen in time: uses Kysely<any>.
 */
import type { Kysely } from 'kysely';
import { runScript } from './run-script.js';

export async function up(db: Kysely<any>): Promise<void> {
  await runScript(
    db,
    `
    create table partners (
      id uuid primary key default gen_random_uuid(),
      name text not null check (length(name) between 1 and 120),
      scopes text[] not null default '{}',
      status text not null default 'ACTIVE' check (status in ('ACTIVE', 'SUSPENDED')),
      created_at timestamptz(3) not null default now(),
      updated_at timestamptz(3) not null default now()
    );

    create index partners_name_idx on partners (name, id);

    insert into partners (id, name, scopes, created_at, updated_at)
      select id, name, scopes, created_at, created_at from api_keys where role = 'PARTNER';

    alter table api_keys add column partner_id uuid references partners (id);

    alter table api_keys alter column scopes drop not null;

    update api_keys set partner_id = id, scopes = null where role = 'PARTNER';

    alter table api_keys add constraint api_keys_partner_check check ((role = 'PARTNER') = (partner_id is not null));

    create index api_keys_partner_idx on api_keys (partner_id, created_at, id) where partner_id is not null;

    alter table transactions add column partner_id uuid references partners (id);

    update transactions set partner_id = partner_key_id;

    alter table transactions alter column partner_id set not null;

    alter table transactions drop column partner_key_id;

    alter table transactions add constraint transactions_partner_external_id_key unique (partner_id, external_id);

    update idempotency_keys set principal = 'partner:' || substr(principal, 5)
      where principal like 'key:%' and substr(principal, 5) in (select id::text from partners);
    `,
  );
}

export async function down(db: Kysely<any>): Promise<void> {
  // Each partner's records go back to its first key; keys take their partner's scopes.
  await runScript(
    db,
    `
    alter table transactions add column partner_key_id uuid references api_keys (id);

    update transactions t set partner_key_id = (select k.id from api_keys k where k.partner_id = t.partner_id order by k.created_at, k.id limit 1);

    alter table transactions alter column partner_key_id set not null;

    alter table transactions drop column partner_id;

    alter table transactions add constraint transactions_partner_key_id_external_id_key unique (partner_key_id, external_id);

    update idempotency_keys i set principal = 'key:' || (select k.id from api_keys k where k.partner_id::text = substr(i.principal, 9) order by k.created_at, k.id limit 1)
      where i.principal like 'partner:%';

    update api_keys k set scopes = p.scopes from partners p where k.partner_id = p.id and k.scopes is null;

    alter table api_keys alter column scopes set not null;

    alter table api_keys drop column partner_id;

    drop table partners;
    `,
  );
}
