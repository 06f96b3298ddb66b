/**
 * The sequencer (src/outbox/outbox.repository.ts, `sequence_events`): committed events get
 * unique, gap-free positions in id order, whatever runs at once. Concurrent sequencers and
 * writers prove something only on real Postgres (PGlite has one connection and serializes
 * everything); the plain case runs on both.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseKind, startHarness, type Harness } from '../../test/harness.js';
import { insertEvents, sequenceCommitted, sequenceEvents } from './outbox.repository.js';

let h: Harness;

beforeAll(async () => {
  h = await startHarness({}, { poolSize: 20 });
});
afterAll(() => h.close());

const writeEvents = (count: number) =>
  h.db.transaction().execute(async (trx) => {
    const ids = Array.from({ length: count }, () => randomUUID());
    await insertEvents(trx, ids.map((subject_id) => ({ topic: 'CASHBACK', type: 'PENDING', subject_type: 'Cashback', subject_id })));
    return ids;
  });

const positionsOf = (subjectIds: string[]) =>
  h.db.selectFrom('events').select(['id', 'position']).where('subject_id', 'in', subjectIds).orderBy('id').execute();

/** Every position from 1 to the head is taken by exactly one event, in any snapshot. */
async function expectGapFree() {
  const row = await h.db
    .selectFrom('events')
    .select((eb) => [eb.fn.countAll<string>().as('count'), eb.fn.max('position').as('head')])
    .where('position', 'is not', null)
    .executeTakeFirstOrThrow();
  expect(Number(row.count)).toBe(Number(row.head ?? 0));
}

describe('the sequencer', () => {
  it('gives committed events the next positions in id order and answers the new head', async () => {
    const subjects = await writeEvents(3);
    const result = await sequenceEvents(h.db);
    const rows = await positionsOf(subjects);
    expect(rows.every((r) => r.position !== null)).toBe(true);
    const positions = rows.map((r) => Number(r.position));
    // In id order, consecutive (other files' events may come before or after, not between, on PGlite).
    expect(positions).toEqual([...positions].sort((a, b) => a - b));
    expect(result === null || result.head >= positions[2]!).toBe(true);
    await expectGapFree();
  });

  it.runIf(databaseKind() === 'postgres')(
    'gives events unique, gap-free positions while writers commit and eight sequencers run at once (real Postgres)',
    async () => {
      let writing = true;
      const failures: unknown[] = [];
      const sequencers = Array.from({ length: 8 }, async () => {
        while (writing) await sequenceEvents(h.db).catch((error: unknown) => failures.push(error));
      });
      const written = (await Promise.all(Array.from({ length: 8 }, async () => {
        const mine: string[] = [];
        for (let i = 0; i < 15; i++) mine.push(...(await writeEvents(1 + (i % 3))));
        return mine;
      }))).flat();
      writing = false;
      await Promise.all(sequencers);
      await sequenceCommitted(h.db);
      expect(failures).toEqual([]);
      const rows = await positionsOf(written);
      expect(rows).toHaveLength(written.length);
      expect(rows.every((r) => r.position !== null)).toBe(true);
      expect(new Set(rows.map((r) => r.position)).size).toBe(written.length);
      await expectGapFree();
    },
  );
});
