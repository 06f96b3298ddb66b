/** The pure rules of webhooks, with `standardwebhooks` as the independent oracle for signatures. */
import { describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { checkEndpointUrl, isPublicAddress, mayReceive, newWebhookSecret, parseRetryAfter, parseRetrySchedule, pickAddress, receiverData, retryDelayMs, signatureHeader, verdictOf } from './webhooks.rules.js';

describe('signatures', () => {
  it('are accepted by the standardwebhooks package, one per secret', () => {
    const [a, b] = [newWebhookSecret(), newWebhookSecret()];
    const ts = Math.floor(Date.now() / 1000);
    const body = '{"type":"offer.published","timestamp":"2026-12-02T10:00:00.000Z","data":{"cursor":"WzFd"}}';
    const header = signatureHeader([a, b], 'evt_1', ts, body);
    expect(header.split(' ')).toHaveLength(2);
    for (const secret of [a, b]) expect(new Webhook(secret).verify(body, { 'webhook-id': 'evt_1', 'webhook-timestamp': String(ts), 'webhook-signature': header })).toBeTruthy();
    expect(() => new Webhook(newWebhookSecret()).verify(body, { 'webhook-id': 'evt_1', 'webhook-timestamp': String(ts), 'webhook-signature': header })).toThrow('No matching signature found');
    expect(new Webhook(a).sign('evt_1', new Date(ts * 1000), body)).toBe(header.split(' ')[0]);
  });
});

describe('retry schedule', () => {
  it('waits immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h by default: eight attempts', () => {
    const schedule = parseRetrySchedule('0s,5s,5m,30m,2h,5h,10h,10h');
    expect(schedule).toEqual([0, 5000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000]);
    expect([1, 2, 7].map((attempt) => retryDelayMs(schedule, attempt))).toEqual([5000, 300_000, 36_000_000]);
    expect(retryDelayMs(schedule, 8)).toBeNull();
  });

  it('honours a longer Retry-After (seconds or a date), capped at a day', () => {
    const now = new Date('2026-12-02T10:00:00Z');
    expect(retryDelayMs([0, 5000], 1, parseRetryAfter('120', now))).toBe(120_000);
    expect(retryDelayMs([0, 5000], 1, parseRetryAfter('1', now))).toBe(5000);
    expect(parseRetryAfter('Wed, 02 Dec 2026 10:01:00 GMT', now)).toBe(60_000);
    expect(parseRetryAfter('999999', now)).toBe(24 * 3_600_000);
    expect(parseRetryAfter('soon', now)).toBeNull();
  });

  it('retries 3xx, 429, 5xx and no answer; disables on 410; delivered on 2xx', () => {
    expect([200, 204, 301, 302, 307, 400, 410, 429, 500, 503, null].map(verdictOf)).toEqual(['delivered', 'delivered', 'retry', 'retry', 'retry', 'retry', 'gone', 'retry', 'retry', 'retry', 'retry']);
  });
});

describe('addresses', () => {
  it('refuses private, loopback, link-local, metadata and mapped forms of them', () => {
    for (const a of ['127.0.0.1', '10.0.0.1', '172.16.5.4', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', '::', 'fe80::1', 'fd00:ec2::254', '::ffff:127.0.0.1', '::ffff:7f00:1', '64:ff9b::a9fe:a9fe', '224.0.0.1']) {
      expect(isPublicAddress(a), a).toBe(false);
    }
    for (const a of ['93.184.216.34', '8.8.8.8', '2606:4700:4700::1111', '::ffff:8.8.8.8']) expect(isPublicAddress(a), a).toBe(true);
  });

  it('refuses a host when any address it resolves to is private', () => {
    expect(pickAddress([{ address: '8.8.8.8', family: 4 }, { address: '10.0.0.1', family: 4 }], false)).toBeNull();
    expect(pickAddress([{ address: '8.8.8.8', family: 4 }], false)).toEqual({ address: '8.8.8.8', family: 4 });
    expect(pickAddress([{ address: '127.0.0.1', family: 4 }], true)).toEqual({ address: '127.0.0.1', family: 4 });
  });

  it('wants https in production even where private networks are allowed', () => {
    expect(checkEndpointUrl('http://example.com/x', { production: true, allowPrivateNetworks: true })).toMatchObject({ code: 'WEBHOOK_URL_INVALID' });
    expect(checkEndpointUrl('https://user:pw@example.com/x', { production: true, allowPrivateNetworks: false })).toMatchObject({ code: 'WEBHOOK_URL_INVALID' });
    expect(checkEndpointUrl('https://example.com/x', { production: true, allowPrivateNetworks: false })).toBeInstanceOf(URL);
  });
});

describe('who receives what', () => {
  it("gives a merchant's endpoint only events whose audience is that merchant", () => {
    const endpoint = { merchant_id: 'm1', partner_id: null };
    expect(mayReceive(endpoint, { merchant_id: 'm1' }, undefined)).toBe(true);
    expect(mayReceive(endpoint, { merchant_id: 'm2' }, undefined)).toBe(false);
    expect(mayReceive(endpoint, { merchant_id: null }, undefined)).toBe(false);
  });

  it("gives a partner's endpoint only events about records of its own transactions", () => {
    const endpoint = { merchant_id: null, partner_id: 'p1' };
    expect(mayReceive(endpoint, { merchant_id: 'm1' }, 'p1')).toBe(true);
    expect(mayReceive(endpoint, { merchant_id: 'm1' }, 'p2')).toBe(false);
    expect(mayReceive(endpoint, { merchant_id: 'm1' }, undefined)).toBe(false);
  });

  it('drops user ids and e-mail addresses and turns record ids into global ids', () => {
    expect(receiverData({ userId: 'u', email: 'a@b.c', offerId: 'o1', amount: 5 }, (t, id) => `${t}:${id}`)).toEqual({ offerId: 'Offer:o1', amount: 5 });
    expect(receiverData({ externalId: 'tx-1', cashbackId: 'c1' }, (t, id) => `${t}:${id}`)).toEqual({ externalId: 'tx-1', cashbackId: 'Cashback:c1' });
  });
});
