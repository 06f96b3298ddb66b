/**
 * The instance's live fan-out. The bus follows the event log in position order (the sequencer
 * guarantees a reader never finds a lower position later) and hands each event to the
 * subscriptions of this process; how it learns that there is more to read is the pubsub's job
 * (in-process, Postgres NOTIFY or Redis), and a slow poll covers anything a pubsub missed.
 * Each subscription has a bounded queue: a consumer that falls too far behind is dropped with a
 * reason instead of growing memory or slowing the others.
 */
import type { Kysely } from 'kysely';
import type { DB } from '../../db/types.js';
import type { Logger } from '../logger.js';
import { fetchEventsAfter, headPosition, type EventFilter, type SequencedEvent } from '../outbox/outbox.repository.js';

export class SlowConsumerError extends Error {
  constructor(readonly limit: number) {
    super(`The client fell more than ${limit} events behind and was disconnected; reconnect with its last cursor.`);
    this.name = 'SlowConsumerError';
  }
}

export interface EventQueue extends AsyncIterableIterator<SequencedEvent> {
  /** Stops the subscription; pending `next()` calls resolve as done. */
  close(): void;
}

/** Subscribers served per turn of the event loop when one event goes to many. */
const FANOUT_SLICE = 250;

interface Listener {
  accepts(event: SequencedEvent): boolean;
  push(event: SequencedEvent): void;
}

/**
 * Listeners are kept by route, the topic and the user or merchant they follow (or any), so an
 * event is offered only to those of its own topic and user or merchant and to those that follow
 * more broadly: with thousands of users each on their own confirmation stream, asking every
 * listener about every event was most of the instance's work.
 */
const routeOf = (topic: string | undefined, who: string) => `${topic ?? '*'} ${who}`;
const followedBy = (filter: EventFilter) => (filter.userId ? `u:${filter.userId}` : filter.merchantId ? `m:${filter.merchantId}` : '*');

const allows = (filter: EventFilter, event: SequencedEvent) =>
  (!filter.topic || event.topic === filter.topic) &&
  (!filter.userId || event.user_id === filter.userId) &&
  (!filter.merchantId || event.merchant_id === filter.merchantId);

export class EventBus {
  private readonly listeners = new Set<Listener>();
  /** The same listeners by route (see `routeOf`). */
  private readonly routes = new Map<string, Set<Listener>>();
  private delivered = 0;
  /** The highest log head any caller of `pump` reported. */
  private known = 0;
  /** What the reading in progress will reach at least: `known` when it started. */
  private reading = 0;
  private pumping: Promise<void> | null = null;
  private again = false;
  private started = false;
  private starting: Promise<void> | null = null;

  constructor(
    private readonly db: Kysely<DB>,
    private readonly logger: Logger,
    private readonly queueLimit = 1000,
  ) {}

  /**
   * Starts following the log from its current head: earlier events are for replay, not live
   * delivery. When the database does not answer, a later `start()` (each pump calls it) tries
   * again, so a bus created during an outage starts once the database is back.
   */
  start(): Promise<void> {
    this.starting ??= headPosition(this.db).then(
      (head) => {
        this.delivered = head;
        this.started = true;
      },
      (error: unknown) => {
        this.starting = null;
        throw error;
      },
    );
    return this.starting;
  }

  /** Position of the last event delivered live. */
  get position(): number {
    return this.delivered;
  }

  /** The highest log head reported to `pump` (signals heard, the sequencer's answers). */
  get knownHead(): number {
    return this.known;
  }

  get listenerCount(): number {
    return this.listeners.size;
  }

  /**
   * Reads and delivers everything after the last delivered position; coalesces concurrent calls.
   * `head`, when the caller knows it (the sequencer's answer, a signal's payload), is the log's
   * last position: a bus that delivered up to it already has nothing to read, and neither does
   * one whose reading in progress started after it was known (an instance hearing its own signal).
   */
  pump(head?: number): Promise<void> {
    if (head !== undefined) this.known = Math.max(this.known, head);
    if (this.started && head !== undefined && head <= this.delivered) return this.pumping ?? Promise.resolve();
    if (!this.started) {
      return this.start().then(
        () => this.pump(head),
        (error: unknown) => this.logger.warn({ err: error }, 'event bus could not start yet; retrying on the next signal'),
      );
    }
    if (this.pumping) {
      if (head === undefined || head > this.reading) this.again = true;
      return this.pumping;
    }
    this.pumping = (async () => {
      try {
        do {
          this.again = false;
          // Every head known now was committed before the reads below begin: they reach it.
          this.reading = this.known;
          for (;;) {
            const events = await fetchEventsAfter(this.db, this.delivered, 1000);
            for (const event of events) {
              this.delivered = event.position;
              await this.deliver(event);
            }
            if (events.length < 1000) break;
          }
        } while (this.again);
      } catch (error) {
        this.logger.warn({ err: error }, 'event delivery paused; retrying on the next signal');
      } finally {
        this.pumping = null;
      }
    })();
    return this.pumping;
  }

  /**
   * Hands one event to its listeners, a slice at a time: each slice's subscribers run their
   * GraphQL execution and send before the next slice starts, and the event loop gets a turn in
   * between, so a large fan-out neither holds every socket back until the last subscriber is
   * served nor stalls the instance's HTTP requests while it lasts.
   */
  private async deliver(event: SequencedEvent): Promise<void> {
    const targets: Listener[] = [];
    const followers = ['*', ...(event.user_id ? [`u:${event.user_id}`] : []), ...(event.merchant_id ? [`m:${event.merchant_id}`] : [])];
    for (const topic of [event.topic, undefined]) {
      for (const who of followers) {
        for (const listener of this.routes.get(routeOf(topic, who)) ?? []) if (listener.accepts(event)) targets.push(listener);
      }
    }
    for (let from = 0; from < targets.length; from += FANOUT_SLICE) {
      if (from > 0) await new Promise<void>((resolve) => setImmediate(resolve));
      for (const listener of targets.slice(from, from + FANOUT_SLICE)) listener.push(event);
    }
  }

  /** A live queue, from now on, of the events `filter` allows and `accepts` (if given) lets through. */
  subscribe(filter: EventFilter, accepts?: (event: SequencedEvent) => boolean): EventQueue {
    const buffer: SequencedEvent[] = [];
    const waiting: ((result: IteratorResult<SequencedEvent>) => void)[] = [];
    let failure: Error | null = null;
    let closed = false;
    const limit = this.queueLimit;

    const route = routeOf(filter.topic, followedBy(filter));
    const finish = () => {
      closed = true;
      this.listeners.delete(listener);
      const peers = this.routes.get(route);
      peers?.delete(listener);
      if (peers?.size === 0) this.routes.delete(route);
      for (const resolve of waiting.splice(0)) resolve({ value: undefined, done: true });
    };
    const listener: Listener = {
      accepts: accepts ? (event) => allows(filter, event) && accepts(event) : (event) => allows(filter, event),
      push: (event) => {
        if (closed) return;
        const resolve = waiting.shift();
        if (resolve) return resolve({ value: event, done: false });
        if (buffer.length >= limit) {
          failure = new SlowConsumerError(limit);
          buffer.length = 0;
          finish();
          return;
        }
        buffer.push(event);
      },
    };
    let peers = this.routes.get(route);
    if (!peers) this.routes.set(route, (peers = new Set()));
    peers.add(listener);
    this.listeners.add(listener);

    const queue: EventQueue = {
      next: () => {
        const event = buffer.shift();
        if (event) return Promise.resolve({ value: event, done: false });
        if (failure) {
          const error = failure;
          failure = null;
          return Promise.reject(error);
        }
        if (closed) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => waiting.push(resolve));
      },
      return: () => {
        finish();
        buffer.length = 0;
        return Promise.resolve({ value: undefined, done: true });
      },
      close: () => void queue.return!(),
      [Symbol.asyncIterator]: () => queue,
    };
    return queue;
  }
}
