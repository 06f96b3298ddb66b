/**
 * postinstall: prepares the embedded database template (see src/lib/pglite-template.ts) so the
 * first `npm start` is fast. Never fails the install: without it, the first start runs initdb.
 */
import fs from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { pgliteTemplatePath } from '../src/lib/pglite-template.js';

try {
  const target = pgliteTemplatePath();
  if (fs.existsSync(target)) {
    console.log(`hashback: embedded database template already prepared (${path.relative(process.cwd(), target)}).`);
  } else {
    const started = performance.now();
    const pglite = await PGlite.create();
    const dump = await pglite.dumpDataDir('gzip');
    await pglite.close();
    fs.mkdirSync(path.dirname(target), { recursive: true });
    const temporary = `${target}.${process.pid}.tmp`;
    fs.writeFileSync(temporary, Buffer.from(await dump.arrayBuffer()));
    fs.renameSync(temporary, target); // atomic: a concurrent reader never sees half a file
    console.log(`hashback: prepared the embedded database template in ${Math.round(performance.now() - started)} ms.`);
  }
} catch (error) {
  console.warn(`hashback: could not prepare the embedded database template (${(error as Error).message}); the first start will initialise it instead.`);
}
