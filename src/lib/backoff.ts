/**
 * The one backoff: `baseMs` for the first retry, doubling per attempt, capped at `capMs`, less up
 * to `jitter` (0..1) of it at random, so that things failing together do not retry together.
 * Used by transaction retries, the live-event listener's reconnects and e-mail delivery.
 */
export interface Backoff {
  baseMs: number;
  capMs: number;
  /** Share of the delay taken off at random: 0 none, 1 "full jitter". */
  jitter?: number;
}

/** The wait before retry number `attempt` (1 for the first retry); `random` is in [0, 1). */
export function backoffMs(attempt: number, backoff: Backoff, random: number = Math.random()): number {
  // Past 2^30 every delay is long capped: no need to compute (or overflow) larger powers.
  const exponent = Math.min(Math.max(0, attempt - 1), 30);
  const delay = Math.min(backoff.capMs, backoff.baseMs * 2 ** exponent);
  return Math.round(delay * (1 - (backoff.jitter ?? 0) * random));
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
