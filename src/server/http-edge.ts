/**
 * The HTTP edge before GraphQL: who the client is (address, request id), which bodies are
 * accepted, how large, and which browser origins may call.
 *
 * - Only JSON bodies run operations. A form or multipart post (what a cross-site HTML form can
 *   send without a CORS preflight) is refused with 415, so no other site can make a signed-in
 *   browser run a mutation; there are no uploads.
 * - One size limit (MAX_REQUEST_BYTES) for every body, read as it streams: a larger body is
 *   refused with 413 as soon as it passes the limit, whatever Content-Length claimed.
 * - A body that is not JSON is refused without quoting it.
 * - CORS follows CORS_ORIGINS and never allows credentials: callers authenticate with bearer
 *   headers, never cookies.
 */
import { randomUUID } from 'node:crypto';
import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Config } from '../config.js';
import { containsCardNumber } from '../modules/cards/card-number.js';

/** A request id we can echo and log: a short token with nothing that could be a card number. */
export function requestIdOf(given: string | null | undefined): string {
  return given && /^[\w.:-]{1,128}$/.test(given) && !containsCardNumber(given) ? given : randomUUID();
}

/**
 * The client's address: the socket's, or with TRUST_PROXY_HOPS = n the one the n-th proxy from
 * us saw (the n-th entry of X-Forwarded-For from the right; entries further left are the
 * client's own claims and cannot be trusted).
 */
export function clientAddressOf(forwardedFor: string | null | undefined, socketAddress: string | undefined, hops: number): string {
  if (hops > 0 && forwardedFor) {
    const chain = forwardedFor.split(',').map((s) => s.trim()).filter(Boolean);
    const trusted = chain[Math.max(0, chain.length - hops)];
    if (trusted) return trusted.slice(0, 64);
  }
  return socketAddress ?? 'unknown';
}

const JSON_TYPES = ['application/json', 'application/graphql-response+json', 'application/graphql+json'];

const badRequest = (message: string, status: number, code: string) =>
  new GraphQLError(message, { extensions: { code, http: { status } } });

function jsonResponse(status: number, message: string, code: string): Response {
  return new Response(JSON.stringify({ errors: [{ message, extensions: { code } }] }), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8' },
  });
}

/** Reads a body up to `max` bytes; refuses (413) as soon as it passes that. */
async function readLimited(request: Request, max: number): Promise<string> {
  const length = request.headers.get('content-length');
  const declared = length === null ? Number.NaN : Number(length);
  const tooLarge = () => badRequest(`The request body is larger than ${max} bytes.`, 413, 'REQUEST_TOO_LARGE');
  if (Number.isFinite(declared) && declared > max) throw tooLarge();
  // A body framed by its Content-Length is exactly that long (the HTTP parser stops there), so it
  // is read whole, without the stream reader below (2% of an uncached feed request).
  if (Number.isFinite(declared) && !request.headers.has('transfer-encoding')) return request.text();
  if (!request.body) return '';
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    // JSON.parse's own message quotes the input: never send it back.
    throw badRequest(`${what} is not valid JSON.`, 400, 'BAD_REQUEST');
  }
}

const isContentType = (request: Request, types: readonly string[]) => {
  const type = request.headers.get('content-type')?.split(';')[0]?.trim().toLowerCase() ?? '';
  return types.includes(type);
};

/** Parses GraphQL requests itself: JSON bodies within the size limit, GET query strings; nothing else. */
export function useRequestGuards(options: { maxRequestBytes: number }): Plugin {
  const { maxRequestBytes } = options;
  return {
    onRequestParse({ request, setRequestParser, endResponse }) {
      if (request.method === 'GET') {
        setRequestParser((req) => {
          const params = new URL(req.url).searchParams;
          const variables = params.get('variables');
          const extensions = params.get('extensions');
          return {
            query: params.get('query') ?? undefined,
            operationName: params.get('operationName') ?? undefined,
            variables: variables ? (parseJson(variables, 'The variables parameter') as Record<string, unknown>) : undefined,
            extensions: extensions ? (parseJson(extensions, 'The extensions parameter') as Record<string, unknown>) : undefined,
          };
        });
        return;
      }
      if (request.method !== 'POST') return;
      if (!isContentType(request, JSON_TYPES)) {
        endResponse(
          jsonResponse(
            415,
            'Send operations as a JSON body (content-type: application/json); form and multipart bodies are not accepted.',
            'UNSUPPORTED_MEDIA_TYPE',
          ),
        );
        return;
      }
      setRequestParser(async (req) => {
        const body = parseJson(await readLimited(req, maxRequestBytes), 'The request body');
        if (body === null || typeof body !== 'object' || Array.isArray(body)) {
          throw badRequest('The request body must be a JSON object with a "query".', 400, 'BAD_REQUEST');
        }
        return body as never;
      });
    },
  };
}

/** CORS from CORS_ORIGINS: `*`, a list (an allowed Origin is echoed), or none at all. */
export function corsOf(config: Pick<Config, 'corsOrigins'>) {
  const shared = {
    credentials: false,
    methods: ['GET', 'POST', 'OPTIONS'],
    allowedHeaders: ['content-type', 'authorization', 'accept', 'x-request-id', 'idempotency-key'],
    exposedHeaders: ['x-request-id', 'ratelimit', 'ratelimit-policy', 'retry-after'],
    maxAge: 600,
  };
  const { corsOrigins } = config;
  if (corsOrigins === '*') return { ...shared, origin: '*' };
  if (corsOrigins.length === 0) return false as const;
  return (request: Request) => {
    const origin = request.headers.get('origin');
    return origin && corsOrigins.includes(origin) ? { ...shared, origin } : false;
  };
}

/** Whether a WebSocket upgrade's Origin may connect (checked only when a list is configured). */
export function originAllowed(config: Pick<Config, 'corsOrigins'>, origin: string | undefined): boolean {
  const { corsOrigins } = config;
  if (corsOrigins === '*' || corsOrigins.length === 0 || !origin) return true;
  return corsOrigins.includes(origin);
}

