/**
 * Writes schema/schema.graphql from the code (`npm run codegen` runs it). With `--check` it writes
 * nothing and fails when the committed file differs from what the code prints (CI).
 */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { printSchemaSdl } from '../src/schema/index.js';

const target = fileURLToPath(new URL('../schema/schema.graphql', import.meta.url));
const printed = printSchemaSdl();

if (process.argv.includes('--check')) {
  const committed = fs.existsSync(target) ? fs.readFileSync(target, 'utf8') : '';
  if (committed !== printed) {
    console.error('schema/schema.graphql differs from the schema the code prints: run `npm run codegen` and commit.');
    process.exit(1);
  }
  console.log('schema/schema.graphql matches the code.');
} else {
  fs.writeFileSync(target, printed);
  console.log(`Wrote ${target}`);
}
