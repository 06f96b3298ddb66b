/**
 * Statement credits for card partners: the list to issue, and settlement.
 */
import type { UserError } from '../../lib/errors.js';
import { builder } from '../../schema/builder.js';
import { MoneyRef, pageArgs, userErrorsField, withUserErrors, type PayloadFieldBuilder } from '../../schema/common.js';
import { StatementCreditRef } from './credits.refs.js';
import { CardNetworkRef } from '../locations/locations.schema.js';
import type { CreditWithCard } from './credits.repository.js';
import { listStatementCredits, MAX_SETTLEMENTS, settleStatementCredits } from './credits.service.js';

const StatementCreditStatusRef = builder.enumType('StatementCreditStatus', {
  description: 'Where a statement credit is: PENDING → ISSUED, or FAILED (settle it again), or CANCELLED.',
  values: {
    PENDING: { description: 'To be issued onto the card by the card partner.' },
    ISSUED: { description: 'Issued: the cashback is CREDITED.' },
    FAILED: { description: 'The partner could not issue it; it can be settled again.' },
    CANCELLED: { description: 'The purchase was refunded in full before the credit was issued.' },
  },
});

const SettlementStatusRef = builder.enumType('SettlementStatus', {
  description: 'How a card partner settles a statement credit.',
  values: {
    ISSUED: { description: 'The credit is on the card.' },
    FAILED: { description: 'The credit could not be issued; it stays owed and can be settled again.' },
  },
});

StatementCreditRef.implement({
  description: 'Cashback to pay onto a card. Visible to partners with the credits:write scope and to admins; no user data.',
  fields: (t) => ({
    status: t.expose('status', { type: StatementCreditStatusRef, description: 'Where the credit is.' }),
    amount: t.field({ type: MoneyRef, description: 'Amount to credit.', resolve: (c) => ({ amount: c.amount, currency: c.currency }) }),
    cardNetwork: t.field({ type: CardNetworkRef, description: 'Network of the card.', resolve: (c) => c.network as never }),
    cardLast4: t.exposeString('last4', { description: 'Last four digits of the card.' }),
    transactionExternalId: t.exposeString('transaction_external_id', { description: 'externalId of the purchase (AUTH or CLEARING) that earned it.' }),
    reference: t.exposeString('reference', { nullable: true, description: "The partner's reference given at settlement." }),
    attempts: t.exposeInt('attempts', { description: 'How many times it was settled (FAILED ones count).' }),
    createdAt: t.expose('created_at', { type: 'DateTime', description: 'When it became due.' }),
    settledAt: t.expose('settled_at', { type: 'DateTime', nullable: true, description: 'When it was last settled.' }),
  }),
});

const StatementCreditConnectionRef = builder.connectionObject(
  { type: StatementCreditRef, name: 'StatementCreditConnection', description: 'A page of statement credits.' },
  { description: 'A statement credit in a page.' },
);

builder.queryField('statementCredits', (t) =>
  t.field({
    type: StatementCreditConnectionRef,
    description: 'Statement credits, oldest first (partners with the credits:write scope, admins).',
    args: {
      ...pageArgs,
      status: t.arg({ type: StatementCreditStatusRef, required: false, description: 'Only credits in this status.' }),
    },
    resolve: (_root, args, ctx) => listStatementCredits(ctx, args),
  }),
);

const SettlementInputRef = builder.inputType('StatementCreditSettlementInput', {
  description: 'How one credit was settled.',
  fields: (t) => ({
    id: t.id({ required: true, description: 'Global id of the statement credit.' }),
    status: t.field({ type: SettlementStatusRef, required: true, description: 'ISSUED or FAILED.' }),
    reference: t.string({ required: false, description: "The partner's reference, up to 128 characters." }),
  }),
});

builder.relayMutationField(
  'settleStatementCredits',
  {
    description: 'Input of settleStatementCredits.',
    inputFields: (t) => ({
      credits: t.field({ type: [SettlementInputRef], required: true, description: `1 to ${MAX_SETTLEMENTS} settlements.` }),
      idempotencyKey: t.string({ required: false, description: 'Replaying with the same key and input returns the first answer.' }),
    }),
  },
  {
    description: 'Settles statement credits (partners with the credits:write scope). All or nothing: one bad item changes nothing. Settling ISSUED twice is harmless.',
    resolve: (_root, { input }, ctx) => withUserErrors(() => settleStatementCredits(ctx, input)),
  },
  {
    description: 'Result of settleStatementCredits.',
    outputFields: (t: PayloadFieldBuilder<{ credits?: CreditWithCard[]; userErrors: UserError[] }>) => ({
      credits: t.field({ type: [StatementCreditRef], nullable: true, description: 'The credits, in the order given.', resolve: (p) => p.credits ?? null }),
      userErrors: userErrorsField(t),
    }),
  },
);
