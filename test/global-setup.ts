/**
 * Prepares one database per project and run: for PGlite a migrated template that every test
 * file loads in memory (much faster than initdb per file); for Postgres a fresh database on
 * TEST_DATABASE_URL's server, migrated once, dropped when the run ends.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { openDatabase } from '../src/database.js';
import { migrateToLatest } from '../src/migrate.js';

declare module 'vitest' {
  export interface ProvidedContext {
    database: { kind: 'pglite'; templatePath: string } | { kind: 'postgres'; url: string };
  }
}

async function adminQuery(serverUrl: string, statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  if (project.name === 'postgres') {
    const serverUrl = process.env.TEST_DATABASE_URL!;
    const name = `hashback_test_${Date.now()}_${randomBytes(3).toString('hex')}`;
    await adminQuery(serverUrl, `create database ${name}`);
    const url = new URL(serverUrl);
    url.pathname = `/${name}`;
    const database = await openDatabase({ url: url.toString(), poolSize: 2 });
    await migrateToLatest(database.db);
    await database.close();
    project.provide('database', { kind: 'postgres', url: url.toString() });
    return async () => {
      await adminQuery(serverUrl, `drop database if exists ${name} with (force)`);
    };
  }

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hashback-test-'));
  const templatePath = path.join(dir, 'template.tar');
  const database = await openDatabase({ memory: true });
  await migrateToLatest(database.db);
  fs.writeFileSync(templatePath, Buffer.from(await (await database.dump!()).arrayBuffer()));
  await database.close();
  project.provide('database', { kind: 'pglite', templatePath });
  return async () => {
    fs.rmSync(dir, { recursive: true, force: true });
  };
}
