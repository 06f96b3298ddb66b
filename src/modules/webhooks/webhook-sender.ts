/**
 * One HTTP POST of a webhook, with the safety rules: the host is resolved once, every address it
 * resolves to must be public (unless private networks are allowed), and the connection goes to
 * the address that was checked (node's `lookup` hook answers with it: no second DNS lookup that
 * could be re-pointed in between). Redirects are never followed (node's http client does not
 * follow them, and a 3xx is a failed attempt). Connect and total timeouts; at most 64 KB of the
 * answer is read.
 */
import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { describeError } from '../../lib/error-text.js';
import { hostOf, pickAddress } from './webhooks.rules.js';

export const MAX_RESPONSE_BYTES = 64 * 1024;

export interface SendResult {
  /** HTTP status, null when no answer came (timeout, connection error, refused address). */
  status: number | null;
  durationMs: number;
  error: string | null;
  /** The answer's first bytes (up to 64 KB read) as text. */
  body: string | null;
  retryAfter: string | undefined;
}

export interface SendOptions {
  allowPrivateNetworks: boolean;
  connectTimeoutMs: number;
  timeoutMs: number;
}

/** Resolves `host` and picks the address to connect to; throws when refused. */
export async function resolveAllowed(host: string, allowPrivateNetworks: boolean): Promise<{ address: string; family: number }> {
  const family = isIP(host);
  const addresses = family ? [{ address: host, family }] : await dns.promises.lookup(host, { all: true, verbatim: true });
  const picked = pickAddress(addresses, allowPrivateNetworks);
  if (!picked) throw new AddressNotAllowedError();
  return picked;
}

export class AddressNotAllowedError extends Error {
  constructor() {
    super('The host resolves to a private, loopback, link-local or metadata address.');
    this.name = 'AddressNotAllowedError';
  }
}

export async function sendWebhook(target: string, headers: Record<string, string>, body: string, options: SendOptions): Promise<SendResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const url = new URL(target);
  const host = hostOf(url);
  let timedOut: string | null = null;
  let lookupTimer: NodeJS.Timeout | undefined;
  let address: { address: string; family: number };
  try {
    // The lookup counts against the connect timeout.
    address = await Promise.race([
      resolveAllowed(host, options.allowPrivateNetworks),
      new Promise<never>((_, reject) => {
        lookupTimer = setTimeout(() => reject(new Error(`DNS lookup timed out after ${options.connectTimeoutMs} ms`)), options.connectTimeoutMs);
      }),
    ]);
  } catch (error) {
    return { status: null, durationMs: elapsed(), error: describeError(error), body: null, retryAfter: undefined };
  } finally {
    clearTimeout(lookupTimer);
  }
  if (url.protocol === 'http:' && !options.allowPrivateNetworks) {
    return { status: null, durationMs: elapsed(), error: 'Plain http is allowed only with WEBHOOK_ALLOW_PRIVATE_NETWORKS.', body: null, retryAfter: undefined };
  }
  const lookup: LookupFunction = (_hostname, lookupOptions, callback) => {
    if (lookupOptions.all) (callback as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [address]);
    else callback(null, address.address, address.family);
  };
  const client = url.protocol === 'https:' ? https : http;

  return new Promise<SendResult>((resolve) => {
    let settled = false;
    const finish = (result: Omit<SendResult, 'durationMs'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(connectTimer);
      clearTimeout(totalTimer);
      resolve({ ...result, durationMs: elapsed() });
    };
    const request = client.request({
      method: 'POST',
      protocol: url.protocol,
      hostname: host,
      port: url.port || undefined,
      path: `${url.pathname}${url.search}`,
      headers: { ...headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), 'user-agent': 'hashback-webhooks/1' },
      agent: false,
      lookup,
      ...(url.protocol === 'https:' && !isIP(host) ? { servername: host } : {}),
    });
    const connectTimer = setTimeout(() => {
      timedOut = `connect timed out after ${options.connectTimeoutMs} ms`;
      request.destroy(new Error(timedOut));
    }, options.connectTimeoutMs);
    const totalTimer = setTimeout(() => {
      timedOut = `timed out after ${options.timeoutMs} ms`;
      request.destroy(new Error(timedOut));
    }, options.timeoutMs);
    request.on('socket', (socket) => {
      const connected = () => clearTimeout(connectTimer);
      if (!socket.connecting) connected();
      socket.once('connect', connected);
    });
    request.on('error', (error) => finish({ status: null, error: timedOut ?? describeError(error), body: null, retryAfter: undefined }));
    request.on('response', (response) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const done = () =>
        finish({
          status: response.statusCode ?? null,
          error: null,
          body: Buffer.concat(chunks).toString('utf8'),
          retryAfter: response.headers['retry-after'],
        });
      response.on('data', (chunk: Buffer) => {
        if (size >= MAX_RESPONSE_BYTES) return;
        chunks.push(chunk.subarray(0, MAX_RESPONSE_BYTES - size));
        size += chunk.length;
        if (size >= MAX_RESPONSE_BYTES) {
          // Enough read: the status counts, the rest of the body is not waited for.
          done();
          response.destroy();
        }
      });
      response.on('end', done);
      response.on('error', (error) =>
        finish({ status: null, error: timedOut ?? `answer broken off: ${describeError(error)}`, body: null, retryAfter: undefined }),
      );
    });
    request.end(body);
  });
}
