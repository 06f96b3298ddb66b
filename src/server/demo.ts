/**
 * The demo timeline at /demo (DEMO_PAGE): plain HTML, CSS and ES modules from the `demo/` folder,
 * and the graphql-ws browser client from node_modules, served as they are (no bundler). The page
 * talks to the public GraphQL API like any client.
 *
 * One development-only endpoint plays the card partner: POST /demo/simulate-purchase, with the
 * signed-in user's token, posts a CLEARING for the user's linked card at one of the offer's
 * locations through `ingestTransactions`, authenticated with the demo partner key. The key stays
 * on the server (DEMO_PARTNER_KEY, else <DATA_DIR>/demo-keys.json) and every step runs through the
 * GraphQL API with its limits: the user's own rate limit for reading their cards, the partner's
 * for the ingest. It does not exist when NODE_ENV=production, whatever DEMO_PAGE says.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Kysely } from 'kysely';
import type { Plugin } from 'graphql-yoga';
import type { DB } from '../../db/types.js';
import type { Config } from '../config.js';
import { idOfType } from '../lib/ids.js';
import { findLocationsByOfferIds, findMidsByLocationIds } from '../modules/locations/locations.service.js';

export const DEMO_PATH = '/demo';
export const SIMULATE_PATH = `${DEMO_PATH}/simulate-purchase`;

const STATIC_DIR = fileURLToPath(new URL('../../demo/', import.meta.url));
const GRAPHQL_WS_DIR = path.dirname(createRequire(import.meta.url).resolve('graphql-ws/package.json'));
const VENDOR_PREFIX = `${DEMO_PATH}/vendor/graphql-ws/`;

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** The page only talks to this server (HTTP and WebSocket); nothing inline, nothing from elsewhere. */
const PAGE_HEADERS = {
  'content-security-policy':
    "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; style-src 'self'; script-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
};

/** The largest body the simulate endpoint reads; it needs two small fields. */
const SIMULATE_MAX_BYTES = 2048;

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' } });
const problem = (status: number, code: string, message: string) => json(status, { error: { code, message } });

async function staticFile(file: string): Promise<Response | undefined> {
  const type = TYPES[path.extname(file)];
  if (!type) return undefined;
  try {
    return new Response(await fs.readFile(file), { status: 200, headers: { 'content-type': type, ...PAGE_HEADERS } });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** A file under /demo/: a plain name from the demo folder, or a graphql-ws client module. */
function fileFor(pathname: string): string | undefined {
  if (pathname === DEMO_PATH || pathname === `${DEMO_PATH}/`) return path.join(STATIC_DIR, 'index.html');
  if (pathname.startsWith(VENDOR_PREFIX)) {
    const name = pathname.slice(VENDOR_PREFIX.length);
    // The browser build is dist/client.js and the chunks it imports next to it.
    return /^(client|common-[\w-]+)\.js$/.test(name) ? path.join(GRAPHQL_WS_DIR, 'dist', name) : undefined;
  }
  const name = pathname.slice(DEMO_PATH.length + 1);
  return /^[\w-]+\.(html|js|css|svg)$/.test(name) ? path.join(STATIC_DIR, name) : undefined;
}

/** The partner key the simulation uses: configured, or the one the embedded first start saved. */
async function demoPartnerKey(config: Pick<Config, 'demoPartnerKey' | 'dataDir'>): Promise<string | undefined> {
  if (config.demoPartnerKey) return config.demoPartnerKey;
  try {
    const keys = JSON.parse(await fs.readFile(path.join(config.dataDir, 'demo-keys.json'), 'utf8')) as { partner?: unknown };
    return typeof keys.partner === 'string' ? keys.partner : undefined;
  } catch {
    return undefined;
  }
}

type Fetch = (request: Request) => Promise<Response>;

interface GraphQLAnswer<T> {
  data?: T | null;
  errors?: { message: string; extensions?: { code?: string } }[];
}

async function graphql<T>(fetchApi: Fetch, authorization: string, query: string, variables: Record<string, unknown>) {
  const response = await fetchApi(
    new Request('http://demo.internal/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', authorization },
      body: JSON.stringify({ query, variables }),
    }),
  );
  return { status: response.status, ...((await response.json()) as GraphQLAnswer<T>) };
}

const VIEWER_CARDS = `query DemoViewerCards($offerId: ID!) {
  viewer { cards { id network } }
  node(id: $offerId) { ... on Offer { id currency kind } }
}`;

const INGEST = `mutation DemoSimulatePurchase($input: IngestTransactionsInput!) {
  ingestTransactions(input: $input) {
    results { externalId outcome reason cashback { id status amount { formatted } } errors { code message } }
    userErrors { code message }
  }
}`;

interface SimulateRequest {
  offerId: string;
  amount: number;
}

function parseSimulateBody(text: string): SimulateRequest | string {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return 'The body is not valid JSON.';
  }
  const { offerId, amount } = (body ?? {}) as Record<string, unknown>;
  if (typeof offerId !== 'string' || offerId.length > 200 || !idOfType(offerId, 'Offer')) return 'offerId must be the global id of an offer.';
  if (!Number.isInteger(amount) || (amount as number) < 1 || (amount as number) > 1_000_000) {
    return 'amount must be an integer of minor units from 1 to 1000000.';
  }
  return { offerId, amount: amount as number };
}

/** Plays the card partner for the signed-in user: a CLEARING of `amount` with their card at the offer's merchant. */
async function simulatePurchase(request: Request, options: { config: Config; db: Kysely<DB>; fetch: Fetch }): Promise<Response> {
  const { config, db } = options;
  const type = request.headers.get('content-type')?.split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/json') return problem(415, 'UNSUPPORTED_MEDIA_TYPE', 'Send a JSON body (content-type: application/json).');
  const authorization = request.headers.get('authorization');
  if (!authorization) return problem(401, 'UNAUTHENTICATED', 'Sign in first: send "Authorization: Bearer <user token>".');
  const text = await request.text();
  if (Buffer.byteLength(text) > SIMULATE_MAX_BYTES) return problem(413, 'REQUEST_TOO_LARGE', `The body is larger than ${SIMULATE_MAX_BYTES} bytes.`);
  const input = parseSimulateBody(text);
  if (typeof input === 'string') return problem(400, 'BAD_REQUEST', input);

  // As the user, through the API: their cards, and the offer as they may see it.
  const viewer = await graphql<{ viewer: { cards: { id: string; network: string }[] } | null; node: { id: string; currency: string; kind: string } | null }>(
    options.fetch,
    authorization,
    VIEWER_CARDS,
    { offerId: input.offerId },
  );
  if (viewer.status === 401) return problem(401, 'UNAUTHENTICATED', 'The token is not valid; log in again.');
  if (viewer.errors?.length) return problem(viewer.status >= 400 ? viewer.status : 502, viewer.errors[0]!.extensions?.code ?? 'ERROR', viewer.errors[0]!.message);
  if (!viewer.data?.viewer) return problem(403, 'NOT_A_USER', 'Only a signed-in user can simulate a purchase.');
  const offer = viewer.data.node;
  if (!offer?.currency || offer.kind !== 'CASHBACK') return problem(404, 'NOT_FOUND', 'No such cashback offer.');
  const cards = viewer.data.viewer.cards;
  if (cards.length === 0) return problem(409, 'NO_CARD_LINKED', 'Link a card first.');

  // Where the card was used: one of the offer's locations that takes the card's network (stores first).
  const locations = await findLocationsByOfferIds(db, [idOfType(offer.id, 'Offer')!]);
  const mids = await findMidsByLocationIds(db, locations.map((l) => l.id));
  const channelOf = new Map(locations.map((l) => [l.id, l.channel]));
  let match: { card: { id: string; network: string }; mid: string } | undefined;
  for (const channel of ['IN_STORE', 'ONLINE']) {
    for (const card of cards) {
      const mid = mids.find((m) => m.network === card.network && channelOf.get(m.location_id) === channel);
      if (mid && !match) match = { card, mid: mid.mid };
    }
  }
  if (!match) return problem(409, 'NO_MATCHING_LOCATION', "None of the offer's locations takes your card's network.");

  const partnerKey = await demoPartnerKey(config);
  if (!partnerKey) {
    return problem(503, 'NO_DEMO_PARTNER_KEY', 'No demo partner key: set DEMO_PARTNER_KEY, or start on a fresh embedded data folder (it saves demo-keys.json).');
  }
  const ingest = await graphql<{ ingestTransactions: { results: unknown[] | null; userErrors: { code: string; message: string }[] } }>(
    options.fetch,
    `Bearer ${partnerKey}`,
    INGEST,
    {
      input: {
        transactions: [
          {
            externalId: `demo-${randomUUID()}`,
            type: 'CLEARING',
            cardId: match.card.id,
            network: match.card.network,
            mid: match.mid,
            amount: input.amount,
            currency: offer.currency,
            occurredAt: new Date().toISOString(),
          },
        ],
      },
    },
  );
  if (ingest.status === 401) return problem(503, 'DEMO_PARTNER_KEY_REFUSED', "The server refused the demo partner key: is it from this server's database?");
  if (ingest.errors?.length) return problem(ingest.status >= 400 ? ingest.status : 502, ingest.errors[0]!.extensions?.code ?? 'ERROR', ingest.errors[0]!.message);
  const payload = ingest.data!.ingestTransactions;
  if (payload.userErrors.length > 0) return problem(422, payload.userErrors[0]!.code, payload.userErrors[0]!.message);
  return json(200, { result: payload.results?.[0] ?? null });
}

/** Serves /demo and its files, and (outside production) the simulate endpoint. */
export function useDemoPage(options: { config: Config; db: Kysely<DB>; fetch: Fetch }): Plugin {
  const simulate = options.config.nodeEnv !== 'production';
  return {
    async onRequest({ request, url, endResponse }) {
      const { pathname } = url;
      if (pathname !== DEMO_PATH && !pathname.startsWith(`${DEMO_PATH}/`)) return;
      if (pathname === SIMULATE_PATH) {
        if (!simulate) endResponse(problem(404, 'NOT_FOUND', 'Simulation is a development tool; it is off in production.'));
        else if (request.method !== 'POST') endResponse(new Response(null, { status: 405, headers: { allow: 'POST' } }));
        else endResponse(await simulatePurchase(request, options));
        return;
      }
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        endResponse(new Response(null, { status: 405, headers: { allow: 'GET, HEAD' } }));
        return;
      }
      const file = fileFor(pathname);
      const response = file ? await staticFile(file) : undefined;
      endResponse(response ?? new Response('Not found', { status: 404, headers: { 'content-type': 'text/plain; charset=utf-8' } }));
    },
  };
}
