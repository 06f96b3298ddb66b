import { createYoga } from 'graphql-yoga';
import { describe, expect, it } from 'vitest';
import { randomCardNumber } from '../modules/cards/card-number.js';
import { schema } from '../schema/index.js';
import { useCardNumberScrubbing } from './scrub-errors.js';

/** Yoga with its own request parsers and only this plugin: what the plugin alone guarantees. */
const yoga = createYoga({ schema, logging: false, maskedErrors: { isDev: false }, plugins: [useCardNumberScrubbing()] });

const postJson = (body: string) =>
  yoga.fetch('http://hashback.test/graphql', { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' }, body });

describe('useCardNumberScrubbing', () => {
  it('scrubs a card number glued to letters out of a validation error quoting the value', async () => {
    const number = randomCardNumber('4');
    const response = await postJson(JSON.stringify({ query: `{ offers(first: req${number}) { edges { cursor } } }` }));
    const body = (await response.json()) as { errors: { message: string }[] };
    expect(body.errors.map((e) => e.message)).toEqual(['Int cannot represent non-integer value: req[card redacted]']);
  });
});
