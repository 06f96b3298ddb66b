/**
 * Revocation checks for the API keys behind this instance's live streams: one query per interval
 * for every key in use, however many streams each key holds open, and no timer at all while no
 * key-authenticated stream is open.
 */
import type { Logger } from '../logger.js';

/** Which of these API key ids still authenticate (not revoked, their partner not suspended). */
export type LiveKeyCheck = (apiKeyIds: readonly string[]) => Promise<ReadonlySet<string>>;

export class ApiKeyWatch {
  private readonly watchers = new Map<string, Set<() => void>>();
  private timer: NodeJS.Timeout | undefined;
  private checking = false;

  constructor(
    private readonly liveKeys: LiveKeyCheck,
    private readonly intervalMs: number,
    private readonly logger: Logger,
  ) {}

  /** Calls `onRevoked` once the key stops authenticating; the returned function stops watching. */
  watch(apiKeyId: string, onRevoked: () => void): () => void {
    let callbacks = this.watchers.get(apiKeyId);
    if (!callbacks) this.watchers.set(apiKeyId, (callbacks = new Set()));
    const callback = () => onRevoked();
    callbacks.add(callback);
    if (!this.timer) {
      this.timer = setInterval(() => void this.check(), this.intervalMs);
      this.timer.unref();
    }
    return () => {
      callbacks.delete(callback);
      if (callbacks.size === 0 && this.watchers.get(apiKeyId) === callbacks) this.watchers.delete(apiKeyId);
      if (this.watchers.size === 0) this.stop();
    };
  }

  /** Keys watched right now (for tests and metrics). */
  get keyCount(): number {
    return this.watchers.size;
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private async check(): Promise<void> {
    if (this.checking) return;
    this.checking = true;
    try {
      const ids = [...this.watchers.keys()];
      const valid = await this.liveKeys(ids);
      for (const id of ids) {
        if (valid.has(id)) continue;
        for (const callback of [...(this.watchers.get(id) ?? [])]) callback();
      }
    } catch (error) {
      this.logger.warn({ err: error }, 'API key check for live streams failed; retrying at the next interval');
    } finally {
      this.checking = false;
    }
  }
}
