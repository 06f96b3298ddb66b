/**
 * /metrics: Prometheus text, behind METRICS_TOKEN, with the series operators need, and they move
 * when the instance works (an operation counts, a subscription raises the gauge, a refused log-in
 * counts as a rate-limit rejection).
 */
import type { AddressInfo } from 'node:net';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseKind, startHarness, type Harness } from './harness.js';

const TOKEN = 'metrics-token-for-tests-0123456789';

/** The value of one series (name with its labels, as printed), or undefined when absent. */
function sample(text: string, series: string): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith(`${series} `)) return Number(line.slice(series.length + 1));
  }
  return undefined;
}

describe('/metrics', () => {
  let h: Harness;
  let base: string;
  beforeAll(async () => {
    h = await startHarness({ LIVE_EVENTS: 'true', METRICS_TOKEN: TOKEN, LOGIN_FAILURES_PER_EMAIL: '2' });
    await h.app.listen(0, '127.0.0.1');
    base = `127.0.0.1:${(h.app.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await h?.close();
  });

  const scrape = async () => {
    const res = await fetch(`http://${base}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    return res.text();
  };

  it('asks for METRICS_TOKEN when it is set', async () => {
    expect((await fetch(`http://${base}/metrics`)).status).toBe(401);
    expect((await fetch(`http://${base}/metrics`, { headers: { authorization: 'Bearer wrong-token-of-some-length' } })).status).toBe(401);
  });

  it('lists the series operators need', async () => {
    await h.gql('query MetricsWarmUp { eventCursor }');
    const text = await scrape();
    for (const name of [
      'graphql_yoga_http_duration_bucket',
      'graphql_envelop_request',
      'hashback_graphql_operations_total',
      'hashback_db_statements_total',
      'hashback_event_log_position',
      'hashback_subscriptions_open',
      'hashback_sockets_open',
      'hashback_job_queue_depth',
      'hashback_job_given_up',
      'hashback_process_resident_memory_bytes',
    ]) {
      expect(text, name).toMatch(new RegExp(`^${name}[{ ]`, 'm'));
    }
    expect(sample(text, 'hashback_event_log_position{which="delivered"}')).toBeGreaterThanOrEqual(0);
    expect(sample(text, 'hashback_job_queue_depth{job="emails"}')).toBeGreaterThanOrEqual(0);
    if (databaseKind() === 'postgres') {
      expect(sample(text, 'hashback_db_pool_connections{state="waiting"}')).toBe(0);
    }
  });

  it('labels HTTP durations by the GraphQL path, never by the URL a client chose (no series per query string or Host)', async () => {
    for (let i = 0; i < 3; i++) {
      const query = encodeURIComponent(`query MetricsGet${i} { eventCursor }`);
      const res = await fetch(`http://${base}/graphql?query=${query}&n=${i}`, { headers: { host: `h${i}.example` } });
      expect(res.status).toBe(200);
    }
    const urls = new Set([...(await scrape()).matchAll(/^graphql_yoga_http_duration_count\{[^}]*url="([^"]*)"/gm)].map((m) => m[1]));
    expect([...urls].filter((url) => url !== '/graphql' && url !== 'other')).toEqual([]);
    expect(urls.has('/graphql')).toBe(true);
  });

  it('counts an operation by name and outcome, its errors by code, and the SQL it sent', async () => {
    const before = await scrape();
    const ok = 'hashback_graphql_operations_total{operation="MetricsFeed",type="query",outcome="ok"}';
    await h.gql('query MetricsFeed { offers(first: 1) { edges { cursor } } }');
    await h.gql('query MetricsBroken { noSuchField }');
    const after = await scrape();
    expect(sample(after, ok)).toBe((sample(before, ok) ?? 0) + 1);
    expect(sample(after, 'hashback_graphql_operations_total{operation="MetricsBroken",type="query",outcome="error"}')).toBe(1);
    const validation = 'hashback_graphql_errors_total{code="GRAPHQL_VALIDATION_FAILED"}';
    expect(sample(after, validation)).toBe((sample(before, validation) ?? 0) + 1);
    expect(sample(after, 'hashback_db_statements_total')).toBeGreaterThan(sample(before, 'hashback_db_statements_total')!);
  });

  it('raises the subscription and socket gauges while a graphql-ws client follows the feed', async () => {
    const before = await scrape();
    expect(sample(before, 'hashback_subscriptions_open')).toBe(0);
    const client = createClient({ url: `ws://${base}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0 });
    const dispose = client.subscribe({ query: 'subscription MetricsFeed { offerFeed { type } }' }, { next: () => {}, error: () => {}, complete: () => {} });
    try {
      await expect.poll(async () => sample(await scrape(), 'hashback_subscriptions_open'), { timeout: 10_000 }).toBe(1);
      const text = await scrape();
      expect(sample(text, 'hashback_sockets_open{kind="websocket"}')).toBe(1);
      expect(sample(text, 'hashback_graphql_operations_total{operation="MetricsFeed",type="subscription",outcome="ok"}')).toBe(1);
    } finally {
      dispose();
      await client.dispose();
    }
    await expect.poll(async () => sample(await scrape(), 'hashback_subscriptions_open'), { timeout: 10_000 }).toBe(0);
  });

  it('counts rate-limit rejections by policy', async () => {
    const login = 'mutation($input: LogInInput!) { logIn(input: $input) { token userErrors { code } } }';
    const input = { email: 'nobody-metrics@example.com', password: 'not the password at all' };
    const codes: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await h.gql(login, { input });
      codes.push(...(res.data as { logIn: { userErrors: { code: string }[] } }).logIn.userErrors.map((e) => e.code));
    }
    expect(codes).toContain('RATE_LIMITED');
    const text = await scrape();
    const rejected = text.split('\n').filter((line) => line.startsWith('hashback_rate_limit_rejections_total{'));
    expect(rejected.length, text).toBeGreaterThan(0);
    expect(rejected.map((line) => Number(line.split(' ')[1])).reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(1);
  });
  it('takes at most 500 operation names as labels; later names count as "other" (a client cannot add series without end)', async () => {
    for (let i = 0; i < 520; i++) await h.gql(`query MetricsFlood${i} { eventCursor }`);
    await h.gql('query MetricsFeed { eventCursor }');
    const text = await scrape();
    const names = new Set([...text.matchAll(/^hashback_graphql_operations_total\{operation="([^"]*)"/gm)].map((m) => m[1]));
    expect(names.size).toBeLessThanOrEqual(501);
    expect(names.has('other')).toBe(true);
    expect(names.has('MetricsFeed')).toBe(true);
    const envelopNames = new Set([...text.matchAll(/^graphql_envelop_request\{[^}]*operationName="([^"]*)"/gm)].map((m) => m[1]));
    expect(envelopNames.size).toBeLessThanOrEqual(501);
    expect(envelopNames.has('other')).toBe(true);
  });
});
