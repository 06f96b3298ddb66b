/**
 * Partner types, the admin mutations that manage partners, and `partnerViewer` for a partner's
 * own keys. Keys themselves are issued and revoked by the api-keys module (`createApiKey` with
 * `partnerId`, `revokeApiKey`).
 */
import type { PartnerScope } from '../../context.js';
import { builder } from '../../schema/builder.js';
import { idempotencyKeyField, pageArgs, userErrorsField, withUserErrors } from '../../schema/common.js';
import { ApiKeyRef } from '../api-keys/api-keys.refs.js';
import { PartnerScopeEnum } from '../api-keys/api-keys.schema.js';
import { listKeysOfPartner } from '../api-keys/api-keys.service.js';
import { PartnerRef } from './partners.refs.js';
import { activatePartner, createPartner, listPartners, suspendPartner, viewerPartnerId } from './partners.service.js';

const PartnerStatusRef = builder.enumType('PartnerStatus', {
  description: 'Whether a partner may act.',
  values: {
    ACTIVE: { description: 'Its keys that are not revoked work.' },
    SUSPENDED: { description: 'Every one of its keys is refused (HTTP 401); its records stay.' },
  },
});

PartnerRef.implement({
  description:
    'A card network, processor or social platform. It is issued API keys; its transactions, statement credits and idempotency keys belong to it, not to a key, so keys rotate without losing anything. Visible to admins and to its own keys.',
  fields: (t) => ({
    name: t.exposeString('name', { description: 'Display name.' }),
    scopes: t.field({
      type: [PartnerScopeEnum.ref()],
      description: 'What the partner may do; each of its keys holds these, or fewer when the key was narrowed.',
      resolve: (p) => p.scopes as PartnerScope[],
    }),
    status: t.expose('status', { type: PartnerStatusRef, description: 'Whether its keys work.' }),
    contactEmail: t.exposeString('contact_email', { nullable: true, description: 'Where the platform writes to the partner, e.g. when it disables one of its webhook endpoints.' }),
    createdAt: t.expose('created_at', { type: 'DateTime', description: 'When the partner was created.' }),
    keys: t.field({
      type: [ApiKeyRef],
      description: 'Its API keys, revoked ones too, oldest first.',
      resolve: (p, _args, ctx) => listKeysOfPartner(ctx, p.id),
    }),
  }),
});

const PartnerConnectionRef = builder.connectionObject(
  { type: PartnerRef, name: 'PartnerConnection', description: 'A page of partners.' },
  { description: 'A partner in a page.' },
);

// The webhooks module adds `webhookEndpoints` to this type.
export const PartnerViewerRef = builder.objectRef<{ partnerId: string }>('PartnerViewer').implement({
  description: 'What a partner key sees of its own partner.',
  fields: (t) => ({
    partner: t.field({ type: PartnerRef, description: 'The partner the calling key acts for.', resolve: (v) => v.partnerId }),
    keys: t.field({
      type: [ApiKeyRef],
      description: "The partner's API keys, revoked ones too, oldest first (never their secrets).",
      resolve: (v, _args, ctx) => listKeysOfPartner(ctx, v.partnerId),
    }),
  }),
});

builder.queryFields((t) => ({
  partners: t.field({
    type: PartnerConnectionRef,
    description: 'Every partner by name (admins); empty for anyone else.',
    args: { ...pageArgs },
    resolve: (_root, args, ctx) => listPartners(ctx, args),
  }),
  partnerViewer: t.field({
    type: PartnerViewerRef,
    nullable: true,
    description: 'The partner of the calling partner API key, with its keys; null for other callers.',
    resolve: (_root, _args, ctx) => {
      const partnerId = viewerPartnerId(ctx);
      return partnerId ? { partnerId } : null;
    },
  }),
}));

builder.relayMutationField(
  'createPartner',
  {
    description: 'Input of createPartner.',
    inputFields: (t) => ({
      name: t.string({ required: true, description: 'Display name, 1 to 120 characters.' }),
      scopes: t.field({ type: [PartnerScopeEnum.ref()], required: true, description: 'What the partner may do (may be empty).' }),
      contactEmail: t.string({ required: false, description: 'Where the platform writes to the partner, e.g. when it disables one of its webhook endpoints.' }),
      idempotencyKey: idempotencyKeyField(t),
    }),
  },
  {
    description: 'Creates an ACTIVE partner (admin); then issue it keys with createApiKey(role: PARTNER, partnerId).',
    resolve: (_root, { input }, ctx) => withUserErrors(() => createPartner(ctx, input)),
  },
  {
    description: 'Result of createPartner.',
    outputFields: (t) => ({
      partner: t.expose('partner', { type: PartnerRef, nullable: true, description: 'The new partner.' }),
      userErrors: userErrorsField(t),
    }),
  },
);

for (const [name, run, verb] of [
  ['suspendPartner', suspendPartner, "Suspends a partner (admin): all of its keys are refused at once; its records stay. Suspending twice is harmless."],
  ['activatePartner', activatePartner, 'Reactivates a suspended partner (admin): its keys that were not revoked work again.'],
] as const) {
  builder.relayMutationField(
    name,
    {
      description: `Input of ${name}.`,
      inputFields: (t) => ({ partnerId: t.id({ required: true, description: 'Global id of the partner.' }), idempotencyKey: idempotencyKeyField(t) }),
    },
    { description: verb, resolve: (_root, { input }, ctx) => withUserErrors(() => run(ctx, input)) },
    {
      description: `Result of ${name}.`,
      outputFields: (t) => ({
        partner: t.expose('partner', { type: PartnerRef, nullable: true, description: 'The partner after the change.' }),
        userErrors: userErrorsField(t),
      }),
    },
  );
}
