/**
 * The sandbox payment gateway: each documented test card's answer, idempotency per key (replays,
 * retries after RETRYABLE and UNKNOWN, racing calls on real Postgres), refunds bounded by the
 * charge, and card numbers: opened only inside a call, never in a row or an outcome.
 */
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DB } from '../../../db/types.js';
import { databaseKind, dbId, randomCardNumber, startHarness, unique, type Harness } from '../../../test/harness.js';
import { luhnValid } from '../cards/card-number.js';
import { cardForCharge } from '../cards/cards.service.js';
import { createPaymentGateway, PaymentRequestError, type CardForCharge, type ChargeOutcome, type PaymentGateway } from './payments.service.js';
import { SANDBOX_TEST_CARDS } from './sandbox-cards.js';

let h: Harness;
let gateway: PaymentGateway;
/** Every number a card in this file opened to, and every outcome: the final scan looks for them. */
const numbersUsed = new Set<string>();
const outcomes: unknown[] = [];

beforeAll(async () => {
  h = await startHarness({}, { poolSize: 12 });
  gateway = createPaymentGateway(h.config.paymentGateway, { db: h.db });
});
afterAll(() => h.close());

/** A card that opens to `number` and counts how often it was opened. */
function cardOf(number: string, network = number.startsWith('5') ? 'MASTERCARD' : 'VISA'): CardForCharge & { reveals: number } {
  const digits = number.replace(/\D/g, '');
  numbersUsed.add(digits);
  const card = {
    cardId: randomUUID(),
    last4: digits.slice(-4),
    network,
    reveals: 0,
    revealNumber: () => {
      card.reveals += 1;
      return number;
    },
  };
  return card;
}

async function charge(key: string, card: CardForCharge, amount = 1500, currency = 'USD'): Promise<ChargeOutcome> {
  const outcome = await gateway.charge({ idempotencyKey: key, card, amount, currency, description: 'Gift card $25' });
  outcomes.push(outcome);
  return outcome;
}

async function refund(key: string, chargeReference: string, amount: number, currency = 'USD') {
  const outcome = await gateway.refund({ idempotencyKey: key, chargeReference, amount, currency });
  outcomes.push(outcome);
  return outcome;
}

const chargeRows = (key: string) => h.db.selectFrom('sandbox_charges').selectAll().where('idempotency_key', '=', key).execute();
const refundRows = (key: string) => h.db.selectFrom('sandbox_refunds').selectAll().where('idempotency_key', '=', key).execute();

const REFERENCE = expect.stringMatching(/^ch_sbx_[0-9a-f]{32}$/);

describe('the sandbox test cards', () => {
  it.each([
    ['4242 4242 4242 4242', 'APPROVED', { status: 'APPROVED', reference: REFERENCE }],
    ['5555 5555 5555 4444', 'APPROVED', { status: 'APPROVED', reference: REFERENCE }],
    ['4000 0000 0000 0002', 'DECLINED GENERIC', { status: 'DECLINED', code: 'GENERIC', message: 'The card was declined.' }],
    ['4000 0000 0000 9995', 'DECLINED INSUFFICIENT_FUNDS', { status: 'DECLINED', code: 'INSUFFICIENT_FUNDS', message: 'The card has insufficient funds.' }],
    ['4000 0000 0000 0341', 'DECLINED CARD_DECLINED', { status: 'DECLINED', code: 'CARD_DECLINED', message: 'The card was declined by its issuer.' }],
    ['4000 0000 0000 0119', 'RETRYABLE', { status: 'RETRYABLE', message: expect.stringContaining('nothing was charged') }],
    ['4000 0000 0000 0077', 'UNKNOWN', { status: 'UNKNOWN', message: expect.stringContaining('answer was lost') }],
  ])('%s answers %s on the first call of a key', async (number, _label, expected) => {
    const key = unique('charge');
    expect(await charge(key, cardOf(number))).toEqual(expected);
    const rows = await chargeRows(key);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ amount: 1500, currency: 'USD', card_last4: number.slice(-4), attempts: 1 });
  });

  it('approves a card number that is not in the table', async () => {
    expect(await charge(unique('charge'), cardOf(randomCardNumber('4')))).toEqual({ status: 'APPROVED', reference: REFERENCE });
  });

  it('compares digits only: spaces and dashes in the opened number change nothing', async () => {
    expect(await charge(unique('charge'), cardOf('4000-0000-0000-9995'))).toMatchObject({ status: 'DECLINED', code: 'INSUFFICIENT_FUNDS' });
    expect(await charge(unique('charge'), cardOf('4000000000000002'))).toMatchObject({ status: 'DECLINED', code: 'GENERIC' });
  });

  it('publishes the table the README and the seed print: every entry a Luhn-valid number with an outcome and a description', async () => {
    expect(SANDBOX_TEST_CARDS.map((c) => [c.number, c.outcome])).toEqual([
      ['4242 4242 4242 4242', 'APPROVED'],
      ['5555 5555 5555 4444', 'APPROVED'],
      ['4000 0000 0000 0002', 'DECLINED (GENERIC)'],
      ['4000 0000 0000 9995', 'DECLINED (INSUFFICIENT_FUNDS)'],
      ['4000 0000 0000 0341', 'DECLINED (CARD_DECLINED)'],
      ['4000 0000 0000 0119', 'RETRYABLE, then APPROVED'],
      ['4000 0000 0000 0077', 'UNKNOWN, then APPROVED'],
    ]);
    for (const card of SANDBOX_TEST_CARDS) {
      expect(luhnValid(card.number.replaceAll(' ', ''))).toBe(true);
      expect(card.description.length).toBeGreaterThan(10);
    }
  });
});

describe('one charge per idempotency key', () => {
  it('a replay answers the stored approval without opening the card again or adding a row', async () => {
    const key = unique('charge');
    const card = cardOf('4242 4242 4242 4242');
    const first = await charge(key, card);
    expect(first).toEqual({ status: 'APPROVED', reference: REFERENCE });
    expect(await charge(key, card)).toEqual(first);
    expect(await charge(key, card)).toEqual(first);
    expect(card.reveals).toBe(1);
    expect(await chargeRows(key)).toMatchObject([{ status: 'APPROVED', reference: (first as { reference: string }).reference, attempts: 1 }]);
  });

  it('a replay of a declined charge answers the same decline: a decline is final for its key', async () => {
    const key = unique('charge');
    const card = cardOf('4000 0000 0000 0341');
    expect(await charge(key, card)).toMatchObject({ status: 'DECLINED', code: 'CARD_DECLINED' });
    expect(await charge(key, card)).toMatchObject({ status: 'DECLINED', code: 'CARD_DECLINED' });
    expect(card.reveals).toBe(1);
    expect(await chargeRows(key)).toMatchObject([{ status: 'DECLINED', decline_code: 'CARD_DECLINED', reference: null }]);
  });

  it('4000 0000 0000 0119: the retry with the same key is approved, one row with two attempts', async () => {
    const key = unique('charge');
    const card = cardOf('4000 0000 0000 0119');
    expect(await charge(key, card)).toMatchObject({ status: 'RETRYABLE' });
    expect(await chargeRows(key)).toMatchObject([{ status: 'RETRYABLE', reference: null, attempts: 1 }]);
    const retry = await charge(key, card);
    expect(retry).toEqual({ status: 'APPROVED', reference: REFERENCE });
    expect(await charge(key, card)).toEqual(retry);
    expect(card.reveals).toBe(2);
    expect(await chargeRows(key)).toMatchObject([{ status: 'APPROVED', reference: (retry as { reference: string }).reference, attempts: 2 }]);
    // Another purchase on the same card starts over: the first attempt of each key fails.
    expect(await charge(unique('charge'), card)).toMatchObject({ status: 'RETRYABLE' });
  });

  it('4000 0000 0000 0077: the unknown charge went through; the retry with the same key answers it: one charge', async () => {
    const key = unique('charge');
    const card = cardOf('4000 0000 0000 0077');
    expect(await charge(key, card)).toMatchObject({ status: 'UNKNOWN' });
    const [recorded] = await chargeRows(key);
    expect(recorded).toMatchObject({ status: 'APPROVED', reference: REFERENCE, attempts: 1 });
    expect(await charge(key, card)).toEqual({ status: 'APPROVED', reference: recorded!.reference });
    expect(await charge(key, card)).toEqual({ status: 'APPROVED', reference: recorded!.reference });
    expect(await chargeRows(key)).toHaveLength(1);
  });

  it('refuses a key reused with another amount, currency or card, changing nothing', async () => {
    const key = unique('charge');
    const card = cardOf('4242 4242 4242 4242');
    const first = await charge(key, card, 1500, 'USD');
    const before = await chargeRows(key);
    for (const [again, amount, currency] of [
      [card, 1600, 'USD'],
      [card, 1500, 'EUR'],
      [cardOf('5555 5555 5555 4444'), 1500, 'USD'],
    ] as const) {
      await expect(charge(key, again, amount, currency)).rejects.toMatchObject({ name: 'PaymentRequestError', code: 'IDEMPOTENCY_MISMATCH' });
    }
    expect(await chargeRows(key)).toEqual(before);
    expect(await charge(key, card, 1500, 'USD')).toEqual(first);
  });

  it('refuses a malformed request before opening the card or recording anything', async () => {
    const card = cardOf('4242 4242 4242 4242');
    const cases: [Partial<Parameters<PaymentGateway['charge']>[0]>, string][] = [
      [{ amount: 0 }, 'INVALID_AMOUNT'],
      [{ amount: -100 }, 'INVALID_AMOUNT'],
      [{ amount: 12.5 }, 'INVALID_AMOUNT'],
      [{ amount: Number.MAX_SAFE_INTEGER + 1 }, 'INVALID_AMOUNT'],
      [{ currency: 'usd' }, 'INVALID_CURRENCY'],
      [{ currency: 'XYZ' }, 'INVALID_CURRENCY'],
      [{ idempotencyKey: '' }, 'INVALID_IDEMPOTENCY_KEY'],
      [{ idempotencyKey: 'k'.repeat(256) }, 'INVALID_IDEMPOTENCY_KEY'],
      [{ card: { ...card, last4: '42' } }, 'INVALID_CARD'],
    ];
    for (const [override, code] of cases) {
      const key = unique('charge');
      const request = { idempotencyKey: key, card, amount: 1500, currency: 'USD', description: 'x', ...override };
      const error = await gateway.charge(request).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(PaymentRequestError);
      expect(error).toMatchObject({ code });
      expect(await chargeRows(key)).toEqual([]);
    }
    expect(card.reveals).toBe(0);
  });

  it('answers UNKNOWN, not an exception, when its database call fails mid-way', async () => {
    const failing = {
      transaction: () => ({
        execute: async () => {
          throw new Error('Connection terminated unexpectedly');
        },
      }),
    } as unknown as Kysely<DB>;
    const broken = createPaymentGateway('sandbox', { db: failing });
    const card = cardOf('4242 4242 4242 4242');
    const request = { idempotencyKey: unique('charge'), card, amount: 1500, currency: 'USD', description: 'x' };
    expect(await broken.charge(request)).toEqual({ status: 'UNKNOWN', message: expect.stringContaining('Connection terminated unexpectedly') });
    expect(await broken.refund({ idempotencyKey: unique('refund'), chargeReference: 'ch_sbx_x', amount: 1, currency: 'USD' })).toMatchObject({
      status: 'UNKNOWN',
    });
    // The retry with the same key on a working database charges once.
    expect(await charge(request.idempotencyKey, card)).toMatchObject({ status: 'APPROVED' });
    expect(await chargeRows(request.idempotencyKey)).toHaveLength(1);
  });
});

describe('refunds', () => {
  async function approvedCharge(amount: number): Promise<string> {
    const outcome = await charge(unique('charge'), cardOf('4242 4242 4242 4242'), amount);
    if (outcome.status !== 'APPROVED') throw new Error(`charge: ${JSON.stringify(outcome)}`);
    return outcome.reference;
  }

  const refundedOf = async (reference: string) =>
    (await h.db.selectFrom('sandbox_charges').select('refunded_amount').where('reference', '=', reference).executeTakeFirstOrThrow()).refunded_amount;

  it('refunds once per key, and never more than the charged amount in total', async () => {
    const reference = await approvedCharge(1000);
    const first = await refund('refund-a-' + reference, reference, 600);
    expect(first).toEqual({ status: 'APPROVED', reference: expect.stringMatching(/^re_sbx_[0-9a-f]{32}$/) });
    expect(await refund('refund-a-' + reference, reference, 600)).toEqual(first);
    expect(await refundRows('refund-a-' + reference)).toHaveLength(1);
    expect(await refundedOf(reference)).toBe(600);

    expect(await refund('refund-b-' + reference, reference, 401)).toMatchObject({ status: 'DECLINED', code: 'EXCEEDS_CHARGED_AMOUNT' });
    expect(await refundedOf(reference)).toBe(600);
    expect(await refund('refund-c-' + reference, reference, 400)).toMatchObject({ status: 'APPROVED' });
    expect(await refundedOf(reference)).toBe(1000);
    expect(await refund('refund-d-' + reference, reference, 1)).toMatchObject({ status: 'DECLINED', code: 'EXCEEDS_CHARGED_AMOUNT' });
    // A declined refund is final for its key too.
    expect(await refund('refund-b-' + reference, reference, 401)).toMatchObject({ status: 'DECLINED', code: 'EXCEEDS_CHARGED_AMOUNT' });
    expect(await refundedOf(reference)).toBe(1000);
  });

  it('declines a refund of an unknown reference, of a declined charge, or in another currency', async () => {
    expect(await refund(unique('refund'), 'ch_sbx_nothing', 100)).toMatchObject({ status: 'DECLINED', code: 'UNKNOWN_CHARGE' });
    const declined = await charge(unique('charge'), cardOf('4000 0000 0000 0002'));
    expect(declined.status).toBe('DECLINED');
    const reference = await approvedCharge(500);
    expect(await refund(unique('refund'), reference, 100, 'EUR')).toMatchObject({ status: 'DECLINED', code: 'CURRENCY_MISMATCH' });
    expect(await refundedOf(reference)).toBe(0);
  });

  it('refuses a refund key reused for another charge or amount, changing nothing', async () => {
    const reference = await approvedCharge(1000);
    const other = await approvedCharge(1000);
    const key = unique('refund');
    await refund(key, reference, 100);
    await expect(refund(key, reference, 200)).rejects.toMatchObject({ name: 'PaymentRequestError', code: 'IDEMPOTENCY_MISMATCH' });
    await expect(refund(key, other, 100)).rejects.toMatchObject({ name: 'PaymentRequestError', code: 'IDEMPOTENCY_MISMATCH' });
    expect(await refundedOf(reference)).toBe(100);
    expect(await refundedOf(other)).toBe(0);
    expect(await refundRows(key)).toHaveLength(1);
  });
});

describe('cardForCharge (the cards module opens a linked card for the gateway)', () => {
  it('gives last 4 and network, opens the number only when asked, and only for the card owner', async () => {
    const user = await h.newUser();
    const linked = await h.linkCard(user.token);
    numbersUsed.add(linked.number);
    const card = await cardForCharge(h.db, h.security, dbId(user.id), dbId(linked.id));
    expect(card).toMatchObject({ cardId: dbId(linked.id), last4: linked.number.slice(-4), network: 'VISA' });
    // Serialising the card (a log line, an event) shows no number: only the closure can open it.
    expect(JSON.stringify(card)).not.toContain(linked.number);
    expect(await card!.revealNumber()).toBe(linked.number);

    const key = unique('charge');
    expect(await charge(key, card!)).toMatchObject({ status: 'APPROVED' });
    expect(await chargeRows(key)).toMatchObject([{ card_last4: linked.number.slice(-4), network: 'VISA' }]);

    const stranger = await h.newUser();
    expect(await cardForCharge(h.db, h.security, dbId(stranger.id), dbId(linked.id))).toBeUndefined();
    const res = await h.gql(
      'mutation($input: UnlinkCardInput!) { unlinkCard(input: $input) { userErrors { code } } }',
      { input: { cardId: linked.id } },
      user.token,
    );
    expect(res.data.unlinkCard.userErrors).toEqual([]);
    expect(await cardForCharge(h.db, h.security, dbId(user.id), dbId(linked.id))).toBeUndefined();
  });
});

describe.runIf(databaseKind() === 'postgres')('racing calls, on real Postgres', () => {
  it('10 first calls of one key racing past the lookup make exactly one charge, on real Postgres', async () => {
    // Every call opens the card after finding no row for the key, and none goes on until all ten
    // have: all ten then insert at once, and the unique key alone decides which one charges.
    const racers = 10;
    let arrived = 0;
    let release!: () => void;
    const allArrived = new Promise<void>((resolve) => (release = resolve));
    const card = cardOf('4242 4242 4242 4242');
    const racingCard: CardForCharge = {
      ...card,
      revealNumber: async () => {
        arrived += 1;
        if (arrived === racers) release();
        await allArrived;
        return card.revealNumber();
      },
    };
    const key = unique('charge');
    const results = await Promise.all(Array.from({ length: racers }, () => charge(key, racingCard)));
    expect(card.reveals).toBe(racers);
    const [first] = results;
    expect(first).toEqual({ status: 'APPROVED', reference: REFERENCE });
    for (const result of results) expect(result).toEqual(first);
    expect(await chargeRows(key)).toHaveLength(1);
  });

  it('20 concurrent calls of a 4000 0000 0000 0119 key: one row, approved at most once, on real Postgres', async () => {
    const key = unique('charge');
    const card = cardOf('4000 0000 0000 0119');
    const results = await Promise.all(Array.from({ length: 20 }, () => charge(key, card)));
    // The call that recorded the first attempt fails; every later one is a retry that finds it approved or approves it.
    expect(results.filter((r) => r.status === 'RETRYABLE')).toHaveLength(1);
    const approved = results.filter((r) => r.status === 'APPROVED');
    expect(approved).toHaveLength(19);
    expect(new Set(approved.map((r) => (r as { reference: string }).reference)).size).toBe(1);
    expect(await chargeRows(key)).toMatchObject([{ status: 'APPROVED', attempts: 2 }]);
  });

  it('10 concurrent refunds of 30 on a charge of 100 approve exactly 3, and one key raced 10 times refunds once, on real Postgres', async () => {
    const outcome = await charge(unique('charge'), cardOf('4242 4242 4242 4242'), 100);
    const reference = (outcome as { reference: string }).reference;
    const results = await Promise.all(Array.from({ length: 10 }, () => refund(unique('refund'), reference, 30)));
    expect(results.filter((r) => r.status === 'APPROVED')).toHaveLength(3);
    expect(results.filter((r) => r.status === 'DECLINED' && r.code === 'EXCEEDS_CHARGED_AMOUNT')).toHaveLength(7);

    const second = await charge(unique('charge'), cardOf('4242 4242 4242 4242'), 100);
    const secondReference = (second as { reference: string }).reference;
    const key = unique('refund');
    const same = await Promise.all(Array.from({ length: 10 }, () => refund(key, secondReference, 60)));
    for (const result of same) expect(result).toEqual(same[0]);
    expect(same[0]!.status).toBe('APPROVED');
    expect(await refundRows(key)).toHaveLength(1);
    const rows = await h.db.selectFrom('sandbox_charges').select(['reference', 'refunded_amount']).where('reference', 'in', [reference, secondReference]).execute();
    expect(Object.fromEntries(rows.map((r) => [r.reference, r.refunded_amount]))).toEqual({ [reference]: 90, [secondReference]: 60 });
  });
});

describe('card numbers', () => {
  // Runs last in this file: it scans what the tests above left.
  it('no sandbox row and no outcome holds a card number: every column of every row is scanned', async () => {
    const charges = await h.db.selectFrom('sandbox_charges').selectAll().execute();
    const refunds = await h.db.selectFrom('sandbox_refunds').selectAll().execute();
    expect(charges.length).toBeGreaterThan(20);
    expect(refunds.length).toBeGreaterThan(5);
    // Ids and references are uuids and 32 hex digits: identifiers, not numbers.
    const text = JSON.stringify([charges, refunds, outcomes]).replace(/[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}|[0-9a-f]{32}/g, '');
    expect(numbersUsed.size).toBeGreaterThan(5);
    for (const number of numbersUsed) expect(text).not.toContain(number);
    expect(text.match(/\d{12,}/g)).toBeNull();
  });
});
