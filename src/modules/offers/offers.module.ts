/**
 * Declares the offers module: the catalogue, its rules, and the job announcing offers that go live or end.
 */
import { defineModule } from '../module.js';
import { announceOfferTransitions } from './offers.service.js';
import { OFFER_TOPIC } from './offers.topics.js';
import './offers.schema.js';
import './offers.subscriptions.js';

const ERROR_CODES = {
  FIELD_LOCKED: 'The field cannot change once the offer is published.',
  OFFER_HAS_NO_LOCATIONS: 'The offer has no locations to be used at.',
  HASHTAG_TAKEN: 'Another published purchase offer uses the hashtag.',
} as const;

declare module '../../lib/errors.js' {
  interface ErrorCodeRegistry extends Record<keyof typeof ERROR_CODES, true> {}
}

export const offersModule = defineModule({
  name: 'offers',
  errorCodes: ERROR_CODES,
  topics: [OFFER_TOPIC],
  jobs: ({ db }) => [{ name: 'offer-transitions', run: (now) => announceOfferTransitions(db, now) }],
});
