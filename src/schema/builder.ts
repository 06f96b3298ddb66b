/**
 * The Pothos builder: configuration only. Types live in their domain modules.
 */
import SchemaBuilder from '@pothos/core';
import DataloaderPlugin from '@pothos/plugin-dataloader';
import RelayPlugin from '@pothos/plugin-relay';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import ValidationPlugin from '@pothos/plugin-validation';
import { GraphQLError, isObjectType, type GraphQLSchema } from 'graphql';
import type { Context, PartnerScope } from '../context.js';
import { decodeGlobalId, encodeGlobalId } from '../lib/ids.js';
import { MAX_PAGE_SIZE } from '../lib/pagination.js';

export interface SchemaTypes {
  Context: Context;
  Scalars: {
    DateTime: { Input: Date; Output: Date };
    ID: { Input: string; Output: string };
  };
  AuthScopes: {
    admin: boolean;
    merchant: boolean;
    partner: PartnerScope | boolean;
  };
  DefaultFieldNullability: false;
}

/** Whether a decoded global id names a type that implements Node (malformed ids decode to ''). */
function isNodeType(schema: GraphQLSchema, typename: string): boolean {
  const type = typename ? schema.getType(typename) : undefined;
  return isObjectType(type) && type.getInterfaces().some((i) => i.name === 'Node');
}

export const builder = new SchemaBuilder<SchemaTypes>({
  plugins: [ScopeAuthPlugin, RelayPlugin, DataloaderPlugin, ValidationPlugin],
  defaultFieldNullability: false,
  // An argument out of its range is bad input like any other: the rule it broke, coded.
  validation: {
    validationError: (failure) =>
      new GraphQLError(failure.issues.map((issue) => issue.message).join('; '), { extensions: { code: 'BAD_USER_INPUT' } }),
  },
  scopeAuth: {
    authScopes: ({ principal }) => ({
      admin: principal.kind === 'admin',
      merchant: principal.kind === 'merchant',
      partner: (scope) =>
        principal.kind === 'partner' && (typeof scope === 'boolean' ? scope : principal.scopes.includes(scope)),
    }),
  },
  relay: {
    clientMutationId: 'omit',
    cursorType: 'String',
    encodeGlobalID: (typename, id) => encodeGlobalId(typename, String(id)),
    // A malformed id is "not found" (null), never an error that tells ids apart.
    decodeGlobalID: (globalID) => decodeGlobalId(globalID) ?? { typename: '', id: '' },
    nodeQueryOptions: {
      description: 'Fetches any object by its global id; null when it does not exist or the caller may not see it.',
      args: { id: { description: 'Global id of the object.' } },
      resolve: (_root, { id }, _ctx, info, resolveNode) => (isNodeType(info.schema, id.typename) ? resolveNode(id) : null),
    },
    nodesQueryOptions: {
      description: 'Fetches up to 100 objects by global id, in order; null for each one not found.',
      args: { ids: { description: 'Global ids of the objects, at most 100.' } },
      resolve: (_root, args, _ctx, info, resolveNodes) => {
        if (args.ids.length > MAX_PAGE_SIZE) {
          throw new GraphQLError(`nodes takes at most ${MAX_PAGE_SIZE} ids.`, { extensions: { code: 'BAD_USER_INPUT' } });
        }
        // Pothos resolves `args.ids` whatever is passed to resolveNodes, so the known ids replace them.
        const requested = args.ids;
        const known = requested.map((id) => isNodeType(info.schema, id.typename));
        args.ids = requested.filter((_, i) => known[i]);
        return resolveNodes(args.ids).then((found) => {
          let next = 0;
          return known.map((isKnown) => (isKnown ? found[next++] : null));
        });
      },
    },
    nodeTypeOptions: { description: 'An object with a global id.' },
    pageInfoTypeOptions: { description: 'Where a page sits in its list.' },
    idFieldOptions: { description: 'Global id of the object.' },
    cursorFieldOptions: { description: 'Opaque cursor of this edge, for `after`.' },
    nodeFieldOptions: { description: 'The object at this edge.' },
    edgesFieldOptions: { description: 'The page of objects with their cursors.' },
    pageInfoFieldOptions: { description: 'Where this page sits in the list.' },
    hasNextPageFieldOptions: { description: 'True when more objects follow this page.' },
    hasPreviousPageFieldOptions: { description: 'True when objects come before this page.' },
    startCursorFieldOptions: { description: 'Cursor of the first object in the page.' },
    endCursorFieldOptions: { description: 'Cursor of the last object in the page, for `after`.' },
    mutationInputArgOptions: { description: 'The input of the mutation.' },
    defaultMutationInputTypeOptions: {},
    defaultPayloadTypeOptions: {},
    defaultConnectionTypeOptions: {},
    defaultEdgeTypeOptions: {},
  },
});

builder.queryType({ description: 'Reading the catalogue and, with credentials, your own data.' });
builder.mutationType({ description: 'Changes; each takes one `input` and answers a payload with `userErrors`.' });
builder.subscriptionType({ description: 'Live streams over graphql-ws (WebSocket) or SSE: offers for everyone, confirmations and redemptions with credentials.' });
