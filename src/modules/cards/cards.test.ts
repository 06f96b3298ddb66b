import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dbId, randomCardNumber, startHarness, type Harness } from '../../../test/harness.js';
import { loadSecurity } from '../../security.js';
import { decryptCardNumber, generateCardKeys } from './card-crypto.js';
import { rotateCardKeys } from './cards.service.js';

const LINK = `mutation($input: LinkCardInput!) {
  linkCard(input: $input) { card { id network first6 last4 expMonth expYear linkedAt } userErrors { field message code } }
}`;
const UNLINK = `mutation($input: UnlinkCardInput!) { unlinkCard(input: $input) { card { id unlinkedAt } userErrors { field message code } } }`;
const nextYear = new Date().getUTCFullYear() + 1;

let h: Harness;
const responses: string[] = [];

beforeAll(async () => {
  h = await startHarness();
  // Every answer this file receives, to search for card numbers at the end.
  const gql = h.gql;
  h.gql = (async (...args: Parameters<typeof gql>) => {
    const res = await gql(...args);
    responses.push(JSON.stringify(res));
    return res;
  }) as typeof gql;
});
afterAll(() => h.close());

async function cardCount(userId: string): Promise<number> {
  const rows = await h.db.selectFrom('cards').select('id').where('user_id', '=', dbId(userId)).execute();
  return rows.length;
}

describe('linkCard', () => {
  it('links a card showing only network, first 6, last 4 and expiry; stores only ciphertext', async () => {
    const user = await h.newUser();
    const number = randomCardNumber('4');
    const spaced = number.replace(/(\d{4})(?=\d)/g, '$1 ');
    const res = await h.gql(LINK, { input: { number: spaced, expMonth: 7, expYear: nextYear } }, user.token);
    expect(res.data.linkCard.userErrors).toEqual([]);
    expect(res.data.linkCard.card).toMatchObject({ network: 'VISA', first6: number.slice(0, 6), last4: number.slice(-4), expMonth: 7, expYear: nextYear });
    const row = await h.db.selectFrom('cards').selectAll().where('id', '=', dbId(res.data.linkCard.card.id)).executeTakeFirstOrThrow();
    expect(row.ciphertext).not.toContain(number);
    expect(row.key_id).toBe(h.security.cards.ring.activeKeyId);
    expect(decryptCardNumber(h.security.cards.ring, { keyId: row.key_id!, ciphertext: row.ciphertext! })).toBe(number);
  });

  it('detects the network of each supported card', async () => {
    const user = await h.newUser();
    for (const [prefix, length, network] of [
      ['51', 16, 'MASTERCARD'],
      ['2221', 16, 'MASTERCARD'],
      ['37', 15, 'AMEX'],
      ['6011', 16, 'DISCOVER'],
    ] as const) {
      const res = await h.gql(LINK, { input: { number: randomCardNumber(prefix, length), expMonth: 1, expYear: nextYear } }, user.token);
      expect(res.data.linkCard.card?.network).toBe(network);
    }
  });

  it('refuses bad numbers, unknown networks and expired cards, storing nothing', async () => {
    const user = await h.newUser();
    const good = randomCardNumber('4');
    const badLuhn = good.slice(0, -1) + String((Number(good.slice(-1)) + 1) % 10);
    const cases: [Record<string, unknown>, string][] = [
      [{ number: badLuhn }, 'INVALID_CARD_NUMBER'],
      [{ number: `${good.slice(0, 8)}.${good.slice(8)}` }, 'INVALID_CARD_NUMBER'],
      [{ number: '123' }, 'INVALID_CARD_NUMBER'],
      [{ number: randomCardNumber('9') }, 'UNSUPPORTED_CARD_NETWORK'],
      [{ number: good, expMonth: 1, expYear: new Date().getUTCFullYear() - 1 }, 'CARD_EXPIRED'],
      [{ number: good, expMonth: 13 }, 'OUT_OF_RANGE'],
    ];
    for (const [input, code] of cases) {
      const res = await h.gql(LINK, { input: { expMonth: 12, expYear: nextYear, ...input } }, user.token);
      expect(res.data.linkCard.userErrors[0]?.code).toBe(code);
      expect(res.data.linkCard.card).toBeNull();
    }
    expect(await cardCount(user.id)).toBe(0);
  });

  it('refuses the same card twice for one user, and for another user without saying whose', async () => {
    const a = await h.newUser();
    const b = await h.newUser();
    const { number } = await h.linkCard(a.token);
    const again = await h.gql(LINK, { input: { number, expMonth: 12, expYear: nextYear } }, a.token);
    expect(again.data.linkCard.userErrors).toMatchObject([{ code: 'CARD_ALREADY_LINKED' }]);
    const other = await h.gql(LINK, { input: { number, expMonth: 12, expYear: nextYear } }, b.token);
    expect(other.data.linkCard.userErrors).toEqual([{ code: 'CARD_UNAVAILABLE', field: ['number'], message: 'This card cannot be linked.' }]);
    expect(await cardCount(a.id)).toBe(1);
    expect(await cardCount(b.id)).toBe(0);
  });

  it('links one card at most once under concurrent requests (meaningful on Postgres)', async () => {
    const users = await Promise.all([h.newUser(), h.newUser(), h.newUser()]);
    const fixed = randomCardNumber('55');
    const results = await Promise.all(
      users.map((u) => h.gql(LINK, { input: { number: fixed, expMonth: 12, expYear: nextYear } }, u.token)),
    );
    const linked = results.filter((r) => r.data.linkCard.card);
    expect(linked).toHaveLength(1);
    for (const r of results.filter((x) => !x.data.linkCard.card)) expect(r.data.linkCard.userErrors[0].code).toBe('CARD_UNAVAILABLE');
  });

  it('is for signed-in users only', async () => {
    const res = await h.gql(LINK, { input: { number: randomCardNumber(), expMonth: 12, expYear: nextYear } }, h.adminKey);
    expect(res.data.linkCard.userErrors[0].code).toBe('FORBIDDEN');
  });
});

describe('unlinkCard', () => {
  it('wipes the ciphertext, keeps the record, and frees the number', async () => {
    const a = await h.newUser();
    const { id, number } = await h.linkCard(a.token);
    const res = await h.gql(UNLINK, { input: { cardId: id } }, a.token);
    expect(res.data.unlinkCard.card.unlinkedAt).toEqual(expect.any(String));
    const row = await h.db.selectFrom('cards').selectAll().where('id', '=', dbId(id)).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ ciphertext: null, key_id: null, last4: number.slice(-4) });
    expect((await h.gql('{ viewer { cards { id } } }', {}, a.token)).data.viewer.cards).toEqual([]);
    const b = await h.newUser();
    expect((await h.linkCard(b.token, number)).id).toBeTruthy();
  });

  it("answers another user's card as not found and leaves it linked", async () => {
    const a = await h.newUser();
    const b = await h.newUser();
    const { id } = await h.linkCard(a.token);
    const res = await h.gql(UNLINK, { input: { cardId: id } }, b.token);
    expect(res.data.unlinkCard.userErrors).toMatchObject([{ code: 'NOT_FOUND' }]);
    expect((await h.gql(`{ node(id: "${id}") { id } }`, {}, b.token)).data.node).toBeNull();
    const row = await h.db.selectFrom('cards').select('unlinked_at').where('id', '=', dbId(id)).executeTakeFirstOrThrow();
    expect(row.unlinked_at).toBeNull();
  });
});

describe('key rotation', () => {
  it('re-encrypts under the new active key; old keys decrypt only through the ring; duplicates still found', async () => {
    const user = await h.newUser();
    const { id, number } = await h.linkCard(user.token);
    const fresh = generateCardKeys();
    const oldEntry = h.config.cardEncryptionKeys!;
    const newEntry = fresh.encryptionKeys.split(',')[0]!;
    const rotated = loadSecurity({ ...h.config, cardEncryptionKeys: `${newEntry},${oldEntry}` }, () => {});
    // Other test files' cards (on the shared Postgres database) use keys this ring lacks: left alone.
    const { rotated: moved } = await rotateCardKeys(h.db, rotated);
    expect(moved).toBeGreaterThanOrEqual(1);
    const row = await h.db.selectFrom('cards').selectAll().where('id', '=', dbId(id)).executeTakeFirstOrThrow();
    expect(row.key_id).toBe(rotated.cards.ring.activeKeyId);
    expect(decryptCardNumber(rotated.cards.ring, { keyId: row.key_id!, ciphertext: row.ciphertext! })).toBe(number);
    expect(() => decryptCardNumber(h.security.cards.ring, { keyId: row.key_id!, ciphertext: row.ciphertext! })).toThrow();
    expect((await rotateCardKeys(h.db, rotated)).rotated).toBe(0);
    // The fingerprint key did not change: the same number is still recognised.
    const again = await h.gql(LINK, { input: { number, expMonth: 12, expYear: nextYear } }, user.token);
    expect(again.data.linkCard.userErrors[0].code).toBe('CARD_ALREADY_LINKED');
  });
});

describe('key rotation with an incomplete ring', () => {
  it('leaves cards under a missing key untouched and counts them', async () => {
    const user = await h.newUser();
    const { id } = await h.linkCard(user.token);
    const before = await h.db.selectFrom('cards').select(['key_id', 'ciphertext']).where('id', '=', dbId(id)).executeTakeFirstOrThrow();
    const stranger = loadSecurity({ ...h.config, cardEncryptionKeys: generateCardKeys().encryptionKeys }, () => {});
    const result = await rotateCardKeys(h.db, stranger);
    expect(result.underUnknownKeys).toBeGreaterThanOrEqual(1);
    const after = await h.db.selectFrom('cards').select(['key_id', 'ciphertext']).where('id', '=', dbId(id)).executeTakeFirstOrThrow();
    expect(after).toEqual(before);
  });
});

describe('card numbers never leave the card store', () => {
  it('appear in no table, log line, response or error', async () => {
    const user = await h.newUser();
    const { number } = await h.linkCard(user.token);
    await h.gql(LINK, { input: { number, expMonth: 12, expYear: nextYear } }, user.token); // an error path
    await h.gql(`mutation { linkCard(input: { number: ${number}, expMonth: 1, expYear: ${nextYear} }) { card { id } } }`, {}, user.token);
    await h.gql(LINK, { input: { number: Number(number), expMonth: 1, expYear: nextYear } }, user.token);
    await h.gql(LINK, { input: { number, expMonth: 'x', expYear: nextYear } }, user.token);

    const needles = [number, number.replace(/(\d{4})(?=\d)/g, '$1 '), number.slice(0, 12)];
    for (const text of [...responses, ...h.logs]) for (const needle of needles) expect(text).not.toContain(needle);

    const columns = await sql<{ table_name: string; column_name: string }>`
      select table_name, column_name from information_schema.columns
      where table_schema = 'public' and data_type in ('text', 'character', 'character varying', 'jsonb', 'json', 'ARRAY')
    `.execute(h.db);
    expect(columns.rows.length).toBeGreaterThan(20);
    for (const { table_name, column_name } of columns.rows) {
      const hits = await sql<{ n: number }>`
        select count(*)::int as n from ${sql.table(table_name)} where ${sql.ref(column_name)}::text like ${`%${number.slice(0, 12)}%`}
      `.execute(h.db);
      expect(hits.rows[0]!.n, `${table_name}.${column_name}`).toBe(0);
    }
  });
});
