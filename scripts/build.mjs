/**
 * Compiles the server's TypeScript (src/ and db/, without tests) to JavaScript in dist/, one file
 * per source file, for `npm start`. `npm install` builds it (postinstall) and `npm start` rebuilds
 * whatever changed since, so a start never runs stale code; `npm run dev` and the tests keep
 * running the sources through tsx.
 *
 * It uses esbuild, the same compiler tsx runs the sources with (resolved through tsx, a runtime
 * dependency, so a production install without devDependencies builds too), with tsconfig.json's
 * options: the compiled server is the code tsx would run. Type checking is `npm run typecheck`'s
 * job, as it is under tsx; `tsc` would also take 10–30 s here, reading every dependency's types.
 *
 * What is up to date is kept in dist/.build.json: each source's mtime and size, and a
 * fingerprint of everything else that shapes the output (this file, tsconfig.json, esbuild's and
 * Node's versions). A changed source is recompiled alone; a changed fingerprint recompiles all;
 * outputs of deleted sources are removed. Every file is written to a temporary name and renamed,
 * so two starts building at once never leave a half-written file.
 *
 * The compiled server then goes into one file, dist/bundle/server.js (esbuild bundles dist/src/main.js
 * with its dependencies), which is what `npm start` runs: Node's loader resolving, reading and
 * compiling about 1,200 module files one by one was 40% of a start (1.1 s of a 2.5 s start on an
 * existing data folder; 0.45 s as one file). It is rebuilt when a source or node_modules (npm's
 * node_modules/.package-lock.json) changed. Left out of it, loaded by Node as usual: packages that
 * read files beside their own code (PGlite's WebAssembly, argon2's native addon, pino's transport
 * workers) and GraphiQL's 9 MB build, which the server loads only when GraphiQL is asked for. When
 * the bundle cannot be built, `npm start` runs dist/src/main.js and says why.
 *
 * `node scripts/build.mjs` builds what is stale (`--force`: everything) and prints one line.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const DIST = path.join(ROOT, 'dist');
/** The compiled entry point of `npm start`. */
export const MAIN = path.join(DIST, 'src', 'main.js');
/** What is up to date, inside dist/. */
const MANIFEST = '.build.json';
/** Folders compiled, relative to the root. */
const SOURCE_DIRS = ['src', 'db'];
/**
 * The one-file server `npm start` runs. Two folders below the root, as src/server/ is: the code
 * that finds files relative to its own (src/server/demo.ts's ../../demo/) finds the same ones.
 */
export const BUNDLE = path.join(DIST, 'bundle', 'server.js');
/** What the bundle starts from, relative to dist/. */
const BUNDLE_ENTRY = 'src/main.js';
/**
 * Imports the bundle leaves to Node: packages that load files relative to their own code, and
 * GraphiQL's build (9 MB of strings that would be parsed at every start; imported on demand).
 */
const BUNDLE_EXTERNAL = ['@electric-sql/pglite', '@node-rs/argon2', 'pino', 'pino-pretty', 'thread-stream', '@graphql-yoga/render-graphiql/graphiql'];
/**
 * Lines the bundle starts with: `require` for the CommonJS packages inside (Node's ESM has none),
 * and the root, from which the CommonJS packages that read `__dirname` are given their own folder.
 */
const BUNDLE_BANNER = [
  "import { createRequire as __hashbackCreateRequire } from 'node:module';",
  "import { fileURLToPath as __hashbackFileURLToPath } from 'node:url';",
  'const require = __hashbackCreateRequire(import.meta.url);',
  "const __hashbackPath = (relative) => __hashbackFileURLToPath(new URL(relative, new URL('../../', import.meta.url)));",
].join('\n');

/**
 * Folders the compiled code reads beside itself at run time (src/server/demo.ts serves ../../demo/
 * relative to its own file): dist/<name> links to <root>/<name>.
 */
const LINKED_DIRS = ['demo'];

/** Source files (root-relative, with forward slashes) that the server runs. */
function listSources(root) {
  const sources = [];
  for (const dir of SOURCE_DIRS) {
    const absolute = path.join(root, dir);
    if (!fs.existsSync(absolute)) continue;
    for (const entry of fs.readdirSync(absolute, { recursive: true, withFileTypes: true })) {
      if (!entry.isFile() || !entry.name.endsWith('.ts') || entry.name.endsWith('.test.ts') || entry.name.endsWith('.d.ts')) continue;
      sources.push(path.relative(root, path.join(entry.parentPath ?? entry.path, entry.name)).split(path.sep).join('/'));
    }
  }
  return sources.sort();
}

function outputOf(dist, source) {
  return path.join(dist, source.replace(/\.ts$/, '.js'));
}

function readManifest(dist) {
  try {
    const manifest = JSON.parse(fs.readFileSync(path.join(dist, MANIFEST), 'utf8'));
    return manifest && typeof manifest.fingerprint === 'string' && manifest.files && typeof manifest.files === 'object' ? manifest : undefined;
  } catch {
    return undefined;
  }
}

/** esbuild as this project's tsx resolves it: tsx declares it, this project does not. */
function loadEsbuild() {
  const fromTsx = createRequire(createRequire(import.meta.url).resolve('tsx/package.json'));
  const entry = fromTsx.resolve('esbuild');
  const version = fromTsx('esbuild/package.json').version;
  return { entry, version };
}

function writeAtomically(file, contents) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, contents);
  fs.renameSync(temporary, file);
}

function linkDirs(root, dist) {
  fs.mkdirSync(dist, { recursive: true });
  for (const name of LINKED_DIRS) {
    const link = path.join(dist, name);
    const target = path.join(root, name);
    if (fs.existsSync(link) || !fs.existsSync(target)) continue;
    try {
      // A junction needs no privilege on Windows and is a plain directory link elsewhere.
      fs.symlinkSync(process.platform === 'win32' ? target : path.relative(dist, target), link, 'junction');
    } catch (error) {
      if (error.code !== 'EEXIST') fs.cpSync(target, link, { recursive: true });
    }
  }
}

/**
 * Compiles what is stale in `root` (src/ and db/, with its tsconfig.json) into `dist`. Resolves with what it did: `built` files (0 when everything was up to
 * date), `total` sources, `ms`, and `reason` ('fresh' | 'missing' | 'changed' | 'toolchain' | 'forced').
 * Throws when a source does not compile (esbuild's message names the file and line) or dist/ cannot
 * be written.
 */
export async function build({ force = false, root = ROOT, dist = path.join(root, 'dist') } = {}) {
  const started = performance.now();
  const esbuild = loadEsbuild();
  const tsconfigText = fs.readFileSync(path.join(root, 'tsconfig.json'), 'utf8');
  const fingerprint = createHash('sha256')
    .update(fs.readFileSync(fileURLToPath(import.meta.url)))
    .update(tsconfigText)
    .update(`esbuild ${esbuild.version} node ${process.versions.node}`)
    .digest('hex');

  const previous = readManifest(dist);
  const reuse = !force && previous?.fingerprint === fingerprint ? previous.files : {};
  const sources = listSources(root);
  const files = {};
  const stale = [];
  for (const source of sources) {
    const stat = fs.statSync(path.join(root, source));
    const stamp = `${stat.mtimeMs}:${stat.size}`;
    files[source] = stamp;
    if (reuse[source] !== stamp || !fs.existsSync(outputOf(dist, source))) stale.push(source);
  }
  const removed = previous ? Object.keys(previous.files).filter((source) => !(source in files)) : [];
  linkDirs(root, dist);
  let reason = 'fresh';
  if (stale.length > 0 || removed.length > 0) {
    await compileFiles(esbuild, tsconfigText, root, dist, stale, removed);
    reason = force ? 'forced' : !previous ? 'missing' : previous.fingerprint === fingerprint ? 'changed' : 'toolchain';
  }
  const compiledMs = Math.round(performance.now() - started);
  const bundle = await bundleIfStale(esbuild, root, dist, { fingerprint, files }, previous?.bundle);
  if (reason !== 'fresh' || bundle.key !== previous?.bundle) {
    writeAtomically(path.join(dist, MANIFEST), `${JSON.stringify({ fingerprint, files, ...(bundle.key ? { bundle: bundle.key } : {}) }, null, 1)}\n`);
  }
  return { built: stale.length, total: sources.length, ms: compiledMs, reason, bundle: bundle.result };
}

/** Compiles `stale` sources one file each and removes the outputs of `removed` ones. */
async function compileFiles(esbuild, tsconfigText, root, dist, stale, removed) {
  const { transform } = await import(pathToFileURL(esbuild.entry).href);
  const { compilerOptions = {} } = JSON.parse(tsconfigText);
  // Every file settles before a failure is reported, so none is left half-written behind it.
  const settled = await Promise.allSettled(
    stale.map(async (source) => {
      const file = path.join(root, source);
      const output = outputOf(dist, source);
      const result = await transform(fs.readFileSync(file, 'utf8'), {
        loader: 'ts',
        // What tsx gives esbuild when it runs the same file.
        target: `node${process.versions.node}`,
        tsconfigRaw: { compilerOptions },
        // Root-relative, so a compile error names the file as the developer knows it.
        sourcefile: source,
        sourcemap: 'external',
        sourcesContent: false,
      });
      // The map names its source relative to where the map lies.
      const map = JSON.parse(result.map);
      map.sources = [path.relative(path.dirname(output), file).split(path.sep).join('/')];
      writeAtomically(`${output}.map`, JSON.stringify(map));
      writeAtomically(output, `${result.code}//# sourceMappingURL=${path.basename(output)}.map\n`);
    }),
  );
  const failure = settled.find((result) => result.status === 'rejected');
  if (failure) {
    // The manifest is not rewritten: the next build compiles these again.
    throw failure.reason;
  }
  for (const source of removed) {
    fs.rmSync(outputOf(dist, source), { force: true });
    fs.rmSync(`${outputOf(dist, source)}.map`, { force: true });
  }
}

/** What installed packages are there: npm rewrites node_modules/.package-lock.json at every install. */
function installStamp(root) {
  for (const file of [path.join(root, 'node_modules', '.package-lock.json'), path.join(root, 'package-lock.json')]) {
    try {
      const stat = fs.statSync(file);
      return `${file}:${stat.mtimeMs}:${stat.size}`;
    } catch {
      // try the next
    }
  }
  return 'none';
}

/**
 * esbuild plugin: a CommonJS package file that reads `__dirname`/`__filename` (ioredis does) gets
 * its own folder and file, found from the bundle's place, since in one ESM file Node defines neither.
 */
function dirnamePlugin(root) {
  return {
    name: 'hashback-dirname',
    setup(builder) {
      builder.onLoad({ filter: /[\\/]node_modules[\\/].*\.c?js$/ }, (args) => {
        const contents = fs.readFileSync(args.path, 'utf8');
        if (!/\b__(dirname|filename)\b/.test(contents) || /\b(const|let|var|function)\s+__(dirname|filename)\b/.test(contents)) return undefined;
        const relative = (p) => JSON.stringify(path.relative(root, p).split(path.sep).join('/'));
        return {
          contents: `var __dirname = __hashbackPath(${relative(path.dirname(args.path))} + '/'), __filename = __hashbackPath(${relative(args.path)});\n${contents}`,
          loader: 'js',
          resolveDir: path.dirname(args.path),
        };
      });
    },
  };
}

/**
 * Bundles dist/src/main.js into BUNDLE unless the one there was made from these sources and these
 * installed packages (`key`). Never throws: a bundle that cannot be built is reported in `result`
 * (npm start then runs dist/src/main.js). Projects without src/main.ts (the build's own tests) have none.
 */
async function bundleIfStale(esbuild, root, dist, state, previousKey) {
  const entry = path.join(dist, BUNDLE_ENTRY);
  const output = path.join(dist, path.relative(DIST, BUNDLE));
  if (!fs.existsSync(entry)) return { key: undefined, result: undefined };
  const key = createHash('sha256').update(state.fingerprint).update(JSON.stringify(state.files)).update(installStamp(root)).digest('hex');
  if (key === previousKey && fs.existsSync(output)) return { key, result: { file: output, built: false } };
  const started = performance.now();
  try {
    const { build: esbuildBuild } = await import(pathToFileURL(esbuild.entry).href);
    const result = await esbuildBuild({
      entryPoints: [entry],
      outfile: output,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: `node${process.versions.node}`,
      external: BUNDLE_EXTERNAL,
      banner: { js: BUNDLE_BANNER },
      plugins: [dirnamePlugin(root)],
      // A third less for V8 to scan at every start (5.6 to 3.7 MB; the modules phase of a start
      // 0.87 to 0.78 s, median of 6 at load 5); names are kept, so logged stacks still read.
      minifyWhitespace: true,
      minifySyntax: true,
      // A class or function keeps its name where bundling had to rename it (two modules' `Client`):
      // code that reads `.constructor.name` or logs error names sees what the sources say.
      keepNames: true,
      // Maps back to the TypeScript sources through dist/'s own maps (read with LOG_LEVEL=debug).
      sourcemap: 'external',
      sourcesContent: false,
      write: false,
      logLevel: 'silent',
    });
    for (const file of result.outputFiles) writeAtomically(file.path, file.contents);
    return { key, result: { file: output, built: true, ms: Math.round(performance.now() - started) } };
  } catch (error) {
    fs.rmSync(output, { force: true });
    const message = String(error.message).replace(/\s*\n\s*/g, ' ');
    return { key: undefined, result: { error: message } };
  }
}

/** The one line a build prints. */
export function describeBuild(result) {
  const bundle = !result.bundle
    ? ''
    : result.bundle.error
      ? `; could not bundle it into one file (${result.bundle.error}), so the server runs from dist/src/ (a slower start)`
      : result.bundle.built
        ? `; bundled into ${path.relative(ROOT, result.bundle.file)} in ${result.bundle.ms} ms`
        : '';
  if (result.built === 0) return `hashback: dist/ is up to date (${result.total} files checked in ${result.ms} ms)${bundle}.`;
  const why = {
    missing: 'first build',
    changed: 'sources changed since the last build',
    toolchain: 'the build script, tsconfig.json, esbuild or Node changed',
    forced: '--force',
  }[result.reason];
  return `hashback: compiled ${result.built} of ${result.total} files to dist/ in ${result.ms} ms (${why})${bundle}.`;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    console.log(describeBuild(await build({ force: process.argv.includes('--force') })));
  } catch (error) {
    console.error(`hashback: build failed: ${error.message}`);
    process.exitCode = 1;
  }
}
