/**
 * A failure as stored (a job's `last_error`) and logged: one short line without URLs (which may
 * carry credentials) or e-mail addresses (an SMTP or HTTP reply often echoes the recipient).
 */
export const MAX_ERROR_LENGTH = 500;

export function describeError(error: unknown): string {
  const raw = error instanceof Error ? error.message : String(error);
  const text = raw
    .replace(/[a-z][a-z0-9+.-]*:\/\/\S+/gi, '[url]')
    .replace(/[^\s<>@"']+@[^\s<>@"']+/g, '[address]')
    .replace(/\s+/g, ' ')
    .trim();
  return (text || 'unknown error').slice(0, MAX_ERROR_LENGTH);
}
