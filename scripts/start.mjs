/**
 * `npm start`: brings dist/ up to date with the sources (scripts/build.mjs; one line on stderr when
 * it compiled something) and runs the compiled server in this process, so a start pays neither
 * tsx's loader nor a compile of unchanged files.
 *
 * When dist/ cannot be written (a read-only install, a folder owned by another user), the server
 * runs from the sources through tsx instead, as `npm start` did before, and says so. A source that
 * does not compile stops the start with esbuild's message, as tsx would.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, describeBuild, MAIN, ROOT } from './build.mjs';

let entry = MAIN;
try {
  const result = await build();
  if (result.built > 0) console.error(describeBuild(result));
} catch (error) {
  if (Array.isArray(error.errors)) {
    // esbuild's own report already names the file, line and column.
    console.error(`hashback: cannot start: a source file does not compile.\n${error.message}`);
    process.exit(1);
  }
  console.error(`hashback: could not build dist/ (${error.message}); running the sources with tsx instead (a slower start).`);
  const { register } = await import('tsx/esm/api');
  register();
  entry = path.join(ROOT, 'src', 'main.ts');
}
// Stack traces name the TypeScript file and line, as under tsx.
process.setSourceMapsEnabled(true);
await import(pathToFileURL(entry).href);
