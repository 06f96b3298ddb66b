/**
 * The server: graphql-yoga over HTTP (GraphiQL, SSE) and graphql-ws over WebSocket on the same
 * port and path. WebSocket operations run through yoga's envelop, so both transports share the
 * plugins, the context and validation. Also owns health, readiness and graceful shutdown.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { getOperationAST, GraphQLError, type ExecutionArgs } from 'graphql';
import { createYoga, type Plugin, type YogaServerInstance } from 'graphql-yoga';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import type { Config } from './config.js';
import { ANONYMOUS, type Context, type Principal } from './context.js';
import type { Database } from './database.js';
import type { Logger } from './logger.js';
import { databaseNotReady } from './migrate.js';
import { schema } from './schema/index.js';
import { authenticate } from './server/authenticate.js';
import { clientAddressOf, corsOf, originAllowed, requestIdOf, useRequestGuards } from './server/http-edge.js';
import { useOperationLimits } from './server/limits.js';
import { useNulCharacterGuard } from './server/nul-character-guard.js';
import { createRateLimits, type RateLimits } from './rate-limits.js';
import { useCardNumberScrubbing } from './server/scrub-errors.js';
import { createPublicResponseCache, type PublicResponseCache } from './server/response-cache.js';
import { useCompiledQueries } from './server/compiled-execution.js';
import { useProbes } from './server/health.js';
import { createMetrics } from './server/metrics.js';
import { headPosition } from './outbox/outbox.repository.js';
import { countJobsByQueue } from './jobs/queue.repository.js';
import { useDemoPage } from './server/demo.js';
import { graphiqlOptions, renderGraphiQLPage, useGraphiQLAssets } from './server/graphiql.js';
import { operationConnectionParams } from './server/ws-credentials.js';
import type { Security } from './security.js';
import { startJobRunner, type Job, type JobRunner } from './jobs/job-runner.js';
import { startEventRelay, type EventRelay } from './live/relay.js';
import { liveApiKeyIds } from './modules/api-keys/api-keys.service.js';
import { nextOfferTransition } from './modules/offers/offers.service.js';
import { MODULES } from './modules/index.js';

export const GRAPHQL_PATH = '/graphql';

/** WebSocket close code sent to clients when the server shuts down. */
export const CLOSE_GOING_AWAY = 1001;

export interface App {
  server: http.Server;
  yoga: YogaServerInstance<Record<string, unknown>, Context>;
  /** Starts listening; resolves with the URL of the GraphQL endpoint. */
  listen(port?: number, host?: string): Promise<string>;
  /** The rate limits this instance checks (shared with other instances through their store). */
  rateLimits: RateLimits;
  /** Background jobs of this instance (running on a timer when JOBS is on). */
  jobs: JobRunner;
  /** Live events of this instance (unless LIVE_EVENTS is off). */
  events: EventRelay | undefined;
  /** Anonymous public answers held in memory (with live events and RESPONSE_CACHE_TTL_MS > 0). */
  responseCache: PublicResponseCache | undefined;
  /** Stops accepting work, drains requests and sockets, then closes the database. */
  close(): Promise<void>;
}

/** The instance's jobs: what each module runs (e-mails only when an SMTP server is configured). */
const jobsOf = (config: Config, database: Database, logger: Logger, security: Security): Job[] =>
  MODULES.flatMap((module) => module.jobs?.({ db: database.db, config, logger, security }) ?? []);

interface ServerContext {
  req?: http.IncomingMessage;
  /** Set for WebSocket operations: the client's socket. */
  socket?: import('ws').WebSocket;
  /** Set for WebSocket operations: graphql-ws `connection_init` payload. */
  connectionParams?: Record<string, unknown>;
  /** Set for WebSocket operations: the graphql-ws id of the operation. */
  operationId?: string;
}

/** Errors the operation log wrote (with the request id): yoga's logger would write them again when it masks them. */
const loggedErrors = new WeakSet<object>();

/** One log line per operation, with the request id; unexpected errors are logged in full here, before masking. */
function useOperationLog(): Plugin<Context> {
  return {
    onExecute({ args }) {
      const started = performance.now();
      const ctx = args.contextValue;
      return {
        onExecuteDone({ result }) {
          if (Symbol.asyncIterator in result) return; // a stream: logged per event by its source
          const errors = result.errors ?? [];
          for (const error of errors) {
            if (error.originalError && !(error.originalError instanceof GraphQLError)) {
              ctx.logger.error({ err: error.originalError, path: error.path }, 'unexpected error');
              loggedErrors.add(error);
            }
          }
          ctx.logger.info(
            {
              operation: getOperationAST(args.document, args.operationName)?.name?.value,
              principal: ctx.principal.kind,
              ms: Math.round((performance.now() - started) * 10) / 10,
              errors: errors.length || undefined,
            },
            'operation',
          );
        },
      };
    },
    onResponse({ request, response }) {
      const id = requestIds.get(request);
      if (id) response.headers.set('x-request-id', id);
    },
  };
}

const requestIds = new WeakMap<Request, string>();

/** After a mutation commits, events it wrote are sequenced and delivered now, not at the next poll. */
function usePokeAfterMutations(poke: () => void): Plugin<Context> {
  return {
    onExecute({ args }) {
      if (getOperationAST(args.document, args.operationName)?.operation !== 'mutation') return;
      return { onExecuteDone: () => poke() };
    },
  };
}

export function createApp(options: { config: Config; database: Database; logger: Logger; security: Security }): App {
  const { config, database, logger, security } = options;
  const { db } = database;
  let shuttingDown = false;

  const relay = config.liveEvents
    ? startEventRelay({ config, database, logger: logger.child({ component: 'events' }), liveKeys: (ids) => liveApiKeyIds(db, ids) })
    : undefined;
  const poke = () => relay?.poke();
  const production = config.nodeEnv === 'production';
  // Anonymous public answers from memory; it needs the bus to drop them when events arrive.
  const responseCache =
    relay && config.responseCacheTtlMs > 0
      ? createPublicResponseCache({ schema, nextTransition: (now) => nextOfferTransition(db, now), relay, ttlMs: config.responseCacheTtlMs, maxEntries: config.responseCacheMaxEntries, logger: logger.child({ component: 'response-cache' }) })
      : undefined;
  const rateLimits = createRateLimits({ config, postgresUrl: database.url, logger: logger.child({ component: 'rate-limits' }) });

  // The demo's simulate endpoint calls this server's own API (set once yoga exists).
  let selfFetch: (request: Request) => Promise<Response> = () => Promise.reject(new Error('The server is not ready.'));
  // Read when /metrics is scraped; the sockets and jobs they name are created below.
  const metrics = createMetrics({
    token: config.metricsToken,
    graphqlPath: GRAPHQL_PATH,
    sources: () => ({
      statementCount: () => database.statementCount(),
      poolStats: database.poolStats,
      eventLogHead: relay ? () => headPosition(db) : undefined,
      eventsDelivered: relay ? () => relay.bus.position : undefined,
      openSubscriptions: () => relay?.openSubscriptions() ?? 0,
      openWebSockets: () => wsServer.clients.size,
      openHttpSockets: () => sockets.size,
      jobQueues: async () => ({ ...Object.fromEntries(MODULES.flatMap((m) => m.queues ?? []).map((q) => [q, {}])), ...(await countJobsByQueue(db)) }),
      jobFailures: () => jobs.failures,
      rateLimitRejections: () => rateLimits.rejections,
    }),
  });
  const yoga = createYoga<ServerContext, Context>({
    schema,
    graphqlEndpoint: GRAPHQL_PATH,
    // /health and /ready are answered with a JSON body by useProbes; yoga's own empty-bodied
    // check is moved out of the way.
    healthCheckEndpoint: '/.yoga/health',
    // useRequestGuards reads bodies within MAX_REQUEST_BYTES itself; yoga's own 25 MB guard piped
    // every body through one more stream (2% of an uncached feed request in the profile).
    maxRequestBodySize: false,
    landingPage: false,
    cors: corsOf(config),
    // Self-contained GraphiQL (src/server/graphiql.ts): served from node_modules, no CDN.
    graphiql: config.graphiql ? graphiqlOptions() : false,
    renderGraphiQL: renderGraphiQLPage,
    logging: {
      debug: (...args) => logger.debug(args.map(String).join(' ')),
      info: (...args) => logger.info(args.map(String).join(' ')),
      warn: (...args) => logger.warn(args.map(String).join(' ')),
      // Errors outside an operation's execution (a plugin's, the request's) are logged here only.
      error: (...args) => {
        if (args.length === 1 && loggedErrors.has(args[0] as object)) return;
        logger.error(args.map(String).join(' '));
      },
    },
    // Unexpected errors never reach clients: they read "Unexpected error." and the request id.
    maskedErrors: { isDev: false },
    plugins: [
      metrics.plugin,
      useProbes({
        // 503 while shutting down, while the database does not answer `select 1` within 2 s, or
        // while migrations are pending; 200 again by itself once the database answers.
        notReady: async () => {
          if (shuttingDown) return ['shutting down'];
          const database_ = await databaseNotReady(database);
          return database_ ? [database_] : [];
        },
        rootRedirect: config.graphiql && config.nodeEnv === 'development' ? GRAPHQL_PATH : undefined,
      }),
      ...(config.graphiql ? [useGraphiQLAssets()] : []),
      ...(config.demoPage ? [useDemoPage({ config, db, fetch: (request) => selfFetch(request) })] : []),
      useRequestGuards({ maxRequestBytes: config.maxRequestBytes }),
      // Before the response cache: it wraps whichever executor is in place when it runs.
      ...useCompiledQueries(),
      // Before the response cache too: an answer from memory is still an operation the caller's
      // rate limit pays for, or a flood of cached queries would be the one thing never limited.
      useOperationLimits({ production, maxCost: config.maxOperationCost, rateLimits }),
      // After the limits (the variables it walks are bounded by then), before anything runs.
      useNulCharacterGuard(),
      ...(responseCache ? [responseCache.plugin] : []),
      useCardNumberScrubbing(),
      useOperationLog(),
      usePokeAfterMutations(poke),
      // Last: subscribers admitted by the plugins above join a shared group (src/live/shared-fanout.ts).
      ...(relay ? [relay.fanout.plugin()] : []),
    ],
    context: async ({ request, connectionParams, req, socket }): Promise<Context> => {
      let requestId: string;
      let authorization: string | null | undefined;
      if (connectionParams) {
        requestId = randomUUID();
        const value = connectionParams.authorization ?? connectionParams.Authorization;
        authorization = typeof value === 'string' ? value : undefined;
      } else {
        requestId = requestIdOf(request.headers.get('x-request-id'));
        requestIds.set(request, requestId);
        authorization = request.headers.get('authorization');
      }
      const principal: Principal = authorization ? await authenticate(db, security, authorization) : ANONYMOUS;
      const forwardedFor = req ? req.headers['x-forwarded-for'] : request.headers.get('x-forwarded-for');
      const clientAddress = clientAddressOf(Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor, req?.socket.remoteAddress, config.trustProxyHops);
      const connection = socket
        ? { close: (code: number, reason: string) => socket.close(code, reason), bufferedAmount: () => socket.bufferedAmount }
        : undefined;
      return { db, principal, requestId, clientAddress, security, config, events: relay, rateLimits, connection, logger: logger.child({ requestId }) };
    },
  });

  selfFetch = async (request) => yoga.fetch(request);

  const jobs = startJobRunner({
    jobs: jobsOf(config, database, logger, security),
    afterRound: poke,
    intervalMs: config.jobIntervalMs,
    logger: logger.child({ component: 'jobs' }),
    autostart: config.jobs,
  });

  const server = http.createServer(yoga);
  const wsServer = new WebSocketServer({
    server,
    path: GRAPHQL_PATH,
    // One size limit for every transport: a larger message closes the socket (1009).
    maxPayload: config.maxRequestBytes,
    verifyClient: ({ origin }, done) => (originAllowed(config, origin) ? done(true) : done(false, 403, 'Origin not allowed')),
  });
  // Errors of the listening socket reach server.listen's caller; this keeps ws from reporting them again.
  wsServer.on('error', () => undefined);
  // Connections per client address on this instance: one more is closed at once (1013, try later).
  const socketsPerAddress = new Map<string, number>();
  wsServer.on('connection', (socket, req) => {
    const forwardedFor = req.headers['x-forwarded-for'];
    const address = clientAddressOf(Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor, req.socket.remoteAddress, config.trustProxyHops);
    const open = socketsPerAddress.get(address) ?? 0;
    if (open >= config.wsConnectionsPerAddress) {
      logger.warn({ clientAddress: address }, 'too many WebSocket connections from one address');
      socket.close(1013, 'Too many connections from this address');
      return;
    }
    socketsPerAddress.set(address, open + 1);
    socket.once('close', () => {
      const left = (socketsPerAddress.get(address) ?? 1) - 1;
      if (left > 0) socketsPerAddress.set(address, left);
      else socketsPerAddress.delete(address);
    });
  });

  const wsCleanup = useServer<Record<string, unknown>>(
    {
      execute: (args: ExecutionArgs & { rootValue?: unknown }) =>
        (args.rootValue as { execute: (a: ExecutionArgs) => unknown }).execute(args) as never,
      // A subscriber that founded a shared group gets its member stream; the group gets the result.
      subscribe: async (args: ExecutionArgs & { rootValue?: unknown }) => {
        const result = await (args.rootValue as { subscribe: (a: ExecutionArgs) => unknown }).subscribe(args);
        return (relay ? relay.fanout.adopt(args.contextValue, result) : result) as never;
      },
      connectionInitWaitTimeout: config.wsInitTimeoutMs,
      onSubscribe: async (ctx, id, payload) => {
        // ctx.subscriptions already holds this one.
        if (Object.keys(ctx.subscriptions).length > config.wsSubscriptionsPerConnection) {
          return [
            new GraphQLError(`This connection holds ${config.wsSubscriptionsPerConnection} operations, the most allowed; complete one first.`, {
              extensions: { code: 'RATE_LIMITED' },
            }),
          ];
        }
        const { schema: envelopedSchema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
          ...ctx,
          req: ctx.extra.request,
          socket: ctx.extra.socket,
          operationId: id,
          params: payload,
          // Credentials from connection_init, or from this message's extensions.headers (GraphiQL).
          connectionParams: operationConnectionParams(ctx.connectionParams, payload.extensions),
        });
        let document;
        try {
          document = parse(payload.query);
        } catch (error) {
          return [error instanceof GraphQLError ? error : new GraphQLError('The query could not be parsed.')];
        }
        const errors = validate(envelopedSchema, document);
        if (errors.length > 0) return errors;
        let contextValue;
        try {
          contextValue = await contextFactory();
        } catch (error) {
          return [error instanceof GraphQLError ? error : new GraphQLError('Unexpected error.')];
        }
        return {
          schema: envelopedSchema,
          operationName: payload.operationName,
          document,
          variableValues: payload.variables,
          contextValue,
          rootValue: { execute, subscribe },
        };
      },
    },
    wsServer,
  );

  const sockets = new Set<import('node:net').Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });

  let closing: Promise<void> | undefined;

  return {
    server,
    yoga: yoga as unknown as App['yoga'],
    jobs,
    events: relay,
    responseCache,
    rateLimits,
    listen: (port = config.port, host = config.host) =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          const address = server.address() as AddressInfo;
          const shownHost = host === '0.0.0.0' || host === '::' ? 'localhost' : host;
          resolve(`http://${shownHost}:${address.port}${GRAPHQL_PATH}`);
        });
      }),
    close: () => {
      closing ??= (async () => {
        shuttingDown = true;
        logger.info('shutting down: draining requests and sockets');
        const httpClosed = new Promise<void>((resolve) => server.close(() => resolve()));
        // graphql-ws closes every socket with 1001 (going away) so clients reconnect elsewhere.
        await wsCleanup.dispose();
        await new Promise<void>((resolve) => wsServer.close(() => resolve()));
        const timer = setTimeout(() => {
          logger.warn({ open: sockets.size }, 'shutdown timeout: closing remaining connections');
          server.closeAllConnections();
        }, config.shutdownTimeoutMs);
        server.closeIdleConnections();
        await httpClosed;
        clearTimeout(timer);
        await jobs.stop();
        responseCache?.close();
        await relay?.close();
        await rateLimits.close();
        await yoga.dispose();
        await database.close();
        logger.info('shut down');
      })();
      return closing;
    },
  };
}
