/**
 * Keyset pagination shared by every connection: pages are read with `first + 1` rows past an
 * opaque cursor that holds the sort key of the last row seen, so a page costs one statement and
 * stays stable while rows are added.
 */
import { GraphQLError } from 'graphql';
import { isUuid } from './ids.js';

export const MAX_PAGE_SIZE = 100;
export const DEFAULT_PAGE_SIZE = 20;

export type CursorValue = string | number;

export function encodeCursor(values: CursorValue[]): string {
  return Buffer.from(JSON.stringify(values), 'utf8').toString('base64url');
}

type CursorPart = 'text' | 'int' | 'uuid' | 'date';

const PART_CHECKS: Record<CursorPart, (v: unknown) => boolean> = {
  text: (v) => typeof v === 'string',
  int: (v) => Number.isSafeInteger(v),
  uuid: (v) => typeof v === 'string' && isUuid(v),
  date: (v) => typeof v === 'string' && !Number.isNaN(Date.parse(v)),
};

type PartValue<P extends CursorPart> = P extends 'int' ? number : string;

/** Decodes a cursor made by encodeCursor whose values have the given kinds; a bad one is a client error. */
export function decodeCursor<const P extends readonly CursorPart[]>(
  cursor: string,
  parts: P,
): { [K in keyof P]: PartValue<P[K]> } {
  try {
    const values: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(values) && values.length === parts.length && parts.every((p, i) => PART_CHECKS[p](values[i]))) {
      return values as { [K in keyof P]: PartValue<P[K]> };
    }
  } catch {
    // fall through
  }
  throw new GraphQLError('The "after" cursor is not valid for this list.', { extensions: { code: 'BAD_USER_INPUT' } });
}

export interface Page<T> {
  edges: { cursor: string; node: T }[];
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
}

/** An edge whose cursor is made when read; its getter is shared (an object literal's was defined per edge). */
class Edge<T> {
  readonly #cursorOf: (row: T) => string;

  constructor(
    readonly node: T,
    cursorOf: (row: T) => string,
  ) {
    this.#cursorOf = cursorOf;
  }

  get cursor(): string {
    return this.#cursorOf(this.node);
  }
}

/**
 * Shapes `first + 1` fetched rows into a relay page. Cursors are made when read: a page whose
 * query asks for none (a feed showing its first page) does not encode one per row.
 */
export function toPage<T>(rows: T[], first: number, after: string | null | undefined, cursorOf: (row: T) => string): Page<T> {
  const edges = rows.slice(0, first).map((node) => new Edge(node, cursorOf));
  return {
    edges,
    pageInfo: {
      hasNextPage: rows.length > first,
      hasPreviousPage: Boolean(after),
      get startCursor() {
        return edges[0]?.cursor ?? null;
      },
      get endCursor() {
        return edges[edges.length - 1]?.cursor ?? null;
      },
    },
  };
}
