/**
 * The public feed's statements are prepared on a Postgres server (src/lib/statements.ts,
 * statementsByShape), within bounds: a text that selects `*` never is (a migration may change what
 * `*` means under a running server), and clients choosing ever new columns cannot make a connection
 * hold more than 64 of them. One pooled connection, so the test sees what the app's connection holds.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newShop } from './cashback-fixtures.js';
import { databaseKind, startHarness, type Harness } from './harness.js';

describe.runIf(databaseKind() === 'postgres')('prepared feed statements, on real Postgres', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({}, { poolSize: 1 });
    await newShop(h);
  });
  afterAll(() => h?.close());

  const preparedFeedTexts = async () =>
    (await sql<{ statement: string }>`select statement from pg_prepared_statements where statement like '%from "offers"%'`.execute(h.db)).rows.map((r) => r.statement);

  const feed = async (fields: string) => {
    const res = await h.gql(`{ offers(first: 5) { edges { node { ${fields} } } } }`, {}, null);
    expect(res.errors).toBeUndefined();
    expect(res.data.offers.edges.length).toBeGreaterThan(0);
  };

  it('prepares a page of named columns once, never a text that selects *, and at most 64 texts', async () => {
    await feed('id title');
    const first = await preparedFeedTexts();
    expect(first).toHaveLength(1);
    await feed('id title');
    expect(await preparedFeedTexts()).toEqual(first);

    // viewerHasActivated declares no columns: the page reads every column, with "offers".*.
    await feed('id viewerHasActivated');
    expect((await preparedFeedTexts()).filter((text) => text.includes('"offers".*'))).toEqual([]);

    const optional = ['description', 'kind', 'currency', 'startsAt', 'endsAt', 'channels', 'countries'];
    for (let mask = 1; mask < 2 ** optional.length; mask++) {
      await feed(['id', ...optional.filter((_, i) => mask & (1 << i))].join(' '));
    }
    expect(await preparedFeedTexts()).toHaveLength(64);
  });
});
