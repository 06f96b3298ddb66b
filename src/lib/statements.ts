/**
 * Statements the large writes and reads of ingest are built from: a named prepared statement on a
 * Postgres server, and several data-modifying statements run as the steps of one. Database
 * plumbing that any module's repository may use; no table of its own.
 */
import { createHash } from 'node:crypto';
import { sql, type Kysely, type QueryResult, type RawBuilder } from 'kysely';
import type { DB } from '../../db/types.js';

/**
 * Runs `query` (in a transaction, or alone) as a named prepared statement when the database is a Postgres server, so
 * that each connection parses it once and plans it at most a few times: the large statements
 * of ingest (one read, one write, whatever the batch) cost Postgres more to parse and plan than to
 * run. The name is a hash of the text, so a text is prepared once per connection and two texts
 * never share a name. Only for statements whose result columns never change with the schema
 * (no `*` in the output): a prepared statement fails once a migration changes what `*` means.
 * On the embedded database (one session, no protocol cost to speak of) it runs as usual.
 */
export async function executePrepared<R>(db: Kysely<DB>, query: RawBuilder<R>): Promise<QueryResult<R>> {
  const compiled = query.compile(db);
  return db.getExecutor().provideConnection(async (connection) => {
    // Kysely's pg connection (a bundler may add a digit to the class name); PGlite's takes only text.
    if (!/^PostgresConnection\d*$/.test(connection.constructor.name)) return connection.executeQuery<R>(compiled);
    // pg takes a query config ({ text, name }) wherever it takes the text, and prepares named ones.
    const named = { text: compiled.sql, name: `hb_${createHash('sha1').update(compiled.sql).digest('base64url')}` };
    return connection.executeQuery<R>({ ...compiled, sql: named as unknown as string });
  });
}

/** One step of a combined write (`writeSteps`): a data-modifying statement. */
export interface WriteStep {
  statement: RawBuilder<unknown>;
  /** The step's name, for a later step that reads what this one returned (e.g. a job per new e-mail row). */
  name?: string;
  /**
   * The statement fails with a serialization failure (40001, retried by the caller) unless this
   * step returns exactly this many rows (it must end in RETURNING): nothing of the write stays,
   * even when it is its own transaction.
   */
  expect?: number;
}

/**
 * Runs data-modifying statements as the steps of ONE statement (`with s0 as (…), s1 as (…) select
 * …`): one round trip and one plan instead of one per table, which is most of what a small ingest
 * request costs. Every step runs, in one snapshot, and no step sees another's rows: steps must
 * write different rows, and foreign keys between the rows they insert must be deferred (they are:
 * transactions ↔ cashbacks and their history are checked at commit). `db` is the caller's
 * transaction, or the database itself when this one statement is the whole transaction.
 */
export async function writeSteps(db: Kysely<DB>, steps: readonly WriteStep[]): Promise<void> {
  if (steps.length === 0) return;
  const cteName = (step: WriteStep, i: number) => step.name ?? `s${i}`;
  const expected = steps.flatMap((step, i) => (step.expect !== undefined ? [sql`(select count(*) from ${sql.table(cteName(step, i))}) <> ${step.expect}`] : []));
  const ctes = sql.join(steps.map((step, i) => sql`${sql.table(cteName(step, i))} as (${step.statement})`));
  const select = sql.join([
    ...(expected.length
      ? [sql`case when ${sql.join(expected, sql` or `)} then raise_serialization_failure('a row this write expected changed concurrently') end as failed`]
      : []),
    sql`1 as done`,
  ]);
  await executePrepared(db, sql`with ${ctes} select ${select}`);
}

