/**
 * The one error a payment gateway throws: a request refused before anything is charged. Kept apart
 * from the interface so gateways import it without a cycle.
 */
export type PaymentRequestErrorCode = 'INVALID_IDEMPOTENCY_KEY' | 'INVALID_AMOUNT' | 'INVALID_CURRENCY' | 'INVALID_REFERENCE' | 'INVALID_CARD' | 'IDEMPOTENCY_MISMATCH';

/**
 * A request the gateway refuses before acting: a bug of the caller, not the buyer's doing. A key
 * reused with another amount, currency or card is one (IDEMPOTENCY_MISMATCH): answering the first
 * outcome would misreport what was charged, and declining could hide an approved charge.
 */
export class PaymentRequestError extends Error {
  constructor(
    readonly code: PaymentRequestErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'PaymentRequestError';
  }
}
