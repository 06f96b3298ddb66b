/**
 * Global ids: base64 of "Type:uuid", opaque to clients. Decoding never throws: a malformed id,
 * an id of another type or one that is not a uuid is answered as a typed error or as null.
 */
import { fail } from './errors.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: string): boolean {
  return UUID.test(value);
}

export function encodeGlobalId(typename: string, id: string | number | bigint): string {
  return Buffer.from(`${typename}:${id}`, 'utf8').toString('base64');
}

/** Returns { typename, id } or null when the id is not one of ours. */
export function decodeGlobalId(globalId: string): { typename: string; id: string } | null {
  if (globalId.length === 0 || globalId.length > 200 || !/^[A-Za-z0-9+/]+={0,2}$/.test(globalId)) return null;
  const decoded = Buffer.from(globalId, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return null;
  const typename = decoded.slice(0, colon);
  const id = decoded.slice(colon + 1);
  if (!/^[A-Za-z]+$/.test(typename) || !isUuid(id)) return null;
  return { typename, id };
}

/** The database id behind a global id of the expected type, or an INVALID_ID user error. */
export function parseGlobalId(globalId: string, typename: string, field: string[]): string {
  return idOfType(globalId, typename) ?? fail('INVALID_ID', `${field[field.length - 1] ?? 'id'} is not a valid ${typename} id`, field);
}

/** The database id behind a global id of `typename`, or null (a lookup by it finds nothing). */
export function idOfType(globalId: string, typename: string): string | null {
  const decoded = decodeGlobalId(globalId);
  return decoded?.typename === typename ? decoded.id : null;
}
