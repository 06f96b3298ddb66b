/**
 * Transaction ingest for card partners, and the Transaction node they (and the user) read back.
 */
import type { UserError } from '../../lib/errors.js';
import { builder } from '../../schema/builder.js';
import { CARD_NUMBER_ALLOWED } from '../../schema/card-number-guard.js';
import { MoneyRef, UserErrorRef, userErrorsField, withUserErrors, type PayloadFieldBuilder } from '../../schema/common.js';
import { CashbackRef } from '../cashback/cashback.refs.js';
import { LocationRef } from '../locations/locations.refs.js';
import { TransactionRef } from './transactions.refs.js';
import { TRANSACTION_REASONS } from '../cashback/cashback.rules.js';
import { CardNetworkRef } from '../locations/locations.schema.js';
import type { IngestResult } from './ingest.js';
import { ingestTransactions, MAX_BATCH_SIZE } from './transactions.service.js';

const TransactionTypeRef = builder.enumType('TransactionType', {
  description: 'What a card event is.',
  values: {
    AUTH: { description: 'An authorisation: the purchase is approved, not yet settled. Qualifying cashback is PENDING.' },
    CLEARING: { description: 'The settlement of a purchase (of its auth, or standalone). Cashback becomes CONFIRMED.' },
    REFUND: { description: 'Money given back for an earlier purchase: its cashback shrinks in proportion.' },
  },
});

export const TransactionReasonRef = builder.enumType('TransactionReason', {
  description: 'Why a transaction earned no cashback.',
  values: Object.fromEntries(Object.entries(TRANSACTION_REASONS).map(([k, description]) => [k, { description }])) as Record<
    keyof typeof TRANSACTION_REASONS,
    { description: string }
  >,
});

const TransactionOutcomeRef = builder.enumType('TransactionOutcome', {
  description: 'What a stored transaction did.',
  values: {
    QUALIFIED: { description: 'It created or moved cashback.' },
    NOT_QUALIFIED: { description: 'It earned nothing; `reason` says why.' },
  },
});

const IngestOutcomeRef = builder.enumType('IngestOutcome', {
  description: 'What ingest did with one item.',
  values: {
    QUALIFIED: { description: 'Stored; it created or moved cashback.' },
    NOT_QUALIFIED: { description: 'Stored; it earned nothing (see `reason`).' },
    DUPLICATE: { description: 'This partner sent this externalId before: nothing changed; the first result is returned.' },
    REJECTED: { description: 'Malformed: not stored (see `errors`). The other items are unaffected.' },
  },
});

TransactionRef.implement({
  description: "A card event posted by a partner. Visible to that partner, to the card's user and to admins.",
  fields: (t) => ({
    externalId: t.exposeString('external_id', { description: "The partner's id of the event." }),
    type: t.expose('type', { type: TransactionTypeRef, description: 'Auth, clearing or refund.' }),
    network: t.expose('network', { type: CardNetworkRef, description: 'Card network of the merchant id.' }),
    mid: t.exposeString('mid', { description: 'Network merchant id where the card was used.' }),
    amount: t.field({ type: MoneyRef, description: 'Amount of the event.', resolve: (tx) => ({ amount: tx.amount, currency: tx.currency }) }),
    occurredAt: t.expose('occurred_at', { type: 'DateTime', description: 'When it happened at the merchant.' }),
    outcome: t.expose('outcome', { type: TransactionOutcomeRef, description: 'Whether it created or moved cashback.' }),
    reason: t.field({
      type: TransactionReasonRef,
      nullable: true,
      description: 'Why it earned nothing; null when it qualified.',
      resolve: (tx) => tx.reason as keyof typeof TRANSACTION_REASONS | null,
    }),
    location: t.field({ type: LocationRef, nullable: true, description: 'The location its merchant id matched.', resolve: (tx) => tx.location_id }),
    cashback: t.field({ type: CashbackRef, nullable: true, description: 'The cashback it created or moved.', resolve: (tx) => tx.cashback_id }),
    authExternalId: t.exposeString('auth_external_id', { nullable: true, description: "A clearing's auth, as sent." }),
    originalExternalId: t.exposeString('original_external_id', { nullable: true, description: "A refund's purchase, as sent." }),
    receivedAt: t.expose('created_at', { type: 'DateTime', description: 'When hashback stored it.' }),
  }),
});

const TransactionResultRef = builder.objectRef<IngestResult>('TransactionResult').implement({
  description: 'The result of one ingested item, in the order sent.',
  fields: (t) => ({
    externalId: t.exposeString('externalId', { description: 'The item\'s externalId.' }),
    outcome: t.expose('outcome', { type: IngestOutcomeRef, description: 'What happened to the item.' }),
    reason: t.field({
      type: TransactionReasonRef,
      nullable: true,
      description: 'Why the transaction earned nothing (also for a DUPLICATE of one that earned nothing).',
      resolve: (r) => r.reason,
    }),
    errors: t.field({ type: [UserErrorRef], description: 'Why a REJECTED item is malformed; empty otherwise.', resolve: (r) => r.errors }),
    transaction: t.field({ type: TransactionRef, nullable: true, description: 'The stored transaction (null when REJECTED).', resolve: (r) => r.transactionId }),
    cashback: t.field({ type: CashbackRef, nullable: true, description: 'The cashback it created or moved, if any.', resolve: (r) => r.cashbackId }),
  }),
});

const TransactionInputRef = builder.inputType('TransactionInput', {
  description: 'One card event. Give the card as cardNumber (matched by keyed fingerprint; never stored or logged) or cardId.',
  fields: (t) => ({
    externalId: t.string({ required: true, description: "The partner's unique id of the event, 1 to 128 characters. Sending it again is a DUPLICATE." }),
    type: t.field({ type: TransactionTypeRef, required: true, description: 'Auth, clearing or refund.' }),
    cardNumber: t.string({
      required: false,
      description: 'Full card number (PAN). Used only to find the linked card.',
      extensions: CARD_NUMBER_ALLOWED,
    }),
    cardId: t.id({ required: false, description: 'Global id of the linked card, instead of the number.' }),
    network: t.field({ type: CardNetworkRef, required: true, description: 'Card network of the merchant id.' }),
    mid: t.string({ required: true, description: 'Network merchant id, 1 to 32 characters.' }),
    amount: t.int({ required: true, description: 'Amount in minor units, > 0.' }),
    currency: t.string({ required: true, description: 'ISO 4217 currency code.' }),
    occurredAt: t.field({ type: 'DateTime', required: true, description: 'When it happened at the merchant.' }),
    authExternalId: t.string({ required: false, description: 'CLEARING only: the externalId of its AUTH.' }),
    originalExternalId: t.string({ required: false, description: 'REFUND only (required): the externalId of the refunded AUTH or CLEARING.' }),
  }),
});

builder.relayMutationField(
  'ingestTransactions',
  {
    description: 'Input of ingestTransactions.',
    inputFields: (t) => ({
      transactions: t.field({ type: [TransactionInputRef], required: true, description: `1 to ${MAX_BATCH_SIZE} card events.` }),
      idempotencyKey: t.string({
        required: false,
        description: 'Replaying the call with the same key and input returns the first answer; another input with the key is refused.',
      }),
    }),
  },
  {
    description: `Posts card events (partners with the transactions:write scope). One result per item, in order. An item already sent by this partner is a DUPLICATE and changes nothing.`,
    resolve: (_root, { input }, ctx) => withUserErrors(() => ingestTransactions(ctx, input)),
  },
  {
    description: 'Result of ingestTransactions.',
    outputFields: (t: PayloadFieldBuilder<{ results?: IngestResult[]; userErrors: UserError[] }>) => ({
      results: t.field({
        type: [TransactionResultRef],
        nullable: true,
        description: 'One result per item, in the order sent; null when the whole call was refused.',
        resolve: (p) => p.results ?? null,
      }),
      userErrors: userErrorsField(t),
    }),
  },
);
