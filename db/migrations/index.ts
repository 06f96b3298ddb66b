/**
 * Every migration, by its sortable timestamped name. A code-defined provider works the same
 * under tsx, vitest and any bundler, where a folder scan would not.
 */
import type { Migration, MigrationProvider } from 'kysely';
import * as catalogue from './2026-11-23T1200_catalogue.js';
import * as consumers from './2026-11-23T1400_consumers.js';
import * as cashback from './2026-11-23T1600_cashback.js';
import * as events from './2026-11-23T1800_events.js';
import * as rateLimits from './2026-12-02T0600_rate_limits.js';
import * as partners from './2026-12-02T0700_partners.js';
import * as subjects from './2026-12-02T0800_subjects.js';
import * as jobQueue from './2026-12-02T0900_job_queue.js';
import * as webhooks from './2026-12-02T1000_webhooks.js';
import * as contacts from './2026-12-02T1100_contacts.js';
import * as payments from './2026-12-02T1200_payments.js';
import * as buyByHashtag from './2026-12-02T1300_buy_by_hashtag.js';
import * as ingestChecks from './2026-12-02T1500_ingest_checks.js';
import * as ledgerCheckByIds from './2026-12-02T1510_ledger_check_by_ids.js';
import * as sequenceEventsFunction from './2026-12-02T1600_sequence_events_function.js';
import * as postsPerPlatform from './2026-12-03T0300_posts_per_platform.js';

export const migrations: Record<string, Migration> = {
  '2026-11-23T1200_catalogue': catalogue,
  '2026-11-23T1400_consumers': consumers,
  '2026-11-23T1600_cashback': cashback,
  '2026-11-23T1800_events': events,
  '2026-12-02T0600_rate_limits': rateLimits,
  '2026-12-02T0700_partners': partners,
  '2026-12-02T0800_subjects': subjects,
  '2026-12-02T0900_job_queue': jobQueue,
  '2026-12-02T1000_webhooks': webhooks,
  '2026-12-02T1100_contacts': contacts,
  '2026-12-02T1200_payments': payments,
  '2026-12-02T1300_buy_by_hashtag': buyByHashtag,
  '2026-12-02T1500_ingest_checks': ingestChecks,
  '2026-12-02T1510_ledger_check_by_ids': ledgerCheckByIds,
  '2026-12-02T1600_sequence_events_function': sequenceEventsFunction,
  '2026-12-03T0300_posts_per_platform': postsPerPlatform,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => migrations,
};
