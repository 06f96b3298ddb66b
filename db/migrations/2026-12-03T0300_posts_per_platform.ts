/**
 * A social post is the platform's, whichever partner delivers it: one row per (platform, post id).
 * Keyed per (partner, platform, post id), the same X post relayed by two partners acted twice
 * (two purchase intents, two charges of the card).
 * Frozen in time: uses Kysely<any>.
 */
import type { Kysely } from 'kysely';
import { runScript } from './run-script.js';

export async function up(db: Kysely<any>): Promise<void> {
  await runScript(
    db,
    `
    alter table social_posts drop constraint social_posts_partner_id_platform_post_id_key;
    alter table social_posts add constraint social_posts_platform_post_id_key unique (platform, post_id);
  `,
  );
}

export async function down(db: Kysely<any>): Promise<void> {
  await runScript(
    db,
    `
    alter table social_posts drop constraint social_posts_platform_post_id_key;
    alter table social_posts add constraint social_posts_partner_id_platform_post_id_key unique (partner_id, platform, post_id);
  `,
  );
}
