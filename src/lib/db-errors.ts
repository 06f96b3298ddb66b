/**
 * Recognises constraint violations from pg and PGlite alike (both carry the SQLSTATE in `code`),
 * so services can turn a lost race on a unique key into the same user error as the pre-check.
 */
export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, constraint: name } = error as { code?: unknown; constraint?: unknown };
  return code === '23505' && (constraint === undefined || name === constraint);
}
