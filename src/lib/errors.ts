/**
 * Expected failures: services throw a DomainError carrying one or more user errors, each with a
 * code from one closed enum; the schema layer turns them into a payload's `userErrors`.
 * Messages are written for people and never carry a secret, a card number or SQL.
 */
/** Codes any module may use: validation, lookup, authorization, state, limits and the edge's guards. */
export const COMMON_ERROR_CODES = {
  INVALID_INPUT: 'The value is not acceptable (format, combination or a rule of the field).',
  INVALID_LENGTH: 'A text or list is shorter or longer than allowed.',
  OUT_OF_RANGE: 'A number is outside its allowed range.',
  INVALID_CURRENCY: 'Not an ISO 4217 currency code.',
  INVALID_COUNTRY: 'Not an ISO 3166-1 alpha-2 country code.',
  INVALID_EMAIL: 'Not an e-mail address.',
  INVALID_TIMEZONE: 'Not an IANA time zone name.',
  INVALID_DATE_RANGE: 'The end of a time window is not after its start.',
  INVALID_ID: 'The id is malformed or names another type.',
  NOT_FOUND: 'Nothing with that id exists that the caller may see.',
  UNAUTHENTICATED: 'The operation needs credentials.',
  FORBIDDEN: "The caller's role may not perform this operation.",
  INVALID_STATE: 'The object is not in a state that allows the operation.',
  RATE_LIMITED: 'Too many attempts; try again later.',
  IDEMPOTENCY_KEY_REUSED: 'The idempotency key was already used with a different input.',
  CARD_NUMBER_NOT_ALLOWED:
    'The field holds what looks like a card number (a Luhn-valid run of 13 to 19 digits); card numbers are accepted only where a card number is asked for.',
} as const;

/**
 * Every error code: the common ones, plus those each module declares in its `<domain>.module.ts`
 * and adds here by declaration merging (`declare module '…/lib/errors.js' { interface
 * ErrorCodeRegistry extends Record<…, true> {} }`). The `ErrorCode` enum of the schema lists them all.
 */
export interface ErrorCodeRegistry extends Record<keyof typeof COMMON_ERROR_CODES, true> {}

export type ErrorCode = keyof ErrorCodeRegistry;

export interface UserError {
  /** Path of the input field at fault, from the mutation's `input`; null when not one field. */
  field: string[] | null;
  message: string;
  code: ErrorCode;
}

export class DomainError extends Error {
  readonly userErrors: UserError[];

  constructor(userErrors: UserError | UserError[]) {
    const list = Array.isArray(userErrors) ? userErrors : [userErrors];
    super(list.map((e) => e.message).join('; '));
    this.name = 'DomainError';
    this.userErrors = list;
  }
}

export function fail(code: ErrorCode, message: string, field: string[] | null = null): never {
  throw new DomainError({ code, message, field });
}

export function notFound(what: string, field: string[] | null = null): never {
  return fail('NOT_FOUND', `${what} not found.`, field);
}
