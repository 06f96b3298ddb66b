/**
 * A freshly initialised embedded cluster, kept as a tarball in node_modules/.cache by
 * `npm install` (postinstall). A new data folder starts from it in about a second instead of
 * running initdb (2–5 s). It is keyed by the PGlite version; without it, PGlite runs initdb.
 * The cache is the one of the node_modules holding PGlite, so the sources (under tsx) and the
 * compiled server in dist/ find the same file.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);

/** PGlite's package folder (node_modules/@electric-sql/pglite) and version. */
function pglitePackage(): { dir: string; version: string } {
  const entry = require.resolve('@electric-sql/pglite');
  let dir = path.dirname(entry);
  while (!fs.existsSync(path.join(dir, 'package.json'))) dir = path.dirname(dir);
  const { version } = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version: string };
  return { dir, version };
}

export function pgliteTemplatePath(): string {
  const { dir, version } = pglitePackage();
  const nodeModules = path.resolve(dir, '..', '..');
  return path.join(nodeModules, '.cache', 'hashback', `pglite-${version}-initdb.tar.gz`);
}

/** The template for this PGlite version, if `npm install` made one. */
export function readPgliteTemplate(): Blob | undefined {
  try {
    return new Blob([fs.readFileSync(pgliteTemplatePath())]);
  } catch {
    return undefined;
  }
}
