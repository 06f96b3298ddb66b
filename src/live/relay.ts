/**
 * The relay: after commit, events get their positions from the sequencer and every instance's
 * bus learns there is more to read. Across instances the signal travels by Postgres
 * LISTEN/NOTIFY (a dedicated connection with heartbeat, reconnect and re-LISTEN) or by Redis
 * when REDIS_URL is set; a slow poll backs both up, and every (re)connection starts with a
 * backfill from the log, so a missed signal delays an event but never loses it. The signal is
 * sent by the sequencer, never from inside the transaction that wrote the event.
 */
import { Redis } from 'ioredis';
import pg from 'pg';
import type { Config } from '../config.js';
import type { Database } from '../database.js';
import type { Logger } from '../logger.js';
import { EventBus } from './event-bus.js';
import { ApiKeyWatch, type LiveKeyCheck } from './key-watch.js';
import { SharedFanout } from './shared-fanout.js';
import { notifyHead, sequenceEvents } from '../outbox/outbox.repository.js';
import { backoffMs } from '../lib/backoff.js';

export const EVENTS_CHANNEL = 'hashback_events';

/** Pauses before a relay asks the sequencer again while another holds its lock (then the poll). */
const BUSY_RETRY_MS = [5, 10, 20, 40, 80, 160, 320];

export type RelayTransport = 'in-process' | 'postgres' | 'redis';

export interface EventRelay {
  bus: EventBus;
  /** Revocation checks for the keys behind this instance's streams. */
  keys: ApiKeyWatch;
  /** Groups of graphql-ws subscriptions that share one execution per event. */
  fanout: SharedFanout;
  /** Streams registered on the bus (subscriptions, and shared groups once each). */
  streams: { open: number };
  /** Live subscriptions of this instance: one per client operation, shared or not. */
  openSubscriptions(): number;
  transport: RelayTransport;
  /** Something was committed here: sequence and deliver now rather than at the next poll. */
  poke(): void;
  close(): Promise<void>;
}

/** The head a signal carries (NOTIFY's payload, a Redis message), or undefined when it carries none. */
const headOf = (payload: string | undefined): number | undefined => {
  const head = payload ? Number(payload) : Number.NaN;
  return Number.isSafeInteger(head) && head >= 0 ? head : undefined;
};

interface Signal {
  publish(head: number): Promise<void>;
  close(): Promise<void>;
}

/** A dedicated LISTEN connection: heartbeat, reconnect with backoff, re-LISTEN and backfill. */
function listenOnPostgres(url: string, onSignal: (head?: number) => void, logger: Logger, database: Database): Signal {
  let client: pg.Client | null = null;
  let closed = false;
  let retry = 0;
  let heartbeat: NodeJS.Timeout | undefined;
  let reconnectTimer: NodeJS.Timeout | undefined;
  /** The client being connected or in use; null while a reconnect waits. */
  let latest: pg.Client | null = null;

  /** `from` lost its connection: forget it and connect again (once, however many ways it failed). */
  const drop = (from: pg.Client, reason: unknown) => {
    // Only the newest client's first failure counts: its later 'end', or an older client's
    // events, must not schedule a second reconnect (two LISTEN connections).
    if (closed || from !== latest) return;
    latest = null;
    logger.warn({ err: reason }, 'event listener connection lost; reconnecting');
    clearInterval(heartbeat);
    client = null;
    from.end().catch(() => undefined);
    reconnectTimer = setTimeout(() => void connect(), backoffMs(++retry, { baseMs: 200, capMs: 5000, jitter: 0.2 }));
    reconnectTimer.unref();
  };
  const connect = async () => {
    if (closed) return;
    const next = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000, keepAlive: true });
    latest = next;
    // Errors after the connection is up: the socket died (57P01, restart, network). Every
    // error event has a listener, so none can end the process.
    next.on('error', (error) => drop(next, error));
    next.on('end', () => drop(next, new Error('connection ended')));
    next.on('notification', (message) => onSignal(headOf(message.payload)));
    try {
      await next.connect();
      await next.query(`LISTEN ${EVENTS_CHANNEL}`);
    } catch (error) {
      next.removeAllListeners('error');
      next.removeAllListeners('end');
      next.on('error', () => undefined);
      next.end().catch(() => undefined);
      return drop(next, error);
    }
    if (closed) return void next.end().catch(() => undefined);
    client = next;
    retry = 0;
    heartbeat = setInterval(() => void next.query('select 1').catch((error: unknown) => drop(next, error)), 10_000);
    heartbeat.unref();
    onSignal(); // backfill whatever was committed while we were away
  };
  void connect();
  return {
    publish: async (head) => {
      await notifyHead(database.db, EVENTS_CHANNEL, head);
    },
    close: async () => {
      closed = true;
      clearInterval(heartbeat);
      clearTimeout(reconnectTimer);
      const last = client;
      client = null;
      await last?.end().catch(() => undefined);
    },
  };
}

function listenOnRedis(url: string, onSignal: (head?: number) => void, logger: Logger): Signal {
  const options = { maxRetriesPerRequest: 3, lazyConnect: false, retryStrategy: (times: number) => backoffMs(times, { baseMs: 200, capMs: 5000, jitter: 0.2 }) };
  const publisher = new Redis(url, options);
  const subscriber = new Redis(url, options);
  for (const connection of [publisher, subscriber]) connection.on('error', (error) => logger.warn({ err: error }, 'redis connection error'));
  subscriber.on('message', (_channel: string, message: string) => onSignal(headOf(message)));
  // ioredis re-subscribes after a reconnect; every "ready" also backfills from the log.
  subscriber.on('ready', () => onSignal());
  void subscriber.subscribe(EVENTS_CHANNEL).catch((error: unknown) => logger.warn({ err: error }, 'redis subscribe failed'));
  return {
    publish: async (head) => {
      await publisher.publish(EVENTS_CHANNEL, String(head));
    },
    close: async () => {
      subscriber.disconnect();
      publisher.disconnect();
    },
  };
}

export function startEventRelay(options: { config: Config; database: Database; logger: Logger; liveKeys: LiveKeyCheck }): EventRelay {
  const { config, database, logger } = options;
  const bus = new EventBus(database.db, logger, config.subscriptionBufferLimit);
  const keys = new ApiKeyWatch(options.liveKeys, config.subscriptionAuthCheckMs, logger);
  const fanout = new SharedFanout(logger);
  const streams = { open: 0 };
  // If the database does not answer now, the bus starts on a later pump (see EventBus.start).
  void bus.start().catch((error: unknown) => logger.warn({ err: error }, 'event bus could not start yet; retrying'));
  const transport: RelayTransport = config.redisUrl ? 'redis' : database.kind === 'postgres' && config.databaseUrl ? 'postgres' : 'in-process';
  const onSignal = (head?: number) => void bus.pump(head);
  const signal: Signal | null =
    transport === 'redis'
      ? listenOnRedis(config.redisUrl!, onSignal, logger)
      : transport === 'postgres'
        ? listenOnPostgres(config.databaseUrl!, onSignal, logger, database)
        : null;

  let closed = false;
  let running: Promise<void> | null = null;
  let rerun = false;
  const cycle = (): Promise<void> => {
    if (running) {
      rerun = true;
      return running;
    }
    running = (async () => {
      let busy = 0;
      do {
        rerun = false;
        let head: number | undefined;
        try {
          const result = await sequenceEvents(database.db);
          if (result === null && busy < BUSY_RETRY_MS.length && !closed) {
            // Another sequencer holds the lock. A relay signals what it positions, but a webhook
            // dispatcher or a new endpoint's start does not: ask again once it has let go.
            await new Promise((resolve) => setTimeout(resolve, BUSY_RETRY_MS[busy++]));
            rerun = true;
            continue;
          }
          // Signal what this sequencer positioned, and a head that grew without a signal this
          // instance heard (positioned by a sequencer that sends none).
          if (result && (result.sequenced > 0 || result.head > Math.max(bus.knownHead, bus.position))) await signal?.publish(result.head);
          head = result?.head;
        } catch (error) {
          if (!closed) logger.warn({ err: error }, 'event sequencing failed; retrying');
        }
        await bus.pump(head);
      } while (rerun && !closed);
    })().finally(() => {
      running = null;
    });
    return running;
  };
  const timer = setInterval(() => void cycle(), config.eventPollMs);
  timer.unref();

  return {
    bus,
    keys,
    fanout,
    streams,
    // A live group runs one stream for all its members.
    openSubscriptions: () => streams.open - fanout.liveGroups + fanout.subscribers,
    transport,
    poke: () => {
      if (!closed) void cycle();
    },
    close: async () => {
      closed = true;
      clearInterval(timer);
      keys.stop();
      await running;
      await signal?.close();
    },
  };
}
