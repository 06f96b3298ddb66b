/**
 * Card numbers never leave the card store: every mutation's arguments are checked before its
 * resolver runs, and a text holding a card number (see `cardNumberSpans`) in any input field
 * refuses the whole mutation with a `CARD_NUMBER_NOT_ALLOWED` user error naming the field.
 * Applied once to the built schema, so a new mutation and a new input field are covered without
 * anyone remembering to; the fields where a card number belongs (the card number itself, and
 * passwords, which are only hashed) say so where they are defined with `CARD_NUMBER_ALLOWED`.
 */
import {
  defaultFieldResolver,
  getNamedType,
  getNullableType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLSchema,
} from 'graphql';
import type { UserError } from '../lib/errors.js';
import { containsCardNumber } from '../modules/cards/card-number.js';

/** Extensions of an input field that may hold a card number: `t.string({ …, extensions: CARD_NUMBER_ALLOWED })`. */
export const CARD_NUMBER_ALLOWED = { cardNumberAllowed: true } as const;

/** The argument whose fields user error paths start from (`["mids", "0", "mid"]`, not `["input", …]`). */
const INPUT_ARG = 'input';

/** Path of the first text in `value` (of GraphQL input type `type`) that holds a card number, or null. */
function cardNumberPath(type: GraphQLInputType, value: unknown, path: string[]): string[] | null {
  if (value === null || value === undefined) return null;
  const nullable = getNullableType(type);
  if (isListType(nullable)) {
    // A single value given for a list is coerced to a list of one; be safe with either.
    const items = Array.isArray(value) ? value : [value];
    for (let i = 0; i < items.length; i++) {
      const found = cardNumberPath(nullable.ofType, items[i], [...path, String(i)]);
      if (found) return found;
    }
    return null;
  }
  if (isInputObjectType(nullable)) {
    const fields = value as Record<string, unknown>;
    for (const field of Object.values(nullable.getFields())) {
      if (field.extensions.cardNumberAllowed === true) continue;
      const found = cardNumberPath(field.type, fields[field.name], [...path, field.name]);
      if (found) return found;
    }
    return null;
  }
  // String, ID and any custom scalar whose coerced value is text; enums and numbers hold no text.
  return isScalarType(nullable) && typeof value === 'string' && containsCardNumber(value) ? path : null;
}

/** The user error for the first argument text holding a card number, or null when there is none. */
export function cardNumberInArguments(args: readonly GraphQLArgument[], values: Record<string, unknown>): UserError | null {
  for (const arg of args) {
    if (arg.extensions.cardNumberAllowed === true) continue;
    const path = cardNumberPath(arg.type, values[arg.name], arg.name === INPUT_ARG ? [] : [arg.name]);
    if (!path) continue;
    const name = path.length > 0 ? path.join('.') : arg.name;
    return {
      code: 'CARD_NUMBER_NOT_ALLOWED',
      field: path.length > 0 ? path : [arg.name],
      message: `${name} looks like it holds a card number; card numbers are accepted only where a card number is asked for.`,
    };
  }
  return null;
}

/**
 * Why a mutation field cannot answer a refusal as `{ userErrors }`, or null when it can: the
 * payload must be an object type with a `userErrors` list and every other field nullable.
 */
function payloadProblem(field: GraphQLField<unknown, unknown>): string | null {
  const payload = getNullableType(field.type);
  if (!isObjectType(payload)) return 'does not answer an object payload';
  const fields = payload.getFields();
  const userErrors = fields.userErrors;
  if (!userErrors || getNamedType(userErrors.type).name !== 'UserError') return 'has no userErrors field';
  const required = Object.values(fields).filter((f) => f.name !== 'userErrors' && isNonNullType(f.type));
  if (required.length > 0) return `has non-null fields (${required.map((f) => f.name).join(', ')})`;
  return null;
}

/**
 * Wraps every Mutation field resolver of `schema` with the card number check. Throws when a
 * mutation's payload could not carry the refusal, so a mutation that breaks the payload
 * convention fails the build instead of slipping past the guard.
 */
export function guardMutationsAgainstCardNumbers(schema: GraphQLSchema): GraphQLSchema {
  const mutation = schema.getMutationType();
  if (!mutation) return schema;
  for (const field of Object.values(mutation.getFields())) {
    const problem = payloadProblem(field);
    if (problem) throw new Error(`Mutation.${field.name} ${problem}: it cannot refuse a card number with a user error.`);
    const resolve = field.resolve ?? defaultFieldResolver;
    field.resolve = (source, args, context, info) => {
      const refused = cardNumberInArguments(field.args, args);
      return refused ? { userErrors: [refused] } : resolve(source, args, context, info);
    };
  }
  return schema;
}
