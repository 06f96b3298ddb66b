/**
 * Builds the schema: imports every domain's types, then lets Pothos assemble them.
 */
import { lexicographicSortSchema, printSchema, type GraphQLSchema } from 'graphql';
import { builder } from './builder.js';
import { guardMutationsAgainstCardNumbers } from './card-number-guard.js';
import './common.js';
import '../modules/api-keys/api-keys.schema.js';
import '../modules/merchants/merchants.schema.js';
import '../modules/locations/locations.schema.js';
import '../modules/offers/offers.schema.js';
import '../modules/posts/posts.schema.js';
import '../modules/users/users.schema.js';
import '../modules/cards/cards.schema.js';
import '../modules/activations/activations.schema.js';
import '../modules/transactions/transactions.schema.js';
import '../modules/cashback/cashback.schema.js';
import '../modules/credits/credits.schema.js';
import '../modules/emails/emails.schema.js';
import '../events/events.schema.js';

export const schema: GraphQLSchema = guardMutationsAgainstCardNumbers(builder.toSchema());

/** The SDL committed as schema/schema.graphql, sorted so diffs stay readable. */
export function printSchemaSdl(): string {
  return `${printSchema(lexicographicSortSchema(schema))}\n`;
}
