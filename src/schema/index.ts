/**
 * Builds the schema: the modules' types (importing the module list registers them), the enums
 * whose values the modules declare, then Pothos assembles them.
 */
import { lexicographicSortSchema, printSchema, type GraphQLSchema } from 'graphql';
import { builder } from './builder.js';
import { guardMutationsAgainstCardNumbers } from './card-number-guard.js';
import { resolveConnectionCursors } from './connection-cursors.js';
import { resolveNodeIdsSynchronously } from './node-ref.js';
import { COMMON_ERROR_CODES } from '../lib/errors.js';
import { MODULES } from '../modules/index.js';
import { PartnerScopeEnum } from '../modules/api-keys/api-keys.schema.js';
import { ErrorCodeEnum } from './common.js';
import '../live/live.schema.js';

// The enums whose values the modules declare.
ErrorCodeEnum.define(
  Object.fromEntries(
    [COMMON_ERROR_CODES, ...MODULES.map((m) => m.errorCodes ?? {})].flatMap((codes) => Object.entries(codes)).map(([code, description]) => [code, { description }]),
  ),
);
PartnerScopeEnum.define(Object.fromEntries(MODULES.flatMap((m) => Object.entries(m.partnerScopes ?? {}))) as never);

export const schema: GraphQLSchema = resolveConnectionCursors(resolveNodeIdsSynchronously(guardMutationsAgainstCardNumbers(builder.toSchema())));

/** The SDL committed as schema/schema.graphql, sorted so diffs stay readable. */
export function printSchemaSdl(): string {
  return `${printSchema(lexicographicSortSchema(schema))}\n`;
}
