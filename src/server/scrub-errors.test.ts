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
  it("drops the JSON parser's message about a malformed body, which quotes the body", async () => {
    const number = randomCardNumber('4');
    const response = await postJson(`{"query": "{ offers ${number}`);
    const body = (await response.json()) as { errors: { message: string; extensions: Record<string, unknown> }[] };
    expect(response.status).toBe(400);
    expect(body.errors).toEqual([{ message: 'POST body sent invalid JSON.', extensions: { code: 'BAD_REQUEST' } }]);
  });

  it('scrubs a card number glued to letters out of a validation error quoting the value', async () => {
    const number = randomCardNumber('4');
    const response = await postJson(JSON.stringify({ query: `{ offers(first: req${number}) { edges { cursor } } }` }));
    const body = (await response.json()) as { errors: { message: string }[] };
    expect(body.errors.map((e) => e.message)).toEqual(['Int cannot represent non-integer value: req[card redacted]']);
  });
});
