/**
 * Webhook endpoints of partners and merchants: their types, the mutations that manage them, the
 * delivery log, and `webhookEndpoints` on `partnerViewer` and on the merchant of `merchantViewer`.
 */
import { builder } from '../../schema/builder.js';
import { idempotencyKeyField, pageArgs, userErrorsField, withUserErrors } from '../../schema/common.js';
import { encodeGlobalId } from '../../lib/ids.js';
import { MerchantRef } from '../merchants/merchants.refs.js';
import { PartnerViewerRef } from '../partners/partners.schema.js';
import { WebhookEndpointRef } from './webhooks.refs.js';
import {
  createWebhookEndpoint,
  deleteWebhookEndpoint,
  disableWebhookEndpoint,
  enableWebhookEndpoint,
  eventTypeRegistry,
  listOwnEndpoints,
  listWebhookDeliveries,
  MAX_OVERLAP_HOURS,
  replayWebhookEvents,
  rotateWebhookSecret,
  sendTestWebhook,
  updateWebhookEndpoint,
  type DeliveryWithAttempts,
} from './webhooks.service.js';

const WebhookEndpointStatusRef = builder.enumType('WebhookEndpointStatus', {
  description: 'Whether an endpoint receives events.',
  values: {
    ENABLED: { description: 'Events it may read are delivered.' },
    DISABLED: { description: 'Nothing is delivered (by its owner, after a 410 Gone, or after failing too long); enable it to resume from now.' },
  },
});

const WebhookDeliveryStatusRef = builder.enumType('WebhookDeliveryStatus', {
  description: 'Where a delivery is.',
  values: {
    PENDING: { description: 'Being sent, or waiting for its next attempt.' },
    DELIVERED: { description: 'The endpoint answered 2xx.' },
    FAILED: { description: 'Every attempt failed, the endpoint answered 410, or it was disabled.' },
  },
});

WebhookEndpointRef.implement({
  description: 'An HTTPS URL that receives, signed per Standard Webhooks, the events its owner (a partner or a merchant) may read. Visible to its owner only.',
  fields: (t) => ({
    url: t.exposeString('url', { description: 'Where events are POSTed.' }),
    description: t.exposeString('description', { description: "The owner's note about the endpoint." }),
    eventTypes: t.exposeStringList('event_types', { description: 'Dotted event types it receives (see webhookEventTypes); empty: all its owner may read.' }),
    status: t.expose('status', { type: WebhookEndpointStatusRef, description: 'Whether it receives events.' }),
    disabledReason: t.exposeString('disabled_reason', { nullable: true, description: 'Why it is disabled.' }),
    failingSince: t.expose('failing_since', { type: 'DateTime', nullable: true, description: 'First failed attempt since the last success; null when healthy.' }),
    previousSecretExpiresAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'During a secret rotation: until when the previous secret also signs.',
      resolve: (e) => (e.previous_secret_expires_at && e.previous_secret_expires_at > new Date() ? e.previous_secret_expires_at : null),
    }),
    createdAt: t.expose('created_at', { type: 'DateTime', description: 'When it was registered.' }),
    updatedAt: t.expose('updated_at', { type: 'DateTime', description: 'When it last changed.' }),
  }),
});

const WebhookAttemptRef = builder.objectRef<DeliveryWithAttempts['attemptRows'][number]>('WebhookAttempt').implement({
  description: 'One HTTP attempt of a delivery.',
  fields: (t) => ({
    attemptedAt: t.expose('attempted_at', { type: 'DateTime', description: 'When the request started.' }),
    httpStatus: t.exposeInt('http_status', { nullable: true, description: 'The HTTP status answered; null when none came (timeout, connection error).' }),
    durationMs: t.exposeInt('duration_ms', { description: 'Milliseconds from start to the answer (or the failure).' }),
    error: t.exposeString('error', { nullable: true, description: 'Why no answer came, when none did.' }),
    responseBody: t.exposeString('response_body', { nullable: true, description: 'The start of the answer body (at most 2,000 characters).' }),
  }),
});

const WebhookDeliveryRef = builder.objectRef<DeliveryWithAttempts>('WebhookDelivery').implement({
  description: 'One message (an event, or a test) to one endpoint, with its attempts.',
  fields: (t) => ({
    id: t.id({ description: 'Id of the delivery.', resolve: (d) => encodeGlobalId('WebhookDelivery', String(d.id)) }),
    messageId: t.exposeString('message_id', { description: 'The webhook-id header: the same on every attempt, and for every delivery of one event.' }),
    eventType: t.exposeString('event_type', { description: 'Dotted event type.' }),
    eventCursor: t.string({
      nullable: true,
      description: "The event's cursor (as in the body's data.cursor); null for test messages.",
      resolve: (d) => (d.event_position === null ? null : Buffer.from(JSON.stringify([Number(d.event_position)]), 'utf8').toString('base64url')),
    }),
    status: t.expose('status', { type: WebhookDeliveryStatusRef, description: 'Where the delivery is.' }),
    attemptCount: t.exposeInt('attempts', { description: 'HTTP attempts so far.' }),
    attempts: t.field({ type: [WebhookAttemptRef], description: 'Its attempts, oldest first.', resolve: (d) => d.attemptRows }),
    createdAt: t.expose('created_at', { type: 'DateTime', description: 'When it was created.' }),
    finishedAt: t.expose('finished_at', { type: 'DateTime', nullable: true, description: 'When it was delivered or given up.' }),
  }),
});

const WebhookDeliveryConnectionRef = builder.connectionObject(
  { type: WebhookDeliveryRef, name: 'WebhookDeliveryConnection', description: 'A page of deliveries, newest first.' },
  { description: 'A delivery in a page.' },
);

builder.queryFields((t) => ({
  webhookEventTypes: t.stringList({
    description: 'Every event type an endpoint can listen to, dotted (e.g. cashback.confirmed).',
    resolve: () => [...eventTypeRegistry().keys()].sort(),
  }),
  webhookDeliveries: t.field({
    type: WebhookDeliveryConnectionRef,
    description: "Deliveries of one of the caller's endpoints, newest first (empty for anyone else's).",
    args: {
      ...pageArgs,
      endpointId: t.arg.id({ required: true, description: 'Global id of the endpoint.' }),
      status: t.arg({ type: WebhookDeliveryStatusRef, required: false, description: 'Only deliveries in this status.' }),
    },
    resolve: (_root, args, ctx) => listWebhookDeliveries(ctx, { ...args, endpointId: String(args.endpointId) }),
  }),
}));

builder.objectField(PartnerViewerRef, 'webhookEndpoints', (t) =>
  t.field({
    type: [WebhookEndpointRef],
    description: "The partner's webhook endpoints, oldest first.",
    resolve: (v, _args, ctx) => listOwnEndpoints(ctx, { partnerId: v.partnerId }),
  }),
);

builder.objectField(MerchantRef, 'webhookEndpoints', (t) =>
  t.field({
    type: [WebhookEndpointRef],
    description: "The merchant's webhook endpoints, oldest first: for the merchant's own key (merchantViewer); empty for anyone else.",
    resolve: (m, _args, ctx) => listOwnEndpoints(ctx, { merchantId: m.id }),
  }),
);

const endpointIdField = { endpointId: { description: 'Global id of the endpoint.' } };

builder.relayMutationField(
  'createWebhookEndpoint',
  {
    description: 'Input of createWebhookEndpoint.',
    inputFields: (t) => ({
      url: t.string({ required: true, description: 'https URL (http and private addresses only where WEBHOOK_ALLOW_PRIVATE_NETWORKS is on).' }),
      eventTypes: t.stringList({ required: false, description: 'Dotted event types to receive (webhookEventTypes); empty or absent: all.' }),
      description: t.string({ required: false, description: 'A note, at most 500 characters.' }),
      idempotencyKey: idempotencyKeyField(t),
    }),
  },
  {
    description: 'Registers a webhook endpoint of the calling partner or merchant; it receives the events from now on. The signing secret is shown once, here.',
    resolve: (_root, { input }, ctx) => withUserErrors(() => createWebhookEndpoint(ctx, input)),
  },
  {
    description: 'Result of createWebhookEndpoint.',
    outputFields: (t) => ({
      endpoint: t.expose('endpoint', { type: WebhookEndpointRef, nullable: true, description: 'The new endpoint.' }),
      secret: t.exposeString('secret', { nullable: true, description: 'The signing secret, whsec_…: shown only this once.' }),
      userErrors: userErrorsField(t),
    }),
  },
);

builder.relayMutationField(
  'updateWebhookEndpoint',
  {
    description: 'Input of updateWebhookEndpoint: the fields given change.',
    inputFields: (t) => ({
      endpointId: t.id({ required: true, ...endpointIdField.endpointId }),
      url: t.string({ required: false, description: 'New URL (checked as on creation).' }),
      eventTypes: t.stringList({ required: false, description: 'New event types (empty: all).' }),
      description: t.string({ required: false, description: 'New note.' }),
      idempotencyKey: idempotencyKeyField(t),
    }),
  },
  {
    description: 'Changes an endpoint of the caller.',
    resolve: (_root, { input }, ctx) => withUserErrors(() => updateWebhookEndpoint(ctx, { ...input, endpointId: String(input.endpointId) })),
  },
  {
    description: 'Result of updateWebhookEndpoint.',
    outputFields: (t) => ({
      endpoint: t.expose('endpoint', { type: WebhookEndpointRef, nullable: true, description: 'The endpoint after the change.' }),
      userErrors: userErrorsField(t),
    }),
  },
);

for (const [name, run, verb] of [
  ['disableWebhookEndpoint', disableWebhookEndpoint, 'Stops deliveries to an endpoint of the caller (pending ones fail). Disabling twice is harmless.'],
  ['enableWebhookEndpoint', enableWebhookEndpoint, 'Resumes an endpoint with the events from now on (replay for earlier ones). Enabling twice is harmless.'],
  ['sendTestWebhook', sendTestWebhook, 'Sends a signed test message (type webhook_endpoint.test) to an endpoint of the caller.'],
] as const) {
  builder.relayMutationField(
    name,
    {
      description: `Input of ${name}.`,
      inputFields: (t) => ({ endpointId: t.id({ required: true, ...endpointIdField.endpointId }), idempotencyKey: idempotencyKeyField(t) }),
    },
    { description: verb, resolve: (_root, { input }, ctx) => withUserErrors(() => run(ctx, { ...input, endpointId: String(input.endpointId) })) },
    {
      description: `Result of ${name}.`,
      outputFields: (t) => ({
        endpoint: t.expose('endpoint', { type: WebhookEndpointRef, nullable: true, description: 'The endpoint after the change.' }),
        userErrors: userErrorsField(t),
      }),
    },
  );
}

builder.relayMutationField(
  'rotateWebhookSecret',
  {
    description: 'Input of rotateWebhookSecret.',
    inputFields: (t) => ({
      endpointId: t.id({ required: true, ...endpointIdField.endpointId }),
      overlapHours: t.int({ required: false, description: `Hours the previous secret keeps signing too, 0 to ${MAX_OVERLAP_HOURS} (default 24).` }),
      idempotencyKey: idempotencyKeyField(t),
    }),
  },
  {
    description: 'Gives an endpoint a new signing secret. During the overlap every request carries two v1 signatures, one per secret.',
    resolve: (_root, { input }, ctx) => withUserErrors(() => rotateWebhookSecret(ctx, { ...input, endpointId: String(input.endpointId) })),
  },
  {
    description: 'Result of rotateWebhookSecret.',
    outputFields: (t) => ({
      endpoint: t.expose('endpoint', { type: WebhookEndpointRef, nullable: true, description: 'The endpoint after the change.' }),
      secret: t.exposeString('secret', { nullable: true, description: 'The new signing secret: shown only this once.' }),
      userErrors: userErrorsField(t),
    }),
  },
);

builder.relayMutationField(
  'deleteWebhookEndpoint',
  {
    description: 'Input of deleteWebhookEndpoint.',
    inputFields: (t) => ({ endpointId: t.id({ required: true, ...endpointIdField.endpointId }), idempotencyKey: idempotencyKeyField(t) }),
  },
  {
    description: 'Deletes an endpoint of the caller with its delivery log.',
    resolve: (_root, { input }, ctx) => withUserErrors(() => deleteWebhookEndpoint(ctx, { ...input, endpointId: String(input.endpointId) })),
  },
  {
    description: 'Result of deleteWebhookEndpoint.',
    outputFields: (t) => ({
      deletedEndpointId: t.exposeID('deletedEndpointId', { nullable: true, description: 'Global id of the deleted endpoint.' }),
      userErrors: userErrorsField(t),
    }),
  },
);

builder.relayMutationField(
  'replayWebhookEvents',
  {
    description: 'Input of replayWebhookEvents: exactly one of after and since.',
    inputFields: (t) => ({
      endpointId: t.id({ required: true, ...endpointIdField.endpointId }),
      after: t.string({ required: false, description: 'An event cursor (data.cursor of a delivery, or eventCursor): events after it are sent again.' }),
      since: t.field({ type: 'DateTime', required: false, description: 'Events written at or after this time are sent again.' }),
      idempotencyKey: idempotencyKeyField(t),
    }),
  },
  {
    description: "Sends again the events after a cursor (or since a time) that the endpoint receives, with their original webhook-ids, in order, within the endpoint's in-flight limit.",
    resolve: (_root, { input }, ctx) => withUserErrors(() => replayWebhookEvents(ctx, { ...input, endpointId: String(input.endpointId) })),
  },
  {
    description: 'Result of replayWebhookEvents.',
    outputFields: (t) => ({
      endpoint: t.expose('endpoint', { type: WebhookEndpointRef, nullable: true, description: 'The endpoint.' }),
      replayFrom: t.exposeString('replayFrom', { nullable: true, description: 'The cursor delivery restarts after.' }),
      userErrors: userErrorsField(t),
    }),
  },
);
