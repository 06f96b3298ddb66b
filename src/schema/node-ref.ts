/**
 * How a domain declares its node type once, in its own `<domain>.refs.ts`: a Relay node that
 * loads through a dataloader applying the caller's visibility (the module's `loadVisible…`), so a
 * field can never leak a row its id lookup would hide. Other domains import the ref from there.
 */
import { isObjectType, type GraphQLSchema } from 'graphql';
import type { Context } from '../context.js';
import { encodeGlobalId, isUuid } from '../lib/ids.js';
import { builder } from './builder.js';

/** The node types declared here: each one's id is its row's `id`. */
const rowIdNodes = new Set<string>();

export function visibleNodeRef<T extends { id: string }>(name: string, loadVisible: (ctx: Context, ids: readonly string[]) => Promise<T[]>) {
  rowIdNodes.add(name);
  return builder.loadableNodeRef<T, string, string>(name, {
    // Ids that are not uuids cannot exist; they never reach SQL.
    load: (ids: string[], ctx: Context) => loadVisible(ctx, ids.filter(isUuid)),
    sort: (row: T) => row.id,
    id: { resolve: (row: T) => row.id },
  });
}

/**
 * Gives the `id` field of the node types declared here a synchronous resolver with the same answer
 * (the builder's `encodeGlobalID`, over the row's `id`). Pothos's relay plugin resolves every node
 * id through a promise: a feed page has a hundred, and a promise per id was about 4% of its CPU.
 * Applied once to the built schema.
 */
export function resolveNodeIdsSynchronously(schema: GraphQLSchema): GraphQLSchema {
  for (const name of rowIdNodes) {
    const type = schema.getType(name);
    const id = isObjectType(type) ? type.getFields().id : undefined;
    if (!id) throw new Error(`${name} is declared as a node but has no id field`);
    id.resolve = (row: { id: string }) => encodeGlobalId(name, row.id);
  }
  return schema;
}
