/**
 * Merchant types, queries and the admin mutations that manage merchants.
 */
import type { MerchantRow } from '../../../db/types.js';
import { idOfType } from '../../lib/ids.js';
import { builder } from '../../schema/builder.js';
import { columnsOf, type Selection } from '../../schema/selection.js';
import { idempotencyKeyField, pageArgs, userErrorsField, withUserErrors } from '../../schema/common.js';
import { LocationRef } from '../locations/locations.refs.js';
import { MerchantRef } from './merchants.refs.js';
import { OfferRef } from '../offers/offers.refs.js';
import { loadLocationsOfMerchants } from '../locations/locations.service.js';
import { listOffersOfMerchant } from '../offers/offers.service.js';
import { approveMerchant, createMerchant, listMerchants, suspendMerchant } from './merchants.service.js';

export const MerchantStatusRef = builder.enumType('MerchantStatus', {
  description: 'Where a merchant is in review. Only APPROVED merchants and their offers are public.',
  values: {
    PENDING: { description: 'Created, awaiting review; invisible to the public.' },
    APPROVED: { description: 'Reviewed; its published offers are public.' },
    SUSPENDED: { description: 'Taken off the platform; its offers are hidden.' },
  },
});

export const OfferConnectionRef = builder.connectionObject(
  { type: OfferRef, name: 'OfferConnection', description: 'A page of offers.' },
  { description: 'An offer in a page.' },
);

const MerchantConnectionRef = builder.connectionObject(
  { type: MerchantRef, name: 'MerchantConnection', description: 'A page of merchants.' },
  { description: 'A merchant in a page.' },
);

MerchantRef.implement({
  description: 'A brand that publishes offers.',
  fields: (t) => ({
    name: t.exposeString('name', { description: 'Display name.' }),
    country: t.exposeString('country', { description: 'ISO 3166-1 alpha-2 country of the merchant.' }),
    category: t.exposeString('category', { description: 'Business category, e.g. "Coffee".' }),
    socialHandle: t.exposeString('social_handle', { nullable: true, description: 'Social handle, e.g. "@bluebottle".' }),
    contactEmail: t.string({
      nullable: true,
      description: 'Where the platform writes to the merchant (e.g. about a webhook endpoint it disabled). Only admins and the merchant itself see it; null for everyone else.',
      resolve: (m, _args, ctx) =>
        ctx.principal.kind === 'admin' || (ctx.principal.kind === 'merchant' && ctx.principal.merchantId === m.id) ? m.contact_email : null,
    }),
    status: t.expose('status', { type: MerchantStatusRef, description: 'Review status.' }),
    createdAt: t.expose('created_at', { type: 'DateTime', description: 'When the merchant was created.' }),
    locations: t.loadableList({
      type: LocationRef,
      description: 'Where the merchant takes cards.',
      load: (ids: string[], ctx) => loadLocationsOfMerchants(ctx, ids),
      resolve: (merchant) => merchant.id,
    }),
    offers: t.field({
      type: OfferConnectionRef,
      description: 'Offers of the merchant the caller may see, newest first (its own key also sees drafts).',
      args: { ...pageArgs },
      resolve: (merchant, args, ctx) => listOffersOfMerchant(ctx, merchant.id, args),
    }),
  }),
});

/**
 * The columns each field of Merchant reads, for a list that reads an offer's merchant with it; a
 * field not listed here makes it read every column (see `columnsOf`).
 */
const MERCHANT_FIELD_COLUMNS: Readonly<Record<string, readonly (keyof MerchantRow)[]>> = {
  id: ['id'],
  name: ['name'],
  country: ['country'],
  category: ['category'],
  socialHandle: ['social_handle'],
  contactEmail: ['id', 'contact_email'],
  status: ['status'],
  createdAt: ['created_at'],
  locations: ['id'],
  offers: ['id'],
};

/** The merchant columns a selection of Merchant fields reads; null when it needs them all. */
export const merchantColumnsOf = (selection: Selection) => columnsOf(selection, MERCHANT_FIELD_COLUMNS, ['id']);

builder.queryFields((t) => ({
  merchants: t.field({
    type: MerchantConnectionRef,
    description: 'Approved merchants by name (admins see every merchant).',
    args: { ...pageArgs },
    resolve: (_root, args, ctx) => listMerchants(ctx, args),
  }),
  merchant: t.field({
    type: MerchantRef,
    nullable: true,
    description: 'A merchant by global id; null when not found or not visible.',
    args: { id: t.arg.id({ required: true, description: 'Global id of the merchant.' }) },
    resolve: (_root, { id }) => idOfType(id, 'Merchant'),
  }),
  merchantViewer: t.field({
    type: MerchantRef,
    nullable: true,
    description: 'The merchant of the calling merchant API key, with its drafts and locations; null for other callers.',
    authScopes: { merchant: true },
    unauthorizedResolver: () => null,
    resolve: (_root, _args, ctx) => (ctx.principal.kind === 'merchant' ? ctx.principal.merchantId : null),
  }),
}));

builder.relayMutationField(
  'createMerchant',
  {
    description: 'A new merchant, PENDING until approved.',
    inputFields: (t) => ({
      name: t.string({ required: true, description: 'Display name, 1 to 120 characters.' }),
      country: t.string({ required: true, description: 'ISO 3166-1 alpha-2 country code.' }),
      category: t.string({ required: true, description: 'Business category, 1 to 60 characters.' }),
      socialHandle: t.string({ required: false, description: 'Social handle, with or without "@".' }),
      contactEmail: t.string({ required: false, description: 'Where the platform writes to the merchant, e.g. when it disables one of its webhook endpoints.' }),
      idempotencyKey: idempotencyKeyField(t),
    }),
  },
  {
    description: 'Creates a merchant (admin).',
    resolve: (_root, { input }, ctx) => withUserErrors(() => createMerchant(ctx, input)),
  },
  {
    description: 'Result of createMerchant.',
    outputFields: (t) => ({
      merchant: t.expose('merchant', { type: MerchantRef, nullable: true, description: 'The new merchant.' }),
      userErrors: userErrorsField(t),
    }),
  },
);

for (const [name, run, verb] of [
  ['approveMerchant', approveMerchant, 'Approves a pending or suspended merchant: its published offers become public (admin).'],
  ['suspendMerchant', suspendMerchant, 'Suspends a merchant: its offers leave the public catalogue (admin).'],
] as const) {
  builder.relayMutationField(
    name,
    {
      description: `Input of ${name}.`,
      inputFields: (t) => ({ merchantId: t.id({ required: true, description: 'Global id of the merchant.' }), idempotencyKey: idempotencyKeyField(t) }),
    },
    { description: verb, resolve: (_root, { input }, ctx) => withUserErrors(() => run(ctx, input)) },
    {
      description: `Result of ${name}.`,
      outputFields: (t) => ({
        merchant: t.expose('merchant', { type: MerchantRef, nullable: true, description: 'The merchant after the change.' }),
        userErrors: userErrorsField(t),
      }),
    },
  );
}
