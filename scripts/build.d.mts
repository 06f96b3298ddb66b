/** Types of scripts/build.mjs (plain JavaScript, so `npm start` can run it before anything is compiled). */

/** The project's root folder. */
export const ROOT: string;
/** Where the compiled server goes: <root>/dist. */
export const DIST: string;
/** The compiled entry point of `npm start`: dist/src/main.js. */
export const MAIN: string;

export interface BuildResult {
  /** Files compiled by this call; 0 when everything was up to date. */
  built: number;
  /** Source files considered. */
  total: number;
  ms: number;
  reason: 'fresh' | 'missing' | 'changed' | 'toolchain' | 'forced';
}

/** Compiles what is stale in `root` (default: this project) into `dist` (default: <root>/dist). */
export function build(options?: { force?: boolean; root?: string; dist?: string }): Promise<BuildResult>;

/** The one line a build prints. */
export function describeBuild(result: BuildResult): string;
