/**
 * Types every domain shares: DateTime, Money, the user error convention, page arguments.
 */
import { GraphQLError, Kind } from 'graphql';
import { z } from 'zod';
import { DomainError, type ErrorCode, type UserError } from '../lib/errors.js';
import { formatMoney, type Money } from '../lib/money.js';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../lib/pagination.js';
import { builder, type SchemaTypes } from './builder.js';
import { lateEnum } from './late-enum.js';

const ISO_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|([+-])(\d{2}):(\d{2}))$/;

/**
 * Years an instant may have, as written and in UTC: Postgres has no year 0, and past 9999 an ISO
 * string needs six digits (`+010000-…`) that this scalar does not read back.
 */
const MIN_YEAR = 1;
const MAX_YEAR = 9999;

const inYears = (year: number) => year >= MIN_YEAR && year <= MAX_YEAR;

/**
 * Whether `date` is the instant `fields` (from ISO_DATE_TIME) wrote, field for field: Date rolls
 * impossible dates over (February 30 is March 2, 24:00 the next day) where Postgres refuses them
 * or, worse, stores another day than the one sent.
 */
function writtenAs(date: Date, fields: RegExpExecArray): boolean {
  const [, year, month, day, hour, minute, second = '0', sign, offsetHours = '0', offsetMinutes = '0'] = fields;
  const offset = (sign === '-' ? -1 : 1) * (Number(offsetHours) * 60 + Number(offsetMinutes));
  const local = new Date(date.getTime() + offset * 60_000);
  return (
    inYears(Number(year)) &&
    inYears(date.getUTCFullYear()) &&
    local.getUTCFullYear() === Number(year) &&
    local.getUTCMonth() + 1 === Number(month) &&
    local.getUTCDate() === Number(day) &&
    local.getUTCHours() === Number(hour) &&
    local.getUTCMinutes() === Number(minute) &&
    local.getUTCSeconds() === Number(second)
  );
}

function parseDateTime(value: unknown): Date {
  const fields = typeof value === 'string' ? ISO_DATE_TIME.exec(value) : null;
  if (fields) {
    const date = new Date(value as string);
    if (!Number.isNaN(date.getTime()) && writtenAs(date, fields)) return date;
  }
  throw new GraphQLError('DateTime must be an ISO-8601 date and time with an offset, on a real calendar day of the years 0001 to 9999, e.g. 2026-12-01T09:00:00Z.');
}

const pad2 = (n: number) => (n < 10 ? `0${n}` : `${n}`);

/**
 * `date.toISOString()`, written out in JavaScript for years 1000 to 9999: the builtin cost twice as
 * much, and a feed page serializes fifty or more of them. Any other year (and an invalid date) goes
 * to the builtin.
 */
export function isoString(date: Date): string {
  const year = date.getUTCFullYear();
  if (!(year >= 1000 && year <= 9999)) return date.toISOString();
  const ms = date.getUTCMilliseconds();
  return `${year}-${pad2(date.getUTCMonth() + 1)}-${pad2(date.getUTCDate())}T${pad2(date.getUTCHours())}:${pad2(date.getUTCMinutes())}:${pad2(date.getUTCSeconds())}.${ms < 10 ? '00' : ms < 100 ? '0' : ''}${ms}Z`;
}

builder.scalarType('DateTime', {
  description: 'An instant as an ISO-8601 string with offset, on a real calendar day of the years 0001 to 9999; always returned in UTC, e.g. 2026-12-01T09:00:00.000Z.',
  serialize: (value) => isoString(value instanceof Date ? value : new Date(value as string)),
  parseValue: parseDateTime,
  parseLiteral: (ast) => {
    if (ast.kind !== Kind.STRING) throw new GraphQLError('DateTime must be a string.');
    return parseDateTime(ast.value);
  },
});

export const MoneyRef = builder.objectRef<Money>('Money').implement({
  description: 'An amount of money: integer minor units (cents for USD) and an ISO 4217 currency.',
  fields: (t) => ({
    amount: t.exposeInt('amount', { description: 'Amount in minor units of the currency (1234 = $12.34).' }),
    currency: t.exposeString('currency', { description: 'ISO 4217 currency code.' }),
    formatted: t.string({ description: 'The amount for display, e.g. "$12.34".', resolve: (m) => formatMoney(m) }),
  }),
});

/** Every error code, the common ones and the modules' own; defined in src/schema/index.ts. */
export const ErrorCodeEnum = lateEnum<ErrorCode>('ErrorCode', 'Why a mutation refused its input. The list is closed: clients can switch on it.');

export const UserErrorRef = builder.objectRef<UserError>('UserError').implement({
  description: 'An expected failure of a mutation; nothing was changed.',
  fields: (t) => ({
    field: t.exposeStringList('field', {
      nullable: true,
      description: 'Path of the input field at fault, from the mutation input (e.g. ["mids", "0", "mid"]).',
    }),
    message: t.exposeString('message', { description: 'What went wrong, for people.' }),
    code: t.expose('code', { type: ErrorCodeEnum.ref(), description: 'What went wrong, for programs.' }),
  }),
});

/** Runs a mutation's service call; expected failures become `userErrors`, the rest propagates (masked). */
export async function withUserErrors<T extends object>(run: () => Promise<T>): Promise<Partial<T> & { userErrors: UserError[] }> {
  try {
    return { ...(await run()), userErrors: [] };
  } catch (error) {
    if (error instanceof DomainError) return { userErrors: error.userErrors } as Partial<T> & { userErrors: UserError[] };
    throw error;
  }
}

const firstSchema = z
  .number()
  .int()
  .min(1, `first must be from 1 to ${MAX_PAGE_SIZE}`)
  .max(MAX_PAGE_SIZE, `first must be from 1 to ${MAX_PAGE_SIZE}`);

/** `first` (1..100) and `after`, the page arguments of every list. */
export const pageArgs = builder.args((t) => ({
  first: t.int({
    required: true,
    defaultValue: DEFAULT_PAGE_SIZE,
    description: `How many objects to return, 1 to ${MAX_PAGE_SIZE} (default ${DEFAULT_PAGE_SIZE}).`,
    validate: firstSchema,
  }),
  after: t.string({ required: false, description: 'Cursor after which the page starts (`pageInfo.endCursor`).' }),
}));

/** The field builder of a payload type with shape P. */
export type PayloadFieldBuilder<P> = PothosSchemaTypes.ObjectFieldBuilder<PothosSchemaTypes.ExtendDefaultTypes<SchemaTypes>, P>;

/** The `userErrors` field of every mutation payload. */
export const userErrorsField = <P extends { userErrors: UserError[] }>(t: PayloadFieldBuilder<P>) =>
  t.field({
    type: [UserErrorRef],
    description: 'Why the mutation changed nothing; empty when it succeeded.',
    resolve: (payload) => payload.userErrors,
  });

/** The optional `idempotencyKey` of every mutation with a side effect (DESIGN §3; checked in src/lib/idempotency.ts). */
export function idempotencyKeyField(t: PothosSchemaTypes.InputFieldBuilder<PothosSchemaTypes.ExtendDefaultTypes<SchemaTypes>, 'InputObject'>) {
  return t.string({
    required: false,
    description:
      'Makes the call safe to retry: 1 to 200 characters of your choosing (e.g. a UUID). A replay with the same key and input returns the first answer and changes nothing, even if that answer was lost; the same key with another input is refused with IDEMPOTENCY_KEY_REUSED. Keys belong to the caller (a partner shares them across its API keys) and are never forgotten.',
  });
}
