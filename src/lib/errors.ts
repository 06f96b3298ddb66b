/**
 * Expected failures: services throw a DomainError carrying one or more user errors, each with a
 * code from one closed enum; the schema layer turns them into a payload's `userErrors`.
 * Messages are written for people and never carry a secret, a card number or SQL.
 */
export const ERROR_CODES = {
  INVALID_INPUT: 'The value is not acceptable (format, combination or a rule of the field).',
  INVALID_LENGTH: 'A text or list is shorter or longer than allowed.',
  OUT_OF_RANGE: 'A number is outside its allowed range.',
  INVALID_CURRENCY: 'Not an ISO 4217 currency code.',
  INVALID_COUNTRY: 'Not an ISO 3166-1 alpha-2 country code.',
  INVALID_TIMEZONE: 'Not an IANA time zone name.',
  INVALID_DATE_RANGE: 'The end of a time window is not after its start.',
  INVALID_ID: 'The id is malformed or names another type.',
  NOT_FOUND: 'Nothing with that id exists that the caller may see.',
  UNAUTHENTICATED: 'The operation needs credentials.',
  FORBIDDEN: "The caller's role may not perform this operation.",
  INVALID_STATE: 'The object is not in a state that allows the operation.',
  FIELD_LOCKED: 'The field cannot change once the offer is published.',
  MID_TAKEN: 'The merchant id is already registered on that card network.',
  MERCHANT_NOT_APPROVED: 'The merchant is not approved.',
  OFFER_HAS_NO_LOCATIONS: 'The offer has no locations to be used at.',
  HASHTAG_TAKEN: 'Another published purchase offer uses the hashtag.',
  POST_HAS_OTHER_OFFER: 'The post already carries another offer.',
  INVALID_EMAIL: 'Not an e-mail address.',
  WEAK_PASSWORD: 'The password is too short.',
  EMAIL_TAKEN: 'An account with this e-mail already exists.',
  INVALID_CREDENTIALS: 'The e-mail or the password is not right.',
  RATE_LIMITED: 'Too many attempts; try again later.',
  INVALID_CARD_NUMBER: 'The card number is malformed or fails its check digit.',
  UNSUPPORTED_CARD_NETWORK: 'The card is not Visa, Mastercard, American Express or Discover.',
  CARD_EXPIRED: 'The card has expired.',
  CARD_ALREADY_LINKED: 'You have already linked this card.',
  CARD_UNAVAILABLE: 'This card cannot be linked.',
  NO_CARD_LINKED: 'Link a card first.',
  COUNTRY_NOT_ELIGIBLE: "The offer is not available in the user's country.",
  IDEMPOTENCY_KEY_REUSED: 'The idempotency key was already used with a different input.',
  CARD_NUMBER_NOT_ALLOWED:
    'The field holds what looks like a card number (a Luhn-valid run of 13 to 19 digits); card numbers are accepted only where a card number is asked for.',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

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
