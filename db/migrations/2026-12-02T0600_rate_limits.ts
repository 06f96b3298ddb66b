/**
 * Rate limits shared by every instance on one Postgres server: one row per (budget, key) with the
 * points taken in its window and when the window ends (ms since the epoch). The layout is the one
 * rate-limiter-flexible's Postgres store reads and upserts atomically. Frozen in time: Kysely<any>.
 */
import type { Kysely } from 'kysely';
import { runScript } from './run-script.js';

export async function up(db: Kysely<any>): Promise<void> {
  await runScript(
    db,
    `
    create table rate_limits (
      key varchar(255) primary key,
      points integer not null default 0,
      expire bigint
    );
    create index rate_limits_expire on rate_limits (expire);
    `,
  );
}

export async function down(db: Kysely<any>): Promise<void> {
  await runScript(db, `drop table rate_limits;`);
}
