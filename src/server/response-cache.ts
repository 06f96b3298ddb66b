/**
 * The response cache of the public catalogue: anonymous HTTP operations that select only public
 * fields (PUBLIC_FIELDS) are answered from memory by @graphql-yoga/plugin-response-cache, before
 * authentication, limits and execution run. What keeps an entry honest:
 *
 * - Only requests without an Authorization header are looked up or stored (WebSocket operations
 *   never are, nor requests saying `Cache-Control: no-cache`), and a document that selects any
 *   field outside PUBLIC_FIELDS (viewerHasActivated, counts for owners, anything added later) has
 *   a time to live of 0, so it is never stored.
 * - Every event on the instance's bus drops the whole cache (offers, cashback moving a budget, and
 *   any topic added later) except topics that cannot change public fields (IGNORED_TOPICS). The
 *   bus is fed by the relay's NOTIFY or Redis signal, so every instance drops its entries when the
 *   event reaches it. A mutation executed here drops it at once, before its answer is sent.
 * - An answer computed before an invalidation is not stored after it: each execution remembers
 *   the generation it started in, and a later generation stores nothing.
 * - No entry outlives the next scheduled transition (an offer reaching its start or its end,
 *   from the offers module's nextOfferTransition), nor RESPONSE_CACHE_TTL_MS.
 *
 * Cache hits are answered before the operation log and the rate limit: they are not logged per
 * operation nor charged (an answer from memory costs less than the limiter's own check).
 */
import { createHash } from 'node:crypto';
import { createInMemoryCache, useResponseCache, type Cache } from '@graphql-yoga/plugin-response-cache';
import { getOperationAST, isInterfaceType, isObjectType, type GraphQLSchema } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Context } from '../context.js';
import type { EventRelay } from '../live/relay.js';
import type { Logger } from '../logger.js';
import { OPERATION_LIMITS } from './limits.js';

/**
 * Fields an anonymous answer may be cached with: public, the same for every caller, and changed
 * only by something that writes an event (or by the clock, see nextOfferTransition). Merchant
 * lists stay out: a merchant's approval or suspension writes no event yet.
 */
export const PUBLIC_FIELDS: Readonly<Record<string, readonly string[]>> = {
  Query: ['offers', 'offer'],
  OfferConnection: ['edges', 'pageInfo'],
  OfferEdge: ['cursor', 'node'],
  PageInfo: ['hasNextPage', 'hasPreviousPage', 'startCursor', 'endCursor'],
  Money: ['amount', 'currency', 'formatted'],
  Offer: [
    'id',
    'merchant',
    'kind',
    'status',
    'title',
    'description',
    'rewardSummary',
    'currency',
    'rewardType',
    'rewardBasisPoints',
    'rewardAmount',
    'maxReward',
    'minSpend',
    'startsAt',
    'endsAt',
    'daysOfWeek',
    'channels',
    'countries',
    'activationRequired',
    'perUserLimit',
    'budget',
    'budgetRemaining',
    'returnPeriodDays',
    'price',
    'quantity',
    'hashtag',
    'publishedAt',
    'createdAt',
    'updatedAt',
  ],
  Merchant: ['id', 'name', 'category', 'country', 'socialHandle', 'status', 'createdAt'],
};

/** Topics whose events change no public field: they leave the cache alone. */
export const IGNORED_TOPICS: ReadonlySet<string> = new Set(['TRANSACTION', 'STATEMENT_CREDIT', 'WEBHOOK_ENDPOINT', 'SOCIAL_REPLY']);

/** Topics whose events can change when the next offer starts or ends, as far as the public sees. */
const BOUND_TOPICS: ReadonlySet<string> = new Set(['OFFER', 'MERCHANT']);

/** Every field of the schema outside PUBLIC_FIELDS, with a time to live of 0 (never stored). */
function uncacheableFields(schema: GraphQLSchema): Record<string, number> {
  const ttl: Record<string, number> = { 'Query.__schema': 0, 'Query.__type': 0 };
  for (const type of Object.values(schema.getTypeMap())) {
    if (type.name.startsWith('__') || !(isObjectType(type) || isInterfaceType(type))) continue;
    const allowed = new Set(PUBLIC_FIELDS[type.name] ?? []);
    for (const field of Object.keys(type.getFields())) {
      if (!allowed.has(field)) ttl[`${type.name}.${field}`] = 0;
    }
  }
  return ttl;
}

export interface PublicResponseCache {
  plugin: Plugin<Context>;
  /** Drops every entry (and any answer still being computed from before now). */
  invalidate(reason: string): void;
  /** How many times the cache was dropped since start. */
  readonly invalidations: number;
  /** Answers stored since start. */
  readonly stored: number;
  close(): void;
}

/**
 * Whether a request may be answered from, or stored in, the shared cache: anonymous HTTP, unless
 * it says `Cache-Control: no-cache` (a client, or the benchmark, asking for a computed answer).
 */
function anonymousHttp(request: Request | undefined, context: { principal?: Context['principal'] } | undefined): boolean {
  if (!request || request.headers.has('authorization')) return false;
  if (request.headers.get('cache-control')?.toLowerCase().includes('no-cache')) return false;
  return context?.principal === undefined || context.principal.kind === 'anonymous';
}

/**
 * The key of an answer: a hash of the document, the operation and the variables (the plugin's own
 * default hashes with WebCrypto's asynchronous digest, which cost 7% of an uncached feed request
 * in the profile, even for requests the cache leaves alone). Requests the cache leaves alone get
 * no key at all, and so do parameters yoga or the operation limits refuse next: the plugin asks
 * for a key before either looks at them, so a `query` that is not a string (`{"query": 123}`) or
 * variables nested past the limit must reach their 400 rather than fail here.
 */
function cacheKey(params: { documentString: unknown; operationName?: unknown; variableValues?: unknown; request: Request; context?: unknown }): string {
  if (!anonymousHttp(params.request, params.context as { principal?: Context['principal'] })) return '';
  const { documentString, operationName } = params;
  if (typeof documentString !== 'string' || !(operationName == null || typeof operationName === 'string')) return '';
  const variables = stableJson(params.variableValues ?? {}, 0);
  if (variables === null) return '';
  return createHash('sha256').update(documentString).update('\0').update(operationName ?? '').update('\0').update(variables).digest('base64url');
}

/**
 * JSON with object keys sorted, so `{a, b}` and `{b, a}` share an entry; null when it nests deeper
 * than the operation limits allow (such variables are refused before they run, and never cached).
 */
function stableJson(value: unknown, depth: number): string | null {
  if (depth > OPERATION_LIMITS.variableDepth) return null;
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  const parts: string[] = [];
  if (Array.isArray(value)) {
    for (const item of value) {
      const json = stableJson(item, depth + 1);
      if (json === null) return null;
      parts.push(json);
    }
    return `[${parts.join(',')}]`;
  }
  for (const key of Object.keys(value).sort()) {
    const item = (value as Record<string, unknown>)[key];
    if (item === undefined) continue;
    const json = stableJson(item, depth + 1);
    if (json === null) return null;
    parts.push(`${JSON.stringify(key)}:${json}`);
  }
  return `{${parts.join(',')}}`;
}

export function createPublicResponseCache(options: {
  schema: GraphQLSchema;
  /** When the next scheduled change of public answers happens (an offer reaching its start or end); null for none. */
  nextTransition: (now: Date) => Promise<Date | null>;
  relay: EventRelay;
  ttlMs: number;
  maxEntries: number;
  logger: Logger;
}): PublicResponseCache {
  const { nextTransition, relay, ttlMs, maxEntries, logger } = options;
  let store = createInMemoryCache({ max: maxEntries });
  let stored = 0;
  // Dropping everything swaps the store: the old one and its entity index go to the collector.
  const cache: Cache = {
    get: (key) => store.get(key),
    set: (key, result, entities, ttl) => {
      stored++;
      held++;
      return store.set(key, result, entities, ttl);
    },
    invalidate: (entities) => store.invalidate(entities),
  };

  /** Bumped by every invalidation; an execution started in an older generation stores nothing. */
  let generation = 0;
  let invalidations = 0;
  const startedIn = new WeakMap<object, number>();
  /** The next scheduled transition as known in `generation`; recomputed after each invalidation. */
  let bound: { generation: number; until: number } | undefined;
  let refreshing = false;

  /** Answers stored since the store was last swapped: an empty store needs no new one. */
  let held = 0;

  /**
   * Drops every answer. Only a change of offers or merchants (or a mutation here) can move the
   * next scheduled start or end; other events (cashback moving a budget, an order moving stock)
   * keep the known bound. Building a new store (its LRU preallocates `maxEntries` slots) is skipped
   * when nothing was stored since the last drop: under ingest, every cashback event rebuilt it, a
   * third of the server's busy time in the batch phase of bench:ingest.
   */
  const invalidate = (reason: string, topic?: string) => {
    generation++;
    invalidations++;
    if (topic === undefined || BOUND_TOPICS.has(topic)) bound = undefined;
    else if (bound) bound = { ...bound, generation };
    if (held > 0) {
      held = 0;
      store = createInMemoryCache({ max: maxEntries });
    }
    logger.debug({ reason }, 'response cache dropped');
  };

  const refreshBound = () => {
    if (refreshing) return;
    refreshing = true;
    const asOf = generation;
    nextTransition(new Date())
      .then(
        (next) => {
          if (generation === asOf) bound = { generation: asOf, until: next ? next.getTime() : Number.POSITIVE_INFINITY };
        },
        (error: unknown) => logger.warn({ err: error }, 'response cache could not read the next offer transition; not caching for now'),
      )
      .finally(() => {
        refreshing = false;
      });
  };

  /** How long this execution's answer may be kept: 0 when it must not be stored at all. */
  const ttlFor = (ttl: number, context: object): number => {
    if (ttl <= 0 || startedIn.get(context) !== generation) return 0;
    if (!bound || bound.generation !== generation) {
      refreshBound();
      return 0;
    }
    const left = bound.until - Date.now();
    if (left <= 0) {
      // A start or end just passed: what was computed around it is not kept, and the next
      // transition is read again.
      bound = undefined;
      refreshBound();
      return 0;
    }
    return Math.min(ttl, ttlMs, left);
  };

  // The bus hands every event to `accepts` of each listener as it is delivered: this listener
  // only looks (it never queues anything, so it can never fall behind).
  const tap = relay.bus.subscribe({}, (event) => {
    if (!IGNORED_TOPICS.has(event.topic)) invalidate(`${event.topic} ${event.type}`, event.topic);
    return false;
  });

  const responseCache = useResponseCache<Record<string, unknown>>({
    session: () => null,
    buildResponseCacheKey: cacheKey,
    enabled: (request, context) => anonymousHttp(request, context as { principal?: Context['principal'] }),
    cache,
    ttl: ttlMs,
    ttlPerSchemaCoordinate: uncacheableFields(options.schema),
    // Mutations drop the whole cache below; the plugin's own entity-by-entity invalidation would
    // rewrite every mutation document for nothing.
    invalidateViaMutation: false,
    includeExtensionMetadata: false,
    onTtl: ({ ttl, context }) => ttlFor(ttl, context as object),
    // A request without a key (see cacheKey) is never stored: all such requests would share one entry.
    shouldCacheResult: ({ cacheKey: key, result }) => key !== '' && !result.errors?.length,
  });

  const plugin: Plugin<Context> = {
    onPluginInit({ addPlugin }) {
      addPlugin(responseCache as Plugin<Context>);
    },
    onExecute({ args }) {
      startedIn.set(args.contextValue, generation);
      if (getOperationAST(args.document, args.operationName)?.operation !== 'mutation') return;
      return { onExecuteDone: () => invalidate('mutation') };
    },
  };

  return {
    plugin,
    invalidate,
    get invalidations() {
      return invalidations;
    },
    get stored() {
      return stored;
    },
    close: () => tap.close(),
  };
}
