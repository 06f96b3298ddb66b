/**
 * Input validation for mutations: zod schemas built from these helpers, parsed by `parseInput`,
 * which turns every issue into a typed user error with the path of the field at fault.
 */
import { z } from 'zod';
import { DomainError, type ErrorCode, type UserError } from './errors.js';
import { isCountry, isCurrency, isTimeZone } from './iso.js';
import { MAX_MINOR_UNITS } from './money.js';

const coded = (code: ErrorCode, message: string) => ({ message, params: { code } });

/** Trimmed text of min..max characters. */
export const text = (min: number, max: number) =>
  z
    .string()
    .trim()
    .min(min, min === 1 ? 'must not be empty' : `must be at least ${min} characters`)
    .max(max, `must be at most ${max} characters`);

/** Money in minor units: an integer from `min` (0 by default) to MAX_MINOR_UNITS. */
export const minorUnits = (min = 0) =>
  z
    .number()
    .int('must be a whole number of minor units')
    .min(min, `must be at least ${min} minor units`)
    .max(MAX_MINOR_UNITS, `must be at most ${MAX_MINOR_UNITS} minor units`);

export const intRange = (min: number, max: number) =>
  z.number().int('must be a whole number').min(min, `must be from ${min} to ${max}`).max(max, `must be from ${min} to ${max}`);

export const currencyCode = () =>
  z.string().refine(isCurrency, coded('INVALID_CURRENCY', 'must be an ISO 4217 currency code such as USD'));

export const countryCode = () =>
  z.string().refine(isCountry, coded('INVALID_COUNTRY', 'must be an ISO 3166-1 alpha-2 country code such as US'));

/** An e-mail address, trimmed, at most 254 characters. */
export const emailAddress = () =>
  z
    .string()
    .trim()
    .max(254, 'must be at most 254 characters')
    .refine((v) => /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(v), coded('INVALID_EMAIL', 'must be an e-mail address'));

export const timeZone = () =>
  z.string().refine(isTimeZone, coded('INVALID_TIMEZONE', 'must be an IANA time zone such as America/New_York'));

export const httpUrl = () =>
  z
    .string()
    .max(2048, 'must be at most 2048 characters')
    .refine((v) => {
      try {
        const url = new URL(v);
        return url.protocol === 'https:' || url.protocol === 'http:';
      } catch {
        return false;
      }
    }, 'must be an http(s) URL');

export const dateTime = () => z.date().refine((d) => !Number.isNaN(d.getTime()), 'must be a valid date and time');

function codeOf(issue: z.core.$ZodIssue): ErrorCode {
  if (issue.code === 'custom' && issue.params && typeof issue.params.code === 'string') {
    return issue.params.code as ErrorCode;
  }
  if (issue.code === 'too_small' || issue.code === 'too_big') {
    return issue.origin === 'number' || issue.origin === 'int' || issue.origin === 'date'
      ? 'OUT_OF_RANGE'
      : 'INVALID_LENGTH';
  }
  if (issue.code === 'invalid_type' && issue.expected === 'int') return 'OUT_OF_RANGE';
  return 'INVALID_INPUT';
}

/** How a message names a field: its own name, a list item by its list and index (`countries[1]`). */
function nameOf(field: readonly string[]): string {
  let at = field.length - 1;
  while (at > 0 && /^\d+$/.test(field[at]!)) at--;
  return at < 0 ? 'input' : field[at]! + field.slice(at + 1).map((index) => `[${index}]`).join('');
}

/** zod's own words for a null where a value or nothing belongs ("Invalid input: expected string, received null"), said plainly. */
const messageOf = (issue: z.core.$ZodIssue) =>
  issue.code === 'invalid_type' && /received null$/.test(issue.message) ? 'cannot be null; leave it out instead' : issue.message;

export function toUserErrors(error: z.ZodError): UserError[] {
  return error.issues.map((issue) => {
    const field = issue.path.map(String);
    return { field: field.length > 0 ? field : null, code: codeOf(issue), message: `${nameOf(field)} ${messageOf(issue)}` };
  });
}

/** Parses a mutation input; every problem at once becomes a DomainError of user errors. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input);
  if (!result.success) throw new DomainError(toUserErrors(result.error));
  return result.data;
}
