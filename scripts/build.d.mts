/** Types of scripts/build.mjs (plain JavaScript, so `npm start` can run it before anything is compiled). */

/** The project's root folder. */
export const ROOT: string;
/** Where the compiled server goes: <root>/dist. */
export const DIST: string;
/** The compiled entry point: dist/src/main.js (what `npm start` runs when the bundle could not be built). */
export const MAIN: string;
/** The compiled server in one file, what `npm start` runs: dist/bundle/server.js. */
export const BUNDLE: string;

/** The one-file server: `file` when there is an up-to-date one (`built`: by this call), or why it could not be built. */
export type BundleResult = { file: string; built: boolean; ms?: number; error?: undefined } | { error: string; file?: undefined; built?: undefined };

export interface BuildResult {
  /** Files compiled by this call; 0 when everything was up to date. */
  built: number;
  /** Source files considered. */
  total: number;
  ms: number;
  reason: 'fresh' | 'missing' | 'changed' | 'toolchain' | 'forced';
  /** Absent for a project without src/main.ts. */
  bundle?: BundleResult;
}

/** Compiles what is stale in `root` (default: this project) into `dist` (default: <root>/dist). */
export function build(options?: { force?: boolean; root?: string; dist?: string }): Promise<BuildResult>;

/** The one line a build prints. */
export function describeBuild(result: BuildResult): string;
