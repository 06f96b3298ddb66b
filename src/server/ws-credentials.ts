/**
 * Credentials of a graphql-ws operation. A client may authenticate the whole connection in
 * `connection_init` (`{ "authorization": "Bearer …" }`), or send headers with each subscribe
 * message in `extensions.headers`, which is what GraphiQL does with its Headers tab (its
 * `connection_init` is empty). Both go through the same `authenticate` as HTTP: a subscribe
 * message's own Authorization header wins for that operation, as an HTTP request's header does
 * for that request; a bad one is refused (401), never demoted to anonymous.
 */

/** The value of `name` in a headers object, whatever its case; undefined when absent or not a string. */
function headerOf(headers: unknown, name: string): string | undefined {
  if (headers === null || typeof headers !== 'object' || Array.isArray(headers)) return undefined;
  for (const [key, value] of Object.entries(headers as Record<string, unknown>)) {
    if (key.toLowerCase() === name && typeof value === 'string') return value;
  }
  return undefined;
}

/**
 * The connection parameters an operation runs with: `connection_init`'s, with `authorization`
 * replaced by the subscribe message's `extensions.headers.authorization` when it carries one.
 */
export function operationConnectionParams(
  connectionParams: Readonly<Record<string, unknown>> | undefined,
  extensions: unknown,
): Record<string, unknown> {
  const params = { ...(connectionParams ?? {}) };
  const fromMessage = headerOf((extensions as { headers?: unknown } | null | undefined)?.headers, 'authorization');
  if (fromMessage === undefined) return params;
  delete params.Authorization;
  return { ...params, authorization: fromMessage };
}
