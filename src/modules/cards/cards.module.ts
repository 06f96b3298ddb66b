/**
 * Declares the cards module: linked payment cards (the card store).
 */
import { defineModule } from '../module.js';
import './cards.schema.js';

const ERROR_CODES = {
  INVALID_CARD_NUMBER: 'The card number is malformed or fails its check digit.',
  UNSUPPORTED_CARD_NETWORK: 'The card is not Visa, Mastercard, American Express or Discover.',
  CARD_EXPIRED: 'The card has expired.',
  CARD_ALREADY_LINKED: 'You have already linked this card.',
  CARD_UNAVAILABLE: 'This card cannot be linked.',
  NO_CARD_LINKED: 'Link a card first.',
} as const;

declare module '../../lib/errors.js' {
  interface ErrorCodeRegistry extends Record<keyof typeof ERROR_CODES, true> {}
}

export const cardsModule = defineModule({
  name: 'cards',
  errorCodes: ERROR_CODES,
});
