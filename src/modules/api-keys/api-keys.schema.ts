/**
 * API key types and the admin mutations that mint and revoke keys.
 */
import type { PartnerScope } from '../../context.js';
import { builder } from '../../schema/builder.js';
import { lateEnum } from '../../schema/late-enum.js';
import { idempotencyKeyField, userErrorsField, withUserErrors } from '../../schema/common.js';
import { ApiKeyRef } from './api-keys.refs.js';
import { MerchantRef } from '../merchants/merchants.refs.js';
import { PartnerRef } from '../partners/partners.refs.js';
import { createApiKey, revokeApiKey, scopesOfKey } from './api-keys.service.js';

const ApiKeyRoleRef = builder.enumType('ApiKeyRole', {
  description: 'What an API key may do.',
  values: {
    ADMIN: { description: 'Approves merchants and manages keys.' },
    MERCHANT: { description: "Manages one merchant's locations and offers." },
    PARTNER: { description: "One of a partner's keys (a card network, processor or social platform); acts for the partner with its scopes." },
  },
});

/** The scopes modules declare (`partnerScopes` in their `*.module.ts`); defined in src/schema/index.ts. */
export const PartnerScopeEnum = lateEnum<PartnerScope>('PartnerScope', 'What a partner, and each of its keys, may do.');

ApiKeyRef.implement({
  description: 'An API key. The secret is shown once, when created; only its hash is kept.',
  fields: (t) => ({
    name: t.exposeString('name', { description: 'What the key is for.' }),
    role: t.expose('role', { type: ApiKeyRoleRef, description: 'What the key may do.' }),
    merchant: t.field({
      type: MerchantRef,
      nullable: true,
      description: 'The merchant a MERCHANT key acts for.',
      resolve: (k) => k.merchant_id,
    }),
    partner: t.field({
      type: PartnerRef,
      nullable: true,
      description: 'The partner a PARTNER key belongs to and acts for.',
      resolve: (k) => k.partner_id,
    }),
    scopes: t.field({
      type: [PartnerScopeEnum.ref()],
      description: "What a PARTNER key may do: its partner's scopes, narrowed to those given when the key was created. Empty for other keys.",
      resolve: (k) => scopesOfKey(k),
    }),
    prefix: t.exposeString('prefix', { description: 'The first characters of the key, to recognise it.' }),
    createdAt: t.expose('created_at', { type: 'DateTime', description: 'When the key was created.' }),
    revokedAt: t.expose('revoked_at', { type: 'DateTime', nullable: true, description: 'When the key was revoked; it no longer works.' }),
  }),
});

builder.relayMutationField(
  'createApiKey',
  {
    description: 'Input of createApiKey.',
    inputFields: (t) => ({
      name: t.string({ required: true, description: 'What the key is for, 1 to 120 characters.' }),
      role: t.field({ type: ApiKeyRoleRef, required: true, description: 'What the key may do.' }),
      merchantId: t.id({ required: false, description: 'The merchant a MERCHANT key acts for (required for MERCHANT).' }),
      partnerId: t.id({ required: false, description: 'The partner a PARTNER key belongs to (required for PARTNER); it must be ACTIVE.' }),
      scopes: t.field({
        type: [PartnerScopeEnum.ref()],
        required: false,
        description:
          "Only for a PARTNER key: narrows it to these of its partner's scopes (each must be one the partner holds; an empty list makes a key that only reads). Omitted, the key holds all of the partner's scopes, as they are.",
      }),
      idempotencyKey: idempotencyKeyField(t),
    }),
  },
  {
    description: 'Creates an API key (admin). The secret is in the answer and nowhere else: store it now.',
    resolve: (_root, { input }, ctx) => withUserErrors(() => createApiKey(ctx, input)),
  },
  {
    description: 'Result of createApiKey.',
    outputFields: (t) => ({
      apiKey: t.expose('apiKey', { type: ApiKeyRef, nullable: true, description: 'The new key.' }),
      secret: t.exposeString('secret', {
        nullable: true,
        description: 'The key itself, for "Authorization: Bearer <secret>". Shown only this once.',
      }),
      userErrors: userErrorsField(t),
    }),
  },
);

builder.relayMutationField(
  'revokeApiKey',
  {
    description: 'Input of revokeApiKey.',
    inputFields: (t) => ({ apiKeyId: t.id({ required: true, description: 'Global id of the key.' }), idempotencyKey: idempotencyKeyField(t) }),
  },
  {
    description: 'Revokes an API key at once (admin). Revoking twice is harmless.',
    resolve: (_root, { input }, ctx) => withUserErrors(() => revokeApiKey(ctx, input)),
  },
  {
    description: 'Result of revokeApiKey.',
    outputFields: (t) => ({
      apiKey: t.expose('apiKey', { type: ApiKeyRef, nullable: true, description: 'The revoked key.' }),
      userErrors: userErrorsField(t),
    }),
  },
);
