/** Writes schema/schema.graphql from the code (`npm run codegen` runs it; CI checks for drift). */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { printSchemaSdl } from '../src/schema/index.js';

const target = fileURLToPath(new URL('../schema/schema.graphql', import.meta.url));
fs.writeFileSync(target, printSchemaSdl());
console.log(`Wrote ${target}`);
