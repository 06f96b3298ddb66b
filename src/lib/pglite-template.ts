/**
 * A freshly initialised embedded cluster, kept as a tarball in node_modules/.cache by
 * `npm install` (postinstall). A new data folder starts from it in about a second instead of
 * running initdb (2–5 s). It is keyed by the PGlite version; without it, PGlite runs initdb.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);

function pgliteVersion(): string {
  const entry = require.resolve('@electric-sql/pglite');
  let dir = path.dirname(entry);
  while (!fs.existsSync(path.join(dir, 'package.json'))) dir = path.dirname(dir);
  return (JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version: string }).version;
}

export function pgliteTemplatePath(): string {
  const root = fileURLToPath(new URL('../../', import.meta.url));
  return path.join(root, 'node_modules', '.cache', 'hashback', `pglite-${pgliteVersion()}-initdb.tar.gz`);
}

/** The template for this PGlite version, if `npm install` made one. */
export function readPgliteTemplate(): Blob | undefined {
  try {
    return new Blob([fs.readFileSync(pgliteTemplatePath())]);
  } catch {
    return undefined;
  }
}
