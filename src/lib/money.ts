/**
 * Money is an integer amount of minor units with an ISO 4217 currency, everywhere.
 */
import { currencyDigits } from './iso.js';

export interface Money {
  amount: number;
  currency: string;
}

/** Largest amount of minor units accepted in any money input (10 million units of a 2-decimal currency). */
export const MAX_MINOR_UNITS = 1_000_000_000;

const formatters = new Map<string, Intl.NumberFormat>();

/** "$12.34", "¥1,200": for display only, never for arithmetic. */
export function formatMoney({ amount, currency }: Money): string {
  let formatter = formatters.get(currency);
  if (!formatter) {
    formatter = new Intl.NumberFormat('en-US', { style: 'currency', currency });
    formatters.set(currency, formatter);
  }
  // Amounts are bounded far below 2^53, so the scaled double rounds back to the exact minor unit.
  return formatter.format(amount / 10 ** currencyDigits(currency));
}

export function money(amount: number, currency: string): Money {
  return { amount, currency };
}
