/**
 * `/metrics` in the Prometheus text format. The HTTP and GraphQL phase series come from yoga's
 * maintained Prometheus plugin (@graphql-yoga/plugin-prometheus over prom-client); this file adds
 * what only hashback knows: operations by name and outcome, errors by code, the database pool and
 * statements, the event log against what this instance delivered, live subscriptions and
 * sockets, the e-mail queue, job failures and rate-limit refusals. Those are read when scraped
 * (gauges and counters with `collect`), so nothing on the request path pays for them.
 *
 * Each app has its own registry (several apps share a process in tests and benchmarks). With
 * METRICS_TOKEN set, `/metrics` asks for `Authorization: Bearer <token>` (401 otherwise).
 */
import { timingSafeEqual } from 'node:crypto';
import { getOperationAST, GraphQLError, type DocumentNode, type ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { createCounter, createHistogram, usePrometheus } from '@graphql-yoga/plugin-prometheus';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

export const METRICS_PATH = '/metrics';

/** What the scrape reads from the rest of the instance; each is called once per scrape. */
export interface MetricsSources {
  statementCount(): number;
  poolStats?(): { total: number; idle: number; waiting: number };
  /** Highest event position in the log (one indexed read). */
  eventLogHead?(): Promise<number>;
  /** Position of the last event this instance delivered live. */
  eventsDelivered?(): number;
  /** Live subscriptions this instance serves (graphql-ws and SSE). */
  openSubscriptions(): number;
  /** Open WebSocket connections and HTTP sockets. */
  openWebSockets(): number;
  openHttpSockets(): number;
  /** Jobs of each durable queue by status (QUEUED + RUNNING is the depth, DEAD the given-up ones). */
  jobQueues(): Promise<Record<string, Partial<Record<'QUEUED' | 'RUNNING' | 'DEAD', number>>>>;
  /** Failed job rounds per job name since start. */
  jobFailures(): ReadonlyMap<string, number>;
  /** Refusals per rate-limit policy since start. */
  rateLimitRejections(): ReadonlyMap<string, number>;
}

interface OperationInfo {
  name: string;
  type: string;
}

const operationOf = (document: DocumentNode, operationName: string | null | undefined): OperationInfo => {
  const operation = getOperationAST(document, operationName);
  return { name: operation?.name?.value ?? 'anonymous', type: operation?.operation ?? 'unknown' };
};

/** Labels of the GraphQL series of yoga's Prometheus plugin: the operation's name and type. */
const OPERATION_LABELS = ['operationType', 'operationName'] as const;

/** How many operation names become label values; later ones count as "other". */
const MAX_OPERATION_NAMES = 500;

/**
 * Operation names are the client's to choose, and every new label value is a series kept for good:
 * the first MAX_OPERATION_NAMES names seen are labels, any later one is "other", so no client can
 * grow the registry without end.
 */
function boundedNames(): (name: string) => string {
  const seen = new Set<string>();
  return (name) => {
    if (seen.has(name)) return name;
    if (seen.size >= MAX_OPERATION_NAMES) return 'other';
    seen.add(name);
    return name;
  };
}

/**
 * The `url` label of the HTTP series: the GraphQL path, or "other". The library labelled with the
 * whole URL, query string and Host included, so anyone could add series without end (a GET with a
 * new query string, or a new Host header, made one), each holding its buckets in memory for good.
 */
function pathLabel(url: string, graphqlPath: string): string {
  const start = url.indexOf('/', url.indexOf('//') + 2);
  const end = url.indexOf('?', start);
  return start >= 0 && url.slice(start, end < 0 ? undefined : end) === graphqlPath ? graphqlPath : 'other';
}

/** An error's code as clients see it: `extensions.code`, or UNEXPECTED for a masked failure. */
function codeOf(error: { extensions?: Record<string, unknown>; originalError?: unknown }): string {
  const code = error.extensions?.code;
  if (typeof code === 'string') return code;
  return error.originalError && !(error.originalError instanceof GraphQLError) ? 'UNEXPECTED' : 'GRAPHQL_ERROR';
}

/** Adds what a since-start total gained to a counter (counters only go up). */
function followTotals(counter: Counter<string>, label: string, totals: ReadonlyMap<string, number>, seen: Map<string, number>): void {
  for (const [key, total] of totals) {
    const delta = total - (seen.get(key) ?? 0);
    if (delta > 0) counter.inc({ [label]: key }, delta);
    seen.set(key, total);
  }
}

function authorized(request: Request, token: string | undefined): boolean {
  if (!token) return true;
  const given = Buffer.from(request.headers.get('authorization') ?? '');
  const expected = Buffer.from(`Bearer ${token}`);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export interface Metrics {
  registry: Registry;
  plugin: Plugin;
}

export function createMetrics(options: { token: string | undefined; sources: () => MetricsSources; graphqlPath: string }): Metrics {
  const registry = new Registry();
  const nameLabel = boundedNames();
  const operationLabels = (params: { operationName?: string; operationType?: string }) => ({
    operationName: nameLabel(params.operationName ?? 'Anonymous'),
    operationType: params.operationType!,
  });
  collectDefaultMetrics({ register: registry, prefix: 'hashback_' });
  const sources = options.sources;

  const operations = new Counter({
    name: 'hashback_graphql_operations_total',
    help: 'GraphQL operations run, by operation name, type and outcome (ok: no errors; error: at least one error; a subscription counts when it starts).',
    labelNames: ['operation', 'type', 'outcome'],
    registers: [registry],
  });
  const errors = new Counter({
    name: 'hashback_graphql_errors_total',
    help: 'GraphQL errors sent to clients, by extensions.code (UNEXPECTED: a masked failure; payload userErrors are not errors).',
    labelNames: ['code'],
    registers: [registry],
  });
  const countResult = (operation: OperationInfo, result: ExecutionResult | AsyncIterable<unknown>) => {
    if (Symbol.asyncIterator in result) {
      operations.inc({ operation: nameLabel(operation.name), type: operation.type, outcome: 'ok' });
      return;
    }
    const list = result.errors ?? [];
    operations.inc({ operation: nameLabel(operation.name), type: operation.type, outcome: list.length > 0 ? 'error' : 'ok' });
    for (const error of list) errors.inc({ code: codeOf(error as GraphQLError) });
  };

  let statementsSeen = 0;
  new Counter({
    name: 'hashback_db_statements_total',
    help: 'SQL statements sent to the database by this instance.',
    registers: [registry],
    collect() {
      const total = sources().statementCount();
      if (total > statementsSeen) this.inc(total - statementsSeen);
      statementsSeen = total;
    },
  });
  new Gauge({
    name: 'hashback_db_pool_connections',
    help: 'Database pool connections by state (in_use, idle) and requests waiting for one (waiting). Postgres only.',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      const stats = sources().poolStats?.();
      if (!stats) return;
      this.set({ state: 'in_use' }, stats.total - stats.idle);
      this.set({ state: 'idle' }, stats.idle);
      this.set({ state: 'waiting' }, stats.waiting);
    },
  });
  new Gauge({
    name: 'hashback_event_log_position',
    help: 'Event log positions: head (highest sequenced in the database) and delivered (last delivered live by this instance).',
    labelNames: ['which'],
    registers: [registry],
    async collect() {
      const s = sources();
      if (!s.eventLogHead || !s.eventsDelivered) return;
      this.set({ which: 'head' }, await s.eventLogHead());
      this.set({ which: 'delivered' }, s.eventsDelivered());
    },
  });
  new Gauge({
    name: 'hashback_subscriptions_open',
    help: 'Live subscriptions this instance serves (graphql-ws and SSE).',
    registers: [registry],
    collect() {
      this.set(sources().openSubscriptions());
    },
  });
  new Gauge({
    name: 'hashback_sockets_open',
    help: 'Open connections by kind: websocket (graphql-ws) and http (TCP sockets of the HTTP server, WebSockets included).',
    labelNames: ['kind'],
    registers: [registry],
    collect() {
      this.set({ kind: 'websocket' }, sources().openWebSockets());
      this.set({ kind: 'http' }, sources().openHttpSockets());
    },
  });
  new Gauge({
    name: 'hashback_job_queue_depth',
    help: 'Jobs waiting in a durable queue or running (e-mails to deliver), by queue.',
    labelNames: ['job'],
    registers: [registry],
    async collect() {
      for (const [queue, byStatus] of Object.entries(await sources().jobQueues())) {
        this.set({ job: queue }, (byStatus.QUEUED ?? 0) + (byStatus.RUNNING ?? 0));
      }
    },
  });
  new Gauge({
    name: 'hashback_job_given_up',
    help: 'Dead jobs of a durable queue (given up after their attempts, e.g. e-mails FAILED after EMAIL_MAX_ATTEMPTS), by queue.',
    labelNames: ['job'],
    registers: [registry],
    async collect() {
      for (const [queue, byStatus] of Object.entries(await sources().jobQueues())) this.set({ job: queue }, byStatus.DEAD ?? 0);
    },
  });
  const jobFailuresSeen = new Map<string, number>();
  new Counter({
    name: 'hashback_job_failures_total',
    help: 'Job rounds that failed (retried next round), by job.',
    labelNames: ['job'],
    registers: [registry],
    collect() {
      followTotals(this, 'job', sources().jobFailures(), jobFailuresSeen);
    },
  });
  const rejectionsSeen = new Map<string, number>();
  new Counter({
    name: 'hashback_rate_limit_rejections_total',
    help: 'Requests and attempts refused by a rate limit, by policy.',
    labelNames: ['policy'],
    registers: [registry],
    collect() {
      followTotals(this, 'policy', sources().rateLimitRejections(), rejectionsSeen);
    },
  });

  const httpOperations = new WeakMap<Request, OperationInfo>();
  const phaseHistogram = <P extends 'parse' | 'validate' | 'context' | 'execute' | 'subscribe'>(phase: P, help: string) =>
    createHistogram({ registry, histogram: { name: `graphql_envelop_phase_${phase}`, help, labelNames: OPERATION_LABELS }, fillLabelsFn: operationLabels, phases: [phase] });

  const plugin: Plugin = {
    onPluginInit({ addPlugin }) {
      // HTTP requests and durations (graphql_yoga_http_duration), GraphQL phases and error results.
      addPlugin(
        usePrometheus({
          registry,
          endpoint: false,
          metrics: {
            // The request-time summary repeats graphql_envelop_request_duration as quantiles, and its
            // t-digest cost 2% of an uncached feed request in the profile: the histogram stays.
            graphql_envelop_deprecated_field: false,
            graphql_envelop_schema_change: false,
            graphql_envelop_request_time_summary: false,
            // The library's own series, names, help texts and labels as it makes them, labelled directly:
            // by default each observation built its labels through two objects and an entries
            // array (seven observations a request).
            graphql_yoga_http_duration: createHistogram({
              registry,
              histogram: { name: 'graphql_yoga_http_duration', help: 'Time spent on HTTP connection', labelNames: [...OPERATION_LABELS, 'method', 'statusCode', 'url'] },
              fillLabelsFn: (params, { request, response }: { request: Request; response: Response }) => ({
                method: request.method,
                statusCode: response.status,
                operationType: params.operationType || 'unknown',
                operationName: nameLabel(params.operationName || 'Anonymous'),
                url: pathLabel(request.url, options.graphqlPath),
              }),
              phases: ['request'],
            }),
            graphql_envelop_phase_parse: phaseHistogram('parse', 'Time spent on running GraphQL "parse" function'),
            graphql_envelop_phase_validate: phaseHistogram('validate', 'Time spent on running GraphQL "validate" function'),
            graphql_envelop_phase_context: phaseHistogram('context', 'Time spent on building the GraphQL context'),
            graphql_envelop_phase_execute: phaseHistogram('execute', 'Time spent on running the GraphQL "execute" function'),
            graphql_envelop_phase_subscribe: phaseHistogram('subscribe', 'Time spent on running the GraphQL "subscribe" function'),
            graphql_envelop_request_duration: createHistogram({
              registry,
              histogram: { name: 'graphql_envelop_request_duration', help: 'Time spent on running the GraphQL operation from parse to execute', labelNames: OPERATION_LABELS },
              fillLabelsFn: operationLabels,
              phases: ['execute', 'subscribe'],
            }),
            graphql_envelop_request: createCounter({
              registry,
              counter: { name: 'graphql_envelop_request', help: 'Counts the amount of GraphQL requests executed through Envelop', labelNames: OPERATION_LABELS },
              fillLabelsFn: operationLabels,
              phases: ['execute', 'subscribe'],
            }),
          },
        }) as Plugin,
      );
    },
    onRequest({ request, url, endResponse, fetchAPI }) {
      if (url.pathname !== METRICS_PATH) return;
      if (request.method !== 'GET') {
        endResponse(new fetchAPI.Response(null, { status: 405, headers: { allow: 'GET' } }));
        return;
      }
      if (!authorized(request, options.token)) {
        endResponse(
          new fetchAPI.Response(JSON.stringify({ error: 'METRICS_TOKEN: send Authorization: Bearer <token>' }), {
            status: 401,
            headers: { 'content-type': 'application/json; charset=utf-8', 'www-authenticate': 'Bearer' },
          }),
        );
        return;
      }
      return registry.metrics().then((text) => {
        endResponse(new fetchAPI.Response(text, { headers: { 'content-type': registry.contentType } }));
      });
    },
    // HTTP and SSE: counted on the answer, so refusals before execution (validation, limits,
    // rate limits) count too. graphql-ws has no HTTP answer: counted when it executes.
    onParse({ context }) {
      const request = (context as { request?: Request }).request;
      if (!request) return;
      return ({ result, context: ctx }) => {
        if (result instanceof Error) return;
        httpOperations.set(request, operationOf(result, (ctx as { params?: { operationName?: string } }).params?.operationName));
      };
    },
    onResultProcess({ request, result }) {
      const operation = httpOperations.get(request) ?? { name: 'unparsed', type: 'unknown' };
      for (const one of Array.isArray(result) ? result : [result]) countResult(operation, one as ExecutionResult);
    },
    onExecute({ args }) {
      if ((args.contextValue as { request?: Request }).request) return;
      const operation = operationOf(args.document, args.operationName);
      return { onExecuteDone: ({ result }) => countResult(operation, result as ExecutionResult) };
    },
    onSubscribe({ args }) {
      if ((args.contextValue as { request?: Request }).request) return;
      const operation = operationOf(args.document, args.operationName);
      return { onSubscribeResult: ({ result }) => countResult(operation, result as ExecutionResult) };
    },
  };
  return { registry, plugin };
}
