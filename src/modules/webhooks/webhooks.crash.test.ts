/**
 * A server killed (SIGKILL) while a delivery is in flight: after a restart the delivery is sent
 * again with the same webhook-id once its lease runs out, and every event arrives (nothing lost).
 * Real server processes on a scratch Postgres database of their own (PGlite has one process).
 */
import pg from 'pg';
import { describe, expect, it, onTestFailed, vi } from 'vitest';
import { apiFixtures, databaseKind, httpGql } from '../../../test/harness.js';
import { startServerProcess, type ServerProcess } from '../../../test/server-process.js';
import { useScratchDatabase } from '../../../test/scratch-database.js';
import { startReceiver } from '../../../test/webhook-receiver.js';


describe.runIf(databaseKind() === 'postgres')('a server killed while delivering (Postgres: real processes)', () => {
  const scratch = useScratchDatabase('webhooks');
  const env = () =>
    scratch.serverEnv({
      JOBS: 'true',
      JOB_INTERVAL_MS: '50',
      LIVE_EVENTS: 'false',
      WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
      WEBHOOK_RETRY_SCHEDULE: '0ms,10ms,10ms,10ms',
      // Lease = 4 jobs × 1 s + 5 s: the killed server's delivery is taken over 9 s later at most.
      WEBHOOK_TIMEOUT_MS: '1000',
    });


  it('redelivers after a restart with the same webhook-id, and loses nothing', { timeout: 60_000 }, async () => {
    // The first request is held unanswered until the server that sent it is dead.
    let hold = true;
    const receiver = await startReceiver({ answer: (_r, i) => (i === 0 && hold ? { delayMs: 30_000 } : { status: 200 }) });
    const servers: ServerProcess[] = [];
    onTestFailed(() => {
      for (const s of servers) console.error(`--- server ${s.pid} ---\n${s.output()}`);
    });
    try {
      const first = await startServerProcess(env());
      servers.push(first);
      const api = apiFixtures(httpGql(first.url), scratch.adminKey);
      const merchant = await api.newMerchant();
      const created = await api.gql(
        'mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { endpoint { id } userErrors { code } } }',
        { input: { url: receiver.url(), eventTypes: ['offer.created', 'offer.published'] } },
        merchant.key,
      );
      expect(created.data.createWebhookEndpoint.userErrors).toEqual([]);
      await api.newOffer(merchant.key);
      await vi.waitFor(() => expect(receiver.received.length).toBeGreaterThanOrEqual(1), { timeout: 20_000, interval: 20 });
      const inFlight = receiver.received[0]!.id;

      process.kill(first.pid, 'SIGKILL');
      await first.exited;
      hold = false;
      const second = await startServerProcess(env());
      servers.push(second);

      await vi.waitFor(
        async () => {
          const { rows } = await pg_query(scratch.url, "select count(*)::int as n from webhook_deliveries where status = 'DELIVERED'");
          expect(rows[0]!.n).toBe(2);
        },
        { timeout: 40_000, interval: 100 },
      );
      const ids = receiver.received.map((r) => r.id);
      expect(ids.filter((id) => id === inFlight).length).toBeGreaterThanOrEqual(2);
      expect(new Set(ids).size).toBe(2);
      expect(new Set(receiver.received.map((r) => r.json.type))).toEqual(new Set(['offer.created', 'offer.published']));
    } finally {
      await receiver.close();
    }
  });
});

async function pg_query(url: string, statement: string) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await client.query<{ n: number }>(statement);
  } finally {
    await client.end();
  }
}
