/**
 * Connection cursors are made when read (`toPage` in lib/pagination.ts: getters on each edge and
 * on pageInfo), and making one can fail (a row without its sort column). The relay plugin exposes
 * `cursor`, `startCursor` and `endCursor` without a resolver, which graphql-jit turns into a
 * property read inlined outside its error handling: a getter that throws there, after the page's
 * await, was an unhandled rejection and a request that never answered. Giving these fields a
 * resolver puts the read inside the executor's handling, so a failure is a (masked) field error.
 * Applied once to the built schema.
 */
import { isObjectType, type GraphQLFieldResolver, type GraphQLSchema } from 'graphql';

const read =
  (name: string): GraphQLFieldResolver<Record<string, unknown>, unknown> =>
  (parent) =>
    parent[name];

export function resolveConnectionCursors(schema: GraphQLSchema): GraphQLSchema {
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type)) continue;
    const fields = type.getFields();
    const names = type.name === 'PageInfo' ? ['startCursor', 'endCursor'] : type.name.endsWith('Edge') ? ['cursor'] : [];
    for (const name of names) {
      const field = fields[name];
      if (field && !field.resolve) field.resolve = read(name);
    }
  }
  return schema;
}
