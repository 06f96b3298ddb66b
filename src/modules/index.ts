/**
 * The app's modules, in the order their jobs run. Adding a domain is its folder and one line here.
 */
import { apiKeysModule } from './api-keys/api-keys.module.js';
import { partnersModule } from './partners/partners.module.js';
import { merchantsModule } from './merchants/merchants.module.js';
import { locationsModule } from './locations/locations.module.js';
import { offersModule } from './offers/offers.module.js';
import { postsModule } from './posts/posts.module.js';
import { usersModule } from './users/users.module.js';
import { cardsModule } from './cards/cards.module.js';
import { activationsModule } from './activations/activations.module.js';
import { transactionsModule } from './transactions/transactions.module.js';
import { cashbackModule } from './cashback/cashback.module.js';
import { creditsModule } from './credits/credits.module.js';
import { emailsModule } from './emails/emails.module.js';
import { webhooksModule } from './webhooks/webhooks.module.js';
import { paymentsModule } from './payments/payments.module.js';
import { ordersModule } from './orders/orders.module.js';
import { repliesModule } from './replies/replies.module.js';
import { socialModule } from './social/social.module.js';
import type { PartnerScope } from '../context.js';
import type { AppModule } from './module.js';

export const MODULES: readonly AppModule[] = [
  apiKeysModule,
  partnersModule,
  merchantsModule,
  locationsModule,
  offersModule,
  postsModule,
  usersModule,
  cardsModule,
  activationsModule,
  transactionsModule,
  cashbackModule,
  creditsModule,
  emailsModule,
  webhooksModule,
  paymentsModule,
  ordersModule,
  repliesModule,
  socialModule,
];

/** Every partner scope the modules declare (stored values, e.g. `transactions:write`). */
export const PARTNER_SCOPES: readonly PartnerScope[] = MODULES.flatMap((m) => Object.values(m.partnerScopes ?? {}).map((s) => s.value as PartnerScope));
