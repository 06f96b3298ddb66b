/**
 * Runs a migration's SQL script one statement at a time: PGlite's extended protocol takes one
 * statement per query. Statements end with a semicolon at the end of a line.
 */
import { sql, type Kysely } from 'kysely';

export async function runScript(db: Kysely<any>, script: string): Promise<void> {
  const statements = script
    .split(/;\s*$/m)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  for (const statement of statements) await sql.raw(statement).execute(db);
}
