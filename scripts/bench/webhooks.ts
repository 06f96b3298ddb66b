/**
 * `npm run bench:webhooks`: webhook deliveries to a loopback receiver.
 *
 * For 1, 10 and 100 endpoints (each scenario its own merchant, endpoints registered through the
 * API), events are written through the outbox writer in transactions of BATCH, as fast as they
 * commit, DELIVERIES/endpoints events per scenario; the app's own jobs (JOBS on, JOB_INTERVAL_MS
 * 50) dispatch and send them, signed, to one loopback HTTP receiver that checks every signature
 * with the `standardwebhooks` package. Measured: deliveries per second (first commit to last
 * receipt) and commit-to-receipt latency p50/p99 per delivery.
 *
 * Database: a fresh database on the server of DATABASE_URL (created and dropped), otherwise an
 * in-memory PGlite. Knobs: DELIVERIES (5000 per scenario), BATCH (50), MAX_IN_FLIGHT (100 per
 * endpoint), WORKERS (16).
 */
import { randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { insertEvents } from '../../src/outbox/outbox.repository.js';
import { OFFER_TOPIC } from '../../src/modules/offers/offers.topics.js';
import { mintApiKey } from '../../src/modules/api-keys/api-keys.service.js';
import { startReceiver } from '../../test/webhook-receiver.js';
import { approvedMerchant, benchConfig, dbIdOf, gqlClient, int, loadBefore, log, positiveInt, reportSummary, runBench, type SummaryRow } from './bench-kit.js';

const DELIVERIES = positiveInt('DELIVERIES', 5000);
const BATCH = positiveInt('BATCH', 50);
const MAX_IN_FLIGHT = positiveInt('MAX_IN_FLIGHT', 100);
const WORKERS = positiveInt('WORKERS', 16);
const PACED_EVENTS = positiveInt('PACED_EVENTS', 200);
const RATE = positiveInt('RATE', 5);
/** Bursts (every event committed as fast as possible: throughput, latency under a backlog), then a paced run (latency at RATE events/s). */
const SCENARIOS: { endpoints: number; events: (endpoints: number) => number; paceMs: number; label: string }[] = [
  ...[1, 10, 100].map((endpoints) => ({ endpoints, events: (n: number) => Math.max(1, Math.floor(DELIVERIES / n)), paceMs: 0, label: 'burst' })),
  { endpoints: 10, events: () => PACED_EVENTS, paceMs: 1000 / RATE, label: `${RATE} events/s` },
];

const CREATE = 'mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { endpoint { id } secret userErrors { code message } } }';

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

const config = benchConfig({
  JOBS: 'true',
  JOB_INTERVAL_MS: '50',
  LIVE_EVENTS: 'false',
  WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
  WEBHOOK_MAX_IN_FLIGHT: String(MAX_IN_FLIGHT),
  WEBHOOK_WORKERS: String(WORKERS),
});

await runBench(config, async ({ bench, startApp, onCleanup }) => {
  const secrets = new Map<string, Webhook>();
  let badSignatures = 0;
  const receiver = await startReceiver();
  onCleanup(() => receiver.close());
  const { url } = await startApp();
  const gql = gqlClient(url);
  const adminKey = (await mintApiKey(bench.database.db, { name: 'bench admin', role: 'ADMIN' })).secret;
  const rows: string[] = [];
  const figures: SummaryRow[] = [];

  for (const scenario of SCENARIOS) {
    const { endpoints } = scenario;
    const { merchantId, merchantKey } = await approvedMerchant(gql, adminKey, `Webhook bench ${endpoints}`);
    const path = `/s${rows.length}`;
    for (let i = 0; i < endpoints; i++) {
      const res = await gql<{ createWebhookEndpoint: { secret: string } }>('createWebhookEndpoint', CREATE, { input: { url: receiver.url(`${path}/${i}`), eventTypes: ['offer.updated'] } }, merchantKey);
      secrets.set(`${path}/${i}`, new Webhook(res.createWebhookEndpoint.secret));
    }
    const events = scenario.events(endpoints);
    const batch = scenario.paceMs > 0 ? 1 : BATCH;
    const expected = events * endpoints;
    const committedAt = new Map<string, number>();
    const start = receiver.received.length;
    const firstCommit = performance.now();
    for (let i = 0; i < events; i += batch) {
      if (scenario.paceMs > 0) await new Promise((r) => setTimeout(r, firstCommit + i * scenario.paceMs - performance.now()));
      const subjects = Array.from({ length: Math.min(batch, events - i) }, () => randomUUID());
      await bench.database.db.transaction().execute((trx) =>
        insertEvents(trx, subjects.map((id) => OFFER_TOPIC.event('UPDATED', id, { merchantId: dbIdOf(merchantId) }, {}))),
      );
      const at = performance.now();
      for (const id of subjects) committedAt.set(id, at);
    }
    const deadline = performance.now() + 300_000;
    while (receiver.received.length - start < expected && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const got = receiver.received.slice(start);
    const latencies: number[] = [];
    const ids = new Set<string>();
    for (const r of got) {
      ids.add(`${r.path} ${r.id}`);
      const endpointPath = r.path;
      try {
        secrets.get(endpointPath)!.verify(r.body, { 'webhook-id': r.id, 'webhook-timestamp': r.timestamp, 'webhook-signature': r.signatures.join(' ') });
      } catch {
        badSignatures++;
      }
      const subject = dbIdOf((r.json.data as unknown as { subject: { id: string } }).subject.id);
      const committed = committedAt.get(subject);
      if (committed !== undefined) latencies.push(r.at - committed);
    }
    latencies.sort((a, b) => a - b);
    const last = Math.max(...got.map((r) => r.at));
    const seconds = (last - firstCommit) / 1000;
    log(`${endpoints} endpoint(s): ${got.length}/${expected} deliveries (${ids.size} distinct) in ${seconds.toFixed(2)} s`);
    rows.push(
      `| ${scenario.label.padEnd(13)} | ${String(endpoints).padStart(9)} | ${int(events).padStart(6)} | ${int(got.length).padStart(10)} | ${int(got.length / seconds).padStart(14)} | ${percentile(latencies, 50).toFixed(0).padStart(7)} | ${percentile(latencies, 99).toFixed(0).padStart(7)} |`,
    );
    const p50 = percentile(latencies, 50);
    const p99 = percentile(latencies, 99);
    const short = got.length < expected ? `; only ${int(got.length)}/${int(expected)} delivered` : '';
    if (scenario.paceMs === 0) {
      figures.push({ bench: 'webhooks', metric: `burst to ${endpoints} endpoint${endpoints === 1 ? '' : 's'}`, value: got.length / seconds, unit: 'deliveries/s', note: `${int(expected)} deliveries; commit to receipt p50 ${int(p50)} ms, p99 ${int(p99)} ms (a backlog)${short}` });
    } else {
      const paced = `${scenario.label} to ${endpoints} endpoints${short}`;
      figures.push({ bench: 'webhooks', metric: 'commit to receipt p50, paced', value: p50, unit: 'ms', note: paced });
      figures.push({ bench: 'webhooks', metric: 'commit to receipt p99, paced', value: p99, unit: 'ms', note: paced });
    }
  }
  console.log(`\nwebhooks on ${bench.label}; load average before: ${loadBefore.toFixed(2)}; JOB_INTERVAL_MS 50, WEBHOOK_WORKERS ${WORKERS}, WEBHOOK_MAX_IN_FLIGHT ${MAX_IN_FLIGHT}; signatures failing verification: ${badSignatures}\n`);
  console.log('| load          | endpoints | events | deliveries | deliveries / s | p50 ms | p99 ms |');
  console.log('|---------------|----------:|-------:|-----------:|---------------:|-------:|-------:|');
  for (const row of rows) console.log(row);
  if (badSignatures > 0) figures.push({ bench: 'webhooks', metric: 'signatures failing verification', value: badSignatures, unit: '', note: 'FAILED' });
  reportSummary(figures);
  if (badSignatures > 0) process.exitCode = 1;
});
