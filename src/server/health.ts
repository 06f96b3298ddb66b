/**
 * Probes and the front door: `GET /health` (the process runs), `GET /ready` (this instance can
 * serve: the database answers, migrations are current, not shutting down) and, in development,
 * `GET /` sending a person to GraphiQL. Probes answer a small JSON body a person can read too:
 * `{"status":"ok"}`, or 503 with `{"status":"not ready","notReady":["migrations pending"]}`.
 */
import type { Plugin } from 'graphql-yoga';

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
  });
}

export function useProbes(options: {
  /** What keeps this instance from serving now (empty: ready). */
  notReady: () => Promise<string[]>;
  /** Where `GET /` redirects (development with GraphiQL on); undefined leaves `/` alone. */
  rootRedirect?: string;
}): Plugin {
  return {
    onRequest({ request, url, endResponse }) {
      if (request.method !== 'GET' && request.method !== 'HEAD') return;
      if (url.pathname === '/health') {
        endResponse(json(200, { status: 'ok' }));
      } else if (url.pathname === '/ready') {
        return options.notReady().then(
          (reasons) => endResponse(reasons.length === 0 ? json(200, { status: 'ready' }) : json(503, { status: 'not ready', notReady: reasons })),
          () => endResponse(json(503, { status: 'not ready', notReady: ['readiness check failed'] })),
        );
      } else if (url.pathname === '/' && options.rootRedirect) {
        endResponse(new Response(null, { status: 302, headers: { location: options.rootRedirect } }));
      }
    },
  };
}
