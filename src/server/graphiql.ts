/**
 * GraphiQL, self-contained: yoga's GraphiQL build comes from `@graphql-yoga/render-graphiql` in
 * node_modules (the script, its CSS and the three Monaco editor workers), served by this server
 * under ASSETS_PATH, so the page works offline and behind a firewall. yoga's default page loads
 * the same build from a CDN at run time.
 *
 * The assets are loaded only when GraphiQL is first asked for (they are ~9 MB of strings), and
 * each is served with a long cache lifetime under a versioned path, gzipped when the browser
 * accepts it.
 */
import { createRequire } from 'node:module';
import { gzipSync } from 'node:zlib';
import type { GraphiQLOptions, Plugin } from 'graphql-yoga';

const VERSION = (createRequire(import.meta.url)('@graphql-yoga/render-graphiql/package.json') as { version: string }).version;

/** Where the GraphiQL build is served; the version in the path lets browsers cache it for good. */
export const GRAPHIQL_ASSETS_PATH = `/graphiql-assets/${VERSION}`;

interface Asset {
  body: Buffer;
  gzipped?: Buffer;
  type: string;
}

type Bundle = typeof import('@graphql-yoga/render-graphiql/graphiql');

const ASSETS: Record<string, { pick: (bundle: Bundle) => string; type: string }> = {
  'graphiql.js': { pick: (b) => b.js, type: 'text/javascript; charset=utf-8' },
  'graphiql.css': { pick: (b) => b.css, type: 'text/css; charset=utf-8' },
  'editor.worker.js': { pick: (b) => b.editorWorkerService, type: 'text/javascript; charset=utf-8' },
  'json.worker.js': { pick: (b) => b.jsonWorker, type: 'text/javascript; charset=utf-8' },
  'graphql.worker.js': { pick: (b) => b.graphqlWorker, type: 'text/javascript; charset=utf-8' },
};

let bundle: Promise<Bundle> | undefined;
const loaded = new Map<string, Asset>();

async function assetOf(name: string): Promise<Asset | undefined> {
  const spec = ASSETS[name];
  if (!spec) return undefined;
  let asset = loaded.get(name);
  if (!asset) {
    bundle ??= import('@graphql-yoga/render-graphiql/graphiql');
    asset = { body: Buffer.from(spec.pick(await bundle)), type: spec.type };
    loaded.set(name, asset);
  }
  return asset;
}

const PUBLIC_FEED = `# Welcome to hashback: the public catalogue needs no credentials.
# Run it with the ▶ button (or Ctrl-Enter). The Docs pane (top left) describes every field.
query PublicFeed {
  offers(first: 10, orderBy: BEST_REWARD, filter: { country: "US" }) {
    edges {
      node {
        id
        title
        rewardSummary
        status
        endsAt
        merchant { name }
        posts { externalId authorHandle text }
      }
    }
  }
}
`;

const SIGNED_IN = `# Signed in: run SignUp (or LogIn), copy the token, and put it in the Headers tab below:
#   { "Authorization": "Bearer <token>" }
# The same header also authenticates subscriptions over WebSocket.
mutation SignUp {
  signUp(input: { email: "ada@example.com", password: "correct horse battery", displayName: "Ada", country: "US" }) {
    token
    userErrors { field code message }
  }
}

mutation LogIn {
  logIn(input: { email: "ada@example.com", password: "correct horse battery" }) {
    token
    userErrors { code message }
  }
}

mutation LinkTestCard {
  linkCard(input: { number: "4242 4242 4242 4242", expMonth: 12, expYear: 2030 }) {
    card { id network first6 last4 }
    userErrors { field code message }
  }
}

query Me {
  viewer {
    email
    cards { network last4 }
    activations { activatedAt offer { title } }
    cashback(first: 10) { edges { node { status amount { formatted } merchant { name } } } }
    emails(first: 5) { subject createdAt }
  }
}

# Your cashback as it changes, live (try /demo's "Simulate a purchase" in another window).
subscription MyCashback {
  purchaseConfirmations {
    type
    status
    amount { formatted }
    cashback { merchant { name } purchaseAmount { formatted } }
  }
}
`;

/** hashback's GraphiQL: the public feed in the first tab, a signed-in walk-through in the second. */
export function graphiqlOptions(): GraphiQLOptions {
  return {
    title: 'hashback GraphiQL',
    subscriptionsProtocol: 'WS',
    defaultQuery: PUBLIC_FEED,
    defaultTabs: [
      { query: PUBLIC_FEED, headers: '{}' },
      // No placeholder header here: an invalid credential is refused (401), SignUp included.
      { query: SIGNED_IN, headers: '{}' },
    ],
    defaultEditorToolsVisibility: 'headers',
    shouldPersistHeaders: true,
  };
}

/** JSON that is safe inside a <script> element. */
const scriptJson = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c');
const htmlText = (value: string) => value.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);

/** The GraphiQL page: yoga's GraphiQL app, loaded from this server's ASSETS_PATH. */
export function renderGraphiQLPage(options: GraphiQLOptions): string {
  const asset = (name: string) => `${GRAPHIQL_ASSETS_PATH}/${name}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${htmlText(options.title ?? 'GraphiQL')}</title>
<link rel="icon" href="data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'%3E%3Crect width='16' height='16' rx='3' fill='%230f766e'/%3E%3Ctext x='8' y='12.5' font-size='11' text-anchor='middle' fill='white' font-family='sans-serif'%3E%23%3C/text%3E%3C/svg%3E">
<link rel="stylesheet" href="${asset('graphiql.css')}">
</head>
<body id="body" class="no-focus-outline">
<noscript>GraphiQL needs JavaScript.</noscript>
<div id="root"></div>
<script>
self.MonacoEnvironment = {
  globalAPI: false,
  getWorkerUrl: function (_moduleId, label) {
    return ${scriptJson({ editorWorkerService: asset('editor.worker.js'), json: asset('json.worker.js'), graphql: asset('graphql.worker.js') })}[label];
  },
};
</script>
<script src="${asset('graphiql.js')}"></script>
<script>
YogaGraphiQL.renderYogaGraphiQL(document.querySelector('#root'), ${scriptJson(options)});
</script>
</body>
</html>
`;
}

/** Serves the GraphiQL build under GRAPHIQL_ASSETS_PATH (only when GraphiQL is on). */
export function useGraphiQLAssets(): Plugin {
  return {
    async onRequest({ request, url, endResponse }) {
      if (!url.pathname.startsWith(`${GRAPHIQL_ASSETS_PATH}/`) || (request.method !== 'GET' && request.method !== 'HEAD')) return;
      const asset = await assetOf(url.pathname.slice(GRAPHIQL_ASSETS_PATH.length + 1));
      if (!asset) {
        endResponse(new Response('Not found', { status: 404, headers: { 'content-type': 'text/plain; charset=utf-8' } }));
        return;
      }
      const headers: Record<string, string> = {
        'content-type': asset.type,
        'cache-control': 'public, max-age=31536000, immutable',
        'x-content-type-options': 'nosniff',
        vary: 'accept-encoding',
      };
      let body = asset.body;
      if (/\bgzip\b/.test(request.headers.get('accept-encoding') ?? '')) {
        asset.gzipped ??= gzipSync(asset.body);
        body = asset.gzipped;
        headers['content-encoding'] = 'gzip';
      }
      endResponse(new Response(request.method === 'HEAD' ? null : new Uint8Array(body), { status: 200, headers }));
    },
  };
}
