/**
 * Declares the payments module: the `PaymentGateway` interface that charges and refunds hashtag
 * purchases, and the built-in `sandbox` gateway with its own tables (`sandbox_charges`,
 * `sandbox_refunds`). It has no GraphQL fields: orders call the gateway and show its outcome.
 */
import { defineModule } from '../module.js';

export const paymentsModule = defineModule({
  name: 'payments',
});
