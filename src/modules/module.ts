/**
 * What a domain module contributes to the app, declared once in its `<domain>.module.ts`:
 * importing the declaration registers the module's GraphQL types (its schema file), and the app
 * composes the rest (error codes, partner scopes, jobs) from the one list in `src/modules/index.ts`.
 * A new domain touches its own folder and that list, never a central registry.
 *
 * Error codes and partner scopes are also types: a module adds its own to `ErrorCodeRegistry`
 * (src/lib/errors.ts) and `PartnerScopeRegistry` (src/context.ts) by declaration merging, so
 * `fail('CARD_EXPIRED', …)` is checked at compile time without the lower layers importing modules.
 */
import type { Kysely } from 'kysely';
import type { DB } from '../../db/types.js';
import type { Config } from '../config.js';
import type { Topic } from '../outbox/topics.js';
import type { Job } from '../jobs/job-runner.js';
import type { Logger } from '../logger.js';
import type { Security } from '../security.js';

export interface JobDependencies {
  db: Kysely<DB>;
  config: Config;
  logger: Logger;
  /** The key ring and token key (e.g. to open sealed webhook secrets). */
  security: Security;
}

export interface AppModule {
  name: string;
  /** The codes of the user errors this module raises, each with the description the `ErrorCode` enum shows. */
  errorCodes?: Readonly<Record<string, string>>;
  /** Partner scopes this module checks: GraphQL enum name → stored value and description. */
  partnerScopes?: Readonly<Record<string, { value: string; description: string }>>;
  /** The outbox topics this module writes (src/outbox/topics.ts): their events, subjects and data. */
  topics?: readonly Topic[];
  /** Background jobs this module runs in every instance (each claims its work in the database). */
  jobs?(deps: JobDependencies): Job[];
  /** Durable queues (src/jobs/queue.ts) this module's jobs work: metrics report each, empty or not. */
  queues?: readonly string[];
}

/** Declares a module (typed, and keeps its literal error codes for the registry). */
export const defineModule = <M extends AppModule>(module: M): M => module;
