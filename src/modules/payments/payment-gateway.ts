/**
 * The payment gateway: how hashback charges a linked card (authorize and capture in one call) and
 * refunds a charge. Every call carries an idempotency key; a call repeated with the same key and
 * request answers the first call's outcome and never moves money twice, which is how an UNKNOWN
 * outcome (a timeout, a process killed after sending) is resolved: call again with the same key.
 *
 * Outcomes and errors never carry a card number: the gateway opens it through
 * `CardForCharge.revealNumber` inside the call and keeps nothing but the last 4 digits.
 */

/** A linked card as the gateway sees it (the cards module's `cardForCharge` builds one). */
export interface CardForCharge {
  /** The card's database id. */
  cardId: string;
  last4: string;
  /** VISA, MASTERCARD, AMEX or DISCOVER. */
  network: string;
  /**
   * Opens the card number (digits). Call it only inside the gateway call, never keep, log or
   * return the result. It does not touch the database, so it may run inside a transaction.
   */
  revealNumber(): Promise<string> | string;
}

/** Why a charge was declined. The sandbox answers the first three; real gateways may add more. */
export type ChargeDeclineCode = 'GENERIC' | 'INSUFFICIENT_FUNDS' | 'CARD_DECLINED' | 'EXPIRED_CARD' | 'FRAUD_SUSPECTED';

/** Why a refund was declined. */
export type RefundDeclineCode = 'UNKNOWN_CHARGE' | 'EXCEEDS_CHARGED_AMOUNT' | 'CURRENCY_MISMATCH';

export type ChargeOutcome =
  /** Charged (authorized and captured); `reference` names the charge for refunds. */
  | { status: 'APPROVED'; reference: string }
  /** Not charged, for good: retrying with this card will not help. */
  | { status: 'DECLINED'; code: ChargeDeclineCode; message: string }
  /** Not charged; safe to retry with the same idempotency key (e.g. the issuer was unavailable). */
  | { status: 'RETRYABLE'; message: string }
  /** Maybe charged (timed out after sending): retry with the same key to learn the outcome. */
  | { status: 'UNKNOWN'; message: string };

export type RefundOutcome =
  | { status: 'APPROVED'; reference: string }
  | { status: 'DECLINED'; code: RefundDeclineCode; message: string }
  | { status: 'RETRYABLE'; message: string }
  | { status: 'UNKNOWN'; message: string };

export interface ChargeRequest {
  /** One per purchase (e.g. the intent id): every retry of that purchase reuses it. 1 to 255 characters. */
  idempotencyKey: string;
  card: CardForCharge;
  /** Minor units, a positive integer. */
  amount: number;
  /** ISO 4217 code, e.g. USD. */
  currency: string;
  /** What the buyer's statement shows (merchant and item); the sandbox keeps none. */
  description: string;
}

export interface RefundRequest {
  /** One per refund: every retry of that refund reuses it. 1 to 255 characters. */
  idempotencyKey: string;
  /** The `reference` of an APPROVED charge. */
  chargeReference: string;
  /** Minor units, a positive integer; the refunds of one charge add up to at most its amount. */
  amount: number;
  currency: string;
}

export interface PaymentGateway {
  readonly name: string;
  /**
   * Authorizes and captures `amount` on the card. Call it outside any database transaction: the
   * gateway commits its own record, as a remote one would, whatever happens to the caller's work.
   * It resolves with an outcome, and rejects only with a `PaymentRequestError` (a malformed request,
   * or a key reused with another request), before anything is charged.
   */
  charge(request: ChargeRequest): Promise<ChargeOutcome>;
  /** Refunds (part of) an approved charge; the same rules as `charge`. */
  refund(request: RefundRequest): Promise<RefundOutcome>;
}

export { PaymentRequestError, type PaymentRequestErrorCode } from './payment-errors.js';
