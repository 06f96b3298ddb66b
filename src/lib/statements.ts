/**
 * Statements the large writes and reads of ingest are built from: a named prepared statement on a
 * Postgres server, and several data-modifying statements run as the steps of one; and statements
 * compiled (and prepared) once per shape (the public feed). Database plumbing that any module's
 * repository may use; no table of its own.
 */
import { createHash } from 'node:crypto';
import { sql, type Compilable, type CompiledQuery, type Kysely, type QueryResult, type RawBuilder } from 'kysely';
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
  return runPrepared(db, compiled, preparedName(compiled.sql));
}

/** The name a text is prepared under: a hash of it, so two texts never share one. */
const preparedName = (text: string) => `hb_${createHash('sha1').update(text).digest('base64url')}`;

async function runPrepared<R>(db: Kysely<DB>, compiled: CompiledQuery<R>, name: string): Promise<QueryResult<R>> {
  return db.getExecutor().provideConnection(async (connection) => {
    // Kysely's pg connection (a bundler may add a digit to the class name); PGlite's takes only text.
    if (!/^PostgresConnection\d*$/.test(connection.constructor.name)) return connection.executeQuery<R>(compiled);
    // pg takes a query config ({ text, name }) wherever it takes the text, and prepares named ones.
    return connection.executeQuery<R>({ ...compiled, sql: { text: compiled.sql, name } as unknown as string });
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

/** `select *` or `"table".*`: what a prepared statement must not return. */
const SELECTS_STAR = /select \*|"\w+"\.\*/i;

/** How many texts of one `statementsByShape` are prepared at most (see there). */
const MAX_PREPARED_SHAPES = 64;

/** Stands in for one value while a shape's statement is compiled; found again among its parameters. */
class Slot {
  constructor(readonly key: string) {}
}

/**
 * A read whose SQL text depends on a few choices (which filters are given, which columns, which
 * order) but not on the values: Kysely builds and compiles it once per shape, and each call runs
 * that text with its own values. Building and compiling the public feed's query on every request
 * cost about as much CPU as parsing the rows it returned.
 *
 * `build` receives `shape` (everything else it decides on, named by `shapeKey`: two shapes with one
 * key must build one text) and, for each value of `values` that is given, a stand-in, null for each
 * that is not; which values are given is part of the shape too. Every stand-in must reach the
 * statement as a parameter, as Kysely passes values: not through `sql.raw`, `sql.ref` or a
 * computation (a statement with a parameter that is not a stand-in fails when its shape is first
 * compiled, so no value can be frozen into a text). At most `maxShapes` shapes are kept, the oldest
 * going first: shapes follow the columns an operation asks for, which clients choose. A text serves
 * every database of the process: Postgres and the embedded one compile alike.
 *
 * On a Postgres server the texts run as named prepared statements (see `executePrepared`; each
 * selects named columns): planning was about 40% of the public feed's Postgres CPU per request.
 * Only the first `MAX_PREPARED_SHAPES` texts are prepared; a connection keeps what it prepared, and
 * a client choosing ever new columns must not make it keep ever more.
 */
export function statementsByShape<V extends Record<string, unknown>, S, R>(options: {
  build: (db: Kysely<DB>, shape: S, values: { [K in keyof V]: V[K] | null }) => Compilable<R>;
  maxShapes: number;
}): (db: Kysely<DB>, shape: S, shapeKey: string, values: V) => Promise<R[]> {
  const compiled = new Map<string, { statement: CompiledQuery<R>; slots: (keyof V & string)[]; name: string | null }>();
  const prepared = new Set<string>();
  return async (db, shape, shapeKey, values) => {
    let key = shapeKey;
    for (const name in values) key += values[name] == null ? '-' : '+';
    let entry = compiled.get(key);
    if (!entry) {
      const standIns = {} as Record<string, Slot | null>;
      for (const name in values) standIns[name] = values[name] == null ? null : new Slot(name);
      const statement = options.build(db, shape, standIns as never).compile();
      const slots = statement.parameters.map((parameter) => {
        if (!(parameter instanceof Slot)) throw new Error(`statementsByShape: a parameter of ${shapeKey} is not one of the values`);
        return parameter.key as keyof V & string;
      });
      if (compiled.size >= options.maxShapes) compiled.delete(compiled.keys().next().value!);
      // A text that selects `*` is never prepared (see executePrepared), nor one past the first MAX_PREPARED_SHAPES.
      const name = SELECTS_STAR.test(statement.sql) ? null : preparedName(statement.sql);
      if (name && prepared.size < MAX_PREPARED_SHAPES) prepared.add(name);
      entry = { statement, slots, name: name && prepared.has(name) ? name : null };
      compiled.set(key, entry);
    }
    const parameters = entry.slots.map((name) => values[name]);
    const statement: CompiledQuery<R> = { ...entry.statement, parameters };
    return (entry.name ? await runPrepared(db, statement, entry.name) : await db.executeQuery(statement)).rows;
  };
}
