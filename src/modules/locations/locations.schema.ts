/**
 * Location types and the merchant mutations that manage locations and their MIDs.
 */
import type { LocationMidRow, LocationRow } from '../../../db/types.js';
import { builder } from '../../schema/builder.js';
import { idempotencyKeyField, userErrorsField, withUserErrors } from '../../schema/common.js';
import { LocationRef } from './locations.refs.js';
import { MerchantRef } from '../merchants/merchants.refs.js';
import { createLocation, loadMidsOfLocations, updateLocation } from './locations.service.js';

export const ChannelRef = builder.enumType('Channel', {
  description: 'Where a purchase happens.',
  values: {
    IN_STORE: { description: 'At a physical point of sale.' },
    ONLINE: { description: 'Online or in an app.' },
  },
});

export const CardNetworkRef = builder.enumType('CardNetwork', {
  description: 'A card network.',
  values: {
    VISA: { description: 'Visa.' },
    MASTERCARD: { description: 'Mastercard.' },
    AMEX: { description: 'American Express.' },
    DISCOVER: { description: 'Discover.' },
  },
});

const MidRef = builder.objectRef<LocationMidRow>('MerchantId').implement({
  description: "A location's merchant id (MID) on a card network: how its transactions are recognised.",
  fields: (t) => ({
    network: t.expose('network', { type: CardNetworkRef, description: 'The card network.' }),
    mid: t.exposeString('mid', { description: 'The merchant id on that network.' }),
  }),
});

const MidInputRef = builder.inputType('MerchantIdInput', {
  description: 'A merchant id (MID) on a card network; unique per network.',
  fields: (t) => ({
    network: t.field({ type: CardNetworkRef, required: true, description: 'The card network.' }),
    mid: t.string({ required: true, description: '1 to 32 letters, digits or dashes.' }),
  }),
});

LocationRef.implement({
  description: 'A place, physical or online, where a merchant takes cards.',
  fields: (t) => ({
    merchant: t.field({ type: MerchantRef, description: 'The merchant.', resolve: (l) => l.merchant_id }),
    name: t.exposeString('name', { description: 'Display name, e.g. "Main Street".' }),
    channel: t.expose('channel', { type: ChannelRef, description: 'In store or online.' }),
    country: t.exposeString('country', { description: 'ISO 3166-1 alpha-2 country.' }),
    timezone: t.exposeString('timezone', { description: 'IANA time zone; offer days of week are read in it.' }),
    address: t.exposeString('address', { nullable: true, description: 'Street address, when in store.' }),
    mids: t.loadableList({
      type: MidRef,
      nullable: true,
      description: "Merchant ids on card networks; only the location's merchant and admins see them (null otherwise).",
      load: (locations: LocationRow[], ctx) => loadMidsOfLocations(ctx, locations),
      resolve: (location) => location,
    }),
    createdAt: t.expose('created_at', { type: 'DateTime', description: 'When the location was created.' }),
  }),
});

builder.relayMutationField(
  'createLocation',
  {
    description: 'Input of createLocation.',
    inputFields: (t) => ({
      name: t.string({ required: true, description: 'Display name, 1 to 120 characters.' }),
      channel: t.field({ type: ChannelRef, required: true, description: 'In store or online.' }),
      country: t.string({ required: true, description: 'ISO 3166-1 alpha-2 country code.' }),
      timezone: t.string({ required: true, description: 'IANA time zone, e.g. "America/New_York".' }),
      address: t.string({ required: false, description: 'Street address, up to 300 characters.' }),
      mids: t.field({ type: [MidInputRef], required: false, description: 'Merchant ids on card networks (up to 20).' }),
      idempotencyKey: idempotencyKeyField(t),
    }),
  },
  {
    description: "Adds a location to the calling merchant (merchant key).",
    resolve: (_root, { input }, ctx) => withUserErrors(() => createLocation(ctx, { ...input, mids: input.mids ?? undefined })),
  },
  {
    description: 'Result of createLocation.',
    outputFields: (t) => ({
      location: t.expose('location', { type: LocationRef, nullable: true, description: 'The new location.' }),
      userErrors: userErrorsField(t),
    }),
  },
);

builder.relayMutationField(
  'updateLocation',
  {
    description: 'Input of updateLocation: only the fields given change.',
    inputFields: (t) => ({
      locationId: t.id({ required: true, description: 'Global id of the location.' }),
      name: t.string({ required: false, description: 'Display name, 1 to 120 characters.' }),
      channel: t.field({ type: ChannelRef, required: false, description: 'In store or online.' }),
      country: t.string({ required: false, description: 'ISO 3166-1 alpha-2 country code.' }),
      timezone: t.string({ required: false, description: 'IANA time zone.' }),
      address: t.string({ required: false, description: 'Street address; null clears it.' }),
      mids: t.field({ type: [MidInputRef], required: false, description: 'Replaces every merchant id of the location.' }),
      idempotencyKey: idempotencyKeyField(t),
    }),
  },
  {
    description: 'Changes one of the calling merchant\'s locations (merchant key).',
    resolve: (_root, { input }, ctx) =>
      withUserErrors(() =>
        updateLocation(ctx, {
          ...input,
          name: input.name ?? undefined,
          channel: input.channel ?? undefined,
          country: input.country ?? undefined,
          timezone: input.timezone ?? undefined,
          mids: input.mids ?? undefined,
        }),
      ),
  },
  {
    description: 'Result of updateLocation.',
    outputFields: (t) => ({
      location: t.expose('location', { type: LocationRef, nullable: true, description: 'The location after the change.' }),
      userErrors: userErrorsField(t),
    }),
  },
);
