/**
 * A user's `purchaseConfirmations` stream over graphql-ws against a server at `wsUrl` (this
 * process's or another's), for tests that watch confirmations arrive across restarts and faults.
 */
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

export const CONFIRMATIONS = `subscription($after: String) { purchaseConfirmations(after: $after) { type status amount { amount } cashback { id status } cursor } }`;

export interface Confirmation {
  type: string;
  status: string;
  amount: { amount: number };
  cashback: { id: string; status: string } | null;
  cursor: string;
}

export interface Stream {
  events: Confirmation[];
  /** Resolves when the socket closes (code and reason). */
  closed: Promise<{ code: number; reason: string }>;
  /** Waits until `count` events arrived (or the timeout); returns the first `count`. */
  next(count: number, timeoutMs?: number): Promise<Confirmation[]>;
  stop(): Promise<void>;
}

export function openStream(wsUrl: string, token: string, variables: Record<string, unknown> = {}): Stream {
  let closedResolve!: (v: { code: number; reason: string }) => void;
  const closed = new Promise<{ code: number; reason: string }>((resolve) => (closedResolve = resolve));
  const client: Client = createClient({
    url: wsUrl,
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    lazy: false,
    connectionParams: { authorization: `Bearer ${token}` },
    on: { closed: (event) => closedResolve(event as { code: number; reason: string }) },
    onNonLazyError: () => undefined,
  });
  const events: Confirmation[] = [];
  const waiters: (() => void)[] = [];
  const unsubscribe = client.subscribe<{ purchaseConfirmations: Confirmation }>(
    { query: CONFIRMATIONS, variables },
    {
      next: (result) => {
        if (result.errors) throw new Error(JSON.stringify(result.errors));
        events.push(result.data!.purchaseConfirmations);
        for (const w of waiters.splice(0)) w();
      },
      error: () => undefined,
      complete: () => undefined,
    },
  );
  return {
    events,
    closed,
    async next(count, timeoutMs = 5000) {
      const end = Date.now() + timeoutMs;
      while (events.length < count && Date.now() < end) await new Promise<void>((r) => (waiters.push(r), setTimeout(r, 25)));
      return events.slice(0, count);
    },
    async stop() {
      unsubscribe();
      await client.dispose();
    },
  };
}
