/**
 * Live streams for subscriptions. A stream registers its live queue first, then replays from the
 * log what came after the client's cursor, then goes live, skipping anything at or below the
 * last position it yielded: no gap and no duplicate at the seam. Authorization holds per event
 * (the filter is the caller's own id) and for the stream's life: an expired token or a revoked
 * key ends it with close code 4403; a consumer that falls behind is closed with 4008.
 */
import type { Context, Principal } from '../context.js';
import { decodeCursor, encodeCursor } from '../lib/pagination.js';
import { SlowConsumerError, type EventQueue } from './event-bus.js';
import type { ApiKeyWatch } from './key-watch.js';
import { fetchEventsAfter, type EventFilter, type SequencedEvent } from '../outbox/outbox.repository.js';

export const CLOSE_FORBIDDEN = 4403;
export const CLOSE_SLOW_CONSUMER = 4008;
/** Bytes a WebSocket may have queued for a slow client before it is dropped. */
export const MAX_SOCKET_BUFFER = 4 * 1024 * 1024;

/**
 * Called once a stream run with this context is registered on the bus (live from then on). The
 * shared fan-out uses it to know when the subscribers of a group start receiving events.
 */
export const onStreamRegistered = new WeakMap<object, () => void>();

export const eventCursor = (position: number) => encodeCursor([position]);

function positionOf(cursor: string): number {
  return decodeCursor(cursor, ['int'] as const)[0];
}

/** Calls `end` when the caller's credentials stop being valid (a token's expiry, a revoked key). */
export function watchCredentials(principal: Principal, keys: ApiKeyWatch | undefined, end: (reason: string) => void): () => void {
  if (principal.kind === 'user' && principal.expiresAt) {
    const timer = setTimeout(() => end('Forbidden: the token expired'), Math.max(principal.expiresAt.getTime() - Date.now(), 0));
    return () => clearTimeout(timer);
  }
  if (keys && (principal.kind === 'merchant' || principal.kind === 'partner' || principal.kind === 'admin')) {
    return keys.watch(principal.apiKeyId, () => end('Forbidden: the API key was revoked'));
  }
  return () => undefined;
}

export interface StreamOptions<T> {
  /** Which events belong to the stream (also the replay query's filter). */
  filter: EventFilter & { topic: SequencedEvent['topic'] };
  /** Replay after this cursor first; without it, the stream starts live from now. */
  after?: string | null;
  /** Shapes an event for the client; null skips it (e.g. an offer the public may not see). */
  present(event: SequencedEvent): Promise<T | null>;
}

/**
 * The stream as the GraphQL executor consumes it. An async generator would queue `return()`
 * behind the `next()` that is waiting in the live queue for this caller's next event, so a
 * client that leaves would keep its listener and credential watch until that event came, or
 * forever. Here `return()` closes the live queue first: the waiting `next()` ends, the
 * generator's `finally` runs, and the subscription lets go at once.
 */
export function eventStream<T>(ctx: Context, options: StreamOptions<T>): AsyncIterableIterator<T> {
  const live: { queue?: EventQueue; left: boolean } = { left: false };
  const inner = followEvents(ctx, options, live);
  const leave = () => {
    live.left = true;
    live.queue?.close();
  };
  const stream: AsyncIterableIterator<T> = {
    next: () => inner.next(),
    return: (value?: unknown) => {
      leave();
      return inner.return(value as T);
    },
    throw: (error?: unknown) => {
      leave();
      return inner.throw(error);
    },
    [Symbol.asyncIterator]: () => stream,
  };
  return stream;
}

async function* followEvents<T>(ctx: Context, options: StreamOptions<T>, live: { queue?: EventQueue; left: boolean }): AsyncGenerator<T> {
  const relay = ctx.events;
  if (!relay) throw new Error('live events are not running');
  const { filter } = options;
  let last = options.after ? positionOf(options.after) : -1;
  await relay.bus.start();
  const queue = relay.bus.subscribe(filter);
  live.queue = queue;
  if (live.left) queue.close();
  relay.streams.open++;
  onStreamRegistered.get(ctx)?.();
  if (last < 0) last = relay.bus.position;
  const end = (code: number, reason: string) => {
    ctx.connection?.close(code, reason);
    queue.close();
  };
  const stopWatching = watchCredentials(ctx.principal, relay.keys, (reason) => end(CLOSE_FORBIDDEN, reason));
  try {
    if (options.after) {
      for (;;) {
        const missed = await fetchEventsAfter(ctx.db, last, 500, filter);
        for (const event of missed) {
          last = event.position;
          const shown = await options.present(event);
          if (shown !== null) yield shown;
        }
        if (missed.length < 500) break;
      }
    }
    for await (const event of queue) {
      if (event.position <= last) continue;
      last = event.position;
      if (ctx.connection && ctx.connection.bufferedAmount() > MAX_SOCKET_BUFFER) {
        throw new SlowConsumerError(0);
      }
      const shown = await options.present(event);
      if (shown !== null) yield shown;
    }
  } catch (error) {
    if (error instanceof SlowConsumerError) {
      ctx.logger.warn({ position: last }, 'slow subscriber disconnected');
      end(CLOSE_SLOW_CONSUMER, 'Too slow: the event buffer is full; reconnect with your last cursor');
      return;
    }
    throw error;
  } finally {
    relay.streams.open--;
    stopWatching();
    queue.close();
  }
}
