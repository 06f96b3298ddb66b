/**
 * `npm start`: brings dist/ up to date with the sources (scripts/build.mjs; one line on stderr when
 * it compiled or bundled something) and runs the compiled server, bundled into one file, in this
 * process, so a start pays neither tsx's loader, nor a compile of unchanged files, nor Node's
 * loader visiting 1,200 module files. When only the bundle could not be built, it runs the
 * compiled files of dist/src/ (the build's line says why).
 *
 * When dist/ cannot be built (a read-only install, a folder owned by another user, a source file
 * that does not compile), the server runs from the sources through tsx instead, as `npm start` did
 * before, and says so in one line.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, describeBuild, MAIN, ROOT } from './build.mjs';

let entry = MAIN;
try {
  const result = await build();
  if (result.built > 0 || result.bundle?.built || result.bundle?.error) console.error(describeBuild(result));
  if (result.bundle?.file) entry = result.bundle.file;
} catch (error) {
  // tsx compiles only the files the server imports: a broken file it does not import (work in
  // progress) does not stop it, and one it does import fails there with the same message.
  const message = String(error.message).replace(/\s*\n\s*/g, ' ');
  const why = Array.isArray(error.errors) ? `a source file does not compile: ${message}` : message;
  console.error(`hashback: could not build dist/ (${why}); running the sources with tsx instead (a slower start).`);
  const { register } = await import('tsx/esm/api');
  register();
  entry = path.join(ROOT, 'src', 'main.ts');
}
// With LOG_LEVEL=debug (where start-up failures show their stack), stack traces name the
// TypeScript file and line, as under tsx. Not by default: reading every loaded module's source map
// (node_modules' too) costs about 5% of a start.
if (/^(debug|trace)$/i.test(process.env.LOG_LEVEL ?? '')) process.setSourceMapsEnabled(true);
await import(pathToFileURL(entry).href);
