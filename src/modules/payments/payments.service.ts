/**
 * Payments as other modules use them: the gateway `PAYMENT_GATEWAY` names (only the built-in
 * sandbox today). The interface is in payment-gateway.ts, each gateway in its own file.
 */
import type { Kysely } from 'kysely';
import type { DB } from '../../../db/types.js';
import type { Config } from '../../config.js';
import type { PaymentGateway } from './payment-gateway.js';
import { createSandboxGateway } from './sandbox-gateway.js';

/** Gateways by the name `PAYMENT_GATEWAY` gives. */
export function createPaymentGateway(name: Config['paymentGateway'], deps: { db: Kysely<DB> }): PaymentGateway {
  switch (name) {
    case 'sandbox':
      return createSandboxGateway(deps.db);
  }
}

export type { CardForCharge, ChargeOutcome, PaymentGateway, RefundOutcome } from './payment-gateway.js';
export { PaymentRequestError } from './payment-gateway.js';
