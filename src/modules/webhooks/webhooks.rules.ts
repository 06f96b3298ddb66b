/**
 * The pure parts of webhooks: Standard Webhooks signing, the retry schedule, which URLs and
 * addresses an endpoint may use, which events an endpoint receives, and how an HTTP answer is
 * classified. No I/O here, so each rule is unit-tested on its own.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { BlockList, isIP } from 'node:net';
import { truncate } from '../../lib/text.js';

// ---------------------------------------------------------------- secrets and signatures

const SECRET_PREFIX = 'whsec_';
const SECRET_BYTES = 32;

/** A new signing secret in the Standard Webhooks form, `whsec_<base64 of 32 random bytes>`. */
export function newWebhookSecret(): string {
  return `${SECRET_PREFIX}${randomBytes(SECRET_BYTES).toString('base64')}`;
}

function secretKey(secret: string): Buffer {
  if (!secret.startsWith(SECRET_PREFIX)) throw new Error('A webhook secret starts with whsec_');
  return Buffer.from(secret.slice(SECRET_PREFIX.length), 'base64');
}

/** One `v1,<base64 HMAC-SHA256>` of `${id}.${timestamp}.${body}` (Standard Webhooks). */
export function signPayload(secret: string, messageId: string, timestampSeconds: number, body: string): string {
  const mac = createHmac('sha256', secretKey(secret)).update(`${messageId}.${timestampSeconds}.${body}`, 'utf8').digest('base64');
  return `v1,${mac}`;
}

/** The `webhook-signature` header: one signature per secret in use (two during a rotation's overlap), space-separated. */
export function signatureHeader(secrets: readonly string[], messageId: string, timestampSeconds: number, body: string): string {
  return secrets.map((secret) => signPayload(secret, messageId, timestampSeconds, body)).join(' ');
}

/** Whether any `v1` signature of a header matches `secret` (what a receiver checks). */
export function verifySignature(secret: string, header: string, messageId: string, timestampSeconds: number, body: string): boolean {
  const expected = Buffer.from(signPayload(secret, messageId, timestampSeconds, body));
  return header.split(' ').some((candidate) => {
    const given = Buffer.from(candidate);
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}

// ---------------------------------------------------------------- retry schedule

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

/** `0s,5s,5m,30m,2h,5h,10h,10h` → waits in ms before each attempt; the list's length is the number of attempts. */
export function parseRetrySchedule(value: string): number[] {
  return value.split(',').map((part) => {
    const match = /^\s*(\d+)(ms|s|m|h)\s*$/.exec(part);
    if (!match) throw new Error(`Not a duration: "${part.trim().slice(0, 20)}" (expected e.g. 5s, 5m, 2h)`);
    return Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
  });
}

/**
 * The wait after attempt `attempt` (1-based) failed: the schedule's next entry, or a longer
 * Retry-After the receiver asked for. Null when no attempt is left.
 */
export function retryDelayMs(schedule: readonly number[], attempt: number, retryAfterMs?: number | null): number | null {
  if (attempt >= schedule.length) return null;
  const planned = schedule[attempt]!;
  return retryAfterMs !== undefined && retryAfterMs !== null ? Math.max(planned, retryAfterMs) : planned;
}

/** Longest Retry-After honoured (a receiver cannot park a delivery for longer). */
export const MAX_RETRY_AFTER_MS = 24 * 3_600_000;

/** `Retry-After` as seconds or an HTTP date → ms from `now`; null when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now: Date): number | null {
  if (!value) return null;
  const trimmed = value.trim();
  const ms = /^\d+$/.test(trimmed) ? Number(trimmed) * 1000 : Date.parse(trimmed) - now.getTime();
  if (!Number.isFinite(ms)) return null;
  return Math.min(Math.max(ms, 0), MAX_RETRY_AFTER_MS);
}

// ---------------------------------------------------------------- answers

export type AttemptVerdict =
  /** 2xx. */
  | 'delivered'
  /** 410 Gone: the receiver asks us to stop; the endpoint is disabled at once. */
  | 'gone'
  /** Anything else (3xx: redirects are never followed, 429, 4xx, 5xx, timeouts, connection errors): retried. */
  | 'retry';

export function verdictOf(status: number | null): AttemptVerdict {
  if (status !== null && status >= 200 && status < 300) return 'delivered';
  if (status === 410) return 'gone';
  return 'retry';
}

// ---------------------------------------------------------------- URLs and addresses

export type UrlProblem = { code: 'WEBHOOK_URL_INVALID' | 'WEBHOOK_ADDRESS_NOT_ALLOWED'; message: string };

/** Scheme, form and literal host of an endpoint URL; https only unless private networks are allowed (development). */
export function checkEndpointUrl(value: string, options: { production: boolean; allowPrivateNetworks: boolean }): URL | UrlProblem {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return { code: 'WEBHOOK_URL_INVALID', message: 'The URL is not an absolute URL like https://example.com/webhooks.' };
  }
  if (value.length > 2000) return { code: 'WEBHOOK_URL_INVALID', message: 'The URL is longer than 2000 characters.' };
  const httpAllowed = !options.production && options.allowPrivateNetworks;
  if (url.protocol !== 'https:' && !(httpAllowed && url.protocol === 'http:')) {
    return { code: 'WEBHOOK_URL_INVALID', message: httpAllowed ? 'The URL must use https or http.' : 'The URL must use https.' };
  }
  if (url.username || url.password) return { code: 'WEBHOOK_URL_INVALID', message: 'The URL must not carry a user name or password.' };
  if (url.hash) return { code: 'WEBHOOK_URL_INVALID', message: 'The URL must not have a #fragment.' };
  const host = hostOf(url);
  if (isIP(host) && !options.allowPrivateNetworks && !isPublicAddress(host)) {
    return { code: 'WEBHOOK_ADDRESS_NOT_ALLOWED', message: 'The URL names a private, loopback, link-local or metadata address.' };
  }
  return url;
}

/** The URL's host without IPv6 brackets. */
export const hostOf = (url: URL) => url.hostname.replace(/^\[(.*)\]$/, '$1');

// Everything that is not the public internet: private, loopback, link-local (cloud metadata at
// 169.254.169.254 and fd00:ec2::254 included), CGNAT, benchmarking, documentation, multicast, reserved.
const NOT_PUBLIC = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.88.99.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24],
  ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) NOT_PUBLIC.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [
  ['::', 128], ['::1', 128], ['64:ff9b::', 96], ['64:ff9b:1::', 48], ['100::', 64], ['2001::', 23], ['2001:db8::', 32], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8],
] as const) NOT_PUBLIC.addSubnet(net, prefix, 'ipv6');

/** Whether an IP address is on the public internet (IPv4-mapped IPv6 is judged by its IPv4; NAT64 is refused, it can reach anything). */
export function isPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return !NOT_PUBLIC.check(address, 'ipv4');
  if (family !== 6) return false;
  const lower = address.toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (mapped) return isPublicAddress(mapped[1]!);
  const hexMapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(lower);
  if (hexMapped) {
    const hi = parseInt(hexMapped[1]!, 16);
    const lo = parseInt(hexMapped[2]!, 16);
    return isPublicAddress(`${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`);
  }
  return !NOT_PUBLIC.check(address, 'ipv6');
}

/**
 * Of the addresses a host resolved to, the one to connect to: the first, provided every one is
 * public (a host that also resolves to a private address is refused, so DNS cannot be used to
 * aim us inside). Null when refused.
 */
export function pickAddress(addresses: readonly { address: string; family: number }[], allowPrivateNetworks: boolean) {
  if (addresses.length === 0) return null;
  if (!allowPrivateNetworks && addresses.some((a) => !isPublicAddress(a.address))) return null;
  return addresses[0]!;
}

// ---------------------------------------------------------------- event types

/** Whether an endpoint listening to `eventTypes` (empty: all) receives an event of dotted type `type`. */
export function matchesEventTypes(eventTypes: readonly string[], type: string): boolean {
  return eventTypes.length === 0 || eventTypes.includes(type);
}

/** Cuts text to at most `max` characters, marking the cut. */
// ---------------------------------------------------------------- who receives what

/**
 * Whether an endpoint may receive an event: the same reading rights as the API. A merchant's
 * endpoint gets the events whose audience is that merchant (its offers, the cashback and credits
 * of its offers, its own endpoints) and never one without it (another merchant's, or a user's
 * alone). A partner's endpoint gets the events about its own transactions and the records behind
 * them (cashback, and statement credits when it holds credits:write) and about its own endpoints:
 * `partnerOfSubject` says which partner that is.
 */
export function mayReceive(
  endpoint: { merchant_id: string | null; partner_id: string | null },
  event: { merchant_id: string | null },
  partnerOfSubject: string | undefined,
): boolean {
  if (endpoint.merchant_id) return event.merchant_id === endpoint.merchant_id;
  return endpoint.partner_id !== null && partnerOfSubject === endpoint.partner_id;
}

/** Data keys ending in `Id` that are not our record ids (a partner's or a platform's): passed on as they are. */
const FOREIGN_ID_KEYS = new Set(['externalId', 'inReplyToPostId']);

/**
 * The event's data as receivers see it: record ids (`offerId`, `cashbackId`, …) as the API's
 * global ids (a partner's own `externalId` as sent), and nothing that names a person: user ids
 * and e-mail addresses are dropped.
 */
export function receiverData(data: Record<string, unknown>, globalId: (typename: string, id: string) => string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(data)) {
    if (/^user(Id)?$|email/i.test(key)) continue;
    const record = FOREIGN_ID_KEYS.has(key) ? null : /^([a-z][A-Za-z]*)Id$/.exec(key);
    out[key] = record && typeof value === 'string' ? globalId(record[1]![0]!.toUpperCase() + record[1]!.slice(1), value) : value;
  }
  return out;
}

/**
 * The e-mail to an endpoint's owner when the platform disabled it: which endpoint, why, and how
 * to resume. The URL is the owner's own; nothing else about its traffic is in it.
 */
export function composeEndpointDisabledEmail(facts: { ownerName: string; url: string; reason: string; at: Date }): { subject: string; body: string } {
  return {
    subject: `Your webhook endpoint ${truncate(facts.url, 120)} was disabled`,
    body: [
      `Hi ${facts.ownerName},`,
      '',
      `We disabled your webhook endpoint ${facts.url} on ${facts.at.toISOString()}.`,
      `Reason: ${facts.reason}`,
      '',
      'Nothing is delivered to it until you enable it again (enableWebhookEndpoint); delivery then resumes from that moment.',
      'Every event stays in the log: replayWebhookEvents sends what it missed.',
      '',
      '— hashback',
    ].join('\n'),
  };
}
