/**
 * The consumer's own account: `viewer`, sign-up and log-in.
 */
import type { UserRow } from '../../../db/types.js';
import type { UserError } from '../../lib/errors.js';
import { builder } from '../../schema/builder.js';
import { CARD_NUMBER_ALLOWED } from '../../schema/card-number-guard.js';
import { idempotencyKeyField, userErrorsField, withUserErrors, type PayloadFieldBuilder } from '../../schema/common.js';
import { ActivationRef } from '../activations/activations.refs.js';
import { CardRef } from '../cards/cards.refs.js';
import { UserRef } from './users.refs.js';
import { activationsOf } from '../activations/activations.service.js';
import { linkedCardsOf } from '../cards/cards.service.js';
import { logIn, signUp } from './users.service.js';

UserRef.implement({
  description: 'A consumer. Only the user itself can read its account.',
  fields: (t) => ({
    email: t.exposeString('email', { description: 'E-mail address, as given at sign-up.' }),
    displayName: t.exposeString('display_name', { description: 'Name shown to the user.' }),
    country: t.exposeString('country', { description: 'ISO 3166-1 alpha-2 country; offers must be available there.' }),
    cards: t.field({
      type: [CardRef],
      description: 'Cards linked now, oldest first.',
      resolve: (user, _args, ctx) => linkedCardsOf(ctx, user.id),
    }),
    activations: t.field({
      type: [ActivationRef],
      description: 'Offers the user saved with "Get Offer", newest first.',
      resolve: (user, _args, ctx) => activationsOf(ctx, user.id),
    }),
    createdAt: t.expose('created_at', { type: 'DateTime', description: 'When the account was created.' }),
  }),
});

builder.queryField('viewer', (t) =>
  t.field({
    type: UserRef,
    nullable: true,
    description: 'The signed-in user (bearer user token); null otherwise.',
    resolve: (_root, _args, ctx) => (ctx.principal.kind === 'user' ? ctx.principal.userId : null),
  }),
);

const sessionPayload = (name: string) => ({
  description: `Result of ${name}.`,
  outputFields: (t: PayloadFieldBuilder<{ token?: string; user?: UserRow; userErrors: UserError[] }>) => ({
    token: t.exposeString('token', {
      nullable: true,
      description: 'Bearer token for "Authorization: Bearer <token>" (HTTP) or connection_init { authorization } (WebSocket). Expires.',
    }),
    user: t.expose('user', { type: UserRef, nullable: true, description: 'The signed-in user.' }),
    userErrors: userErrorsField(t),
  }),
});

builder.relayMutationField(
  'signUp',
  {
    description: 'Input of signUp.',
    inputFields: (t) => ({
      email: t.string({ required: true, description: 'E-mail address.' }),
      // Hashed, never stored or logged as given: any characters are welcome.
      password: t.string({ required: true, description: 'Password, 10 to 200 characters.', extensions: CARD_NUMBER_ALLOWED }),
      displayName: t.string({ required: true, description: 'Name shown to the user, 1 to 80 characters.' }),
      country: t.string({ required: true, description: 'ISO 3166-1 alpha-2 country of residence.' }),
      idempotencyKey: idempotencyKeyField(t),
    }),
  },
  {
    description:
      'Creates a consumer account and signs it in. With idempotencyKey (scoped to the e-mail), a replay with the same input and password answers the same user with a fresh token.',
    resolve: (_root, { input }, ctx) => withUserErrors(() => signUp(ctx, input)),
  },
  sessionPayload('signUp'),
);

builder.relayMutationField(
  'logIn',
  {
    description: 'Input of logIn.',
    inputFields: (t) => ({
      email: t.string({ required: true, description: 'E-mail address.' }),
      password: t.string({ required: true, description: 'Password.', extensions: CARD_NUMBER_ALLOWED }),
    }),
  },
  {
    description: 'Signs a consumer in. Failures never say whether the e-mail exists; repeated failures are rate limited.',
    resolve: (_root, { input }, ctx) => withUserErrors(() => logIn(ctx, input)),
  },
  sessionPayload('logIn'),
);
