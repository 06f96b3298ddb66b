/**
 * The suite runs once on the embedded PGlite, and once more on real Postgres when
 * TEST_DATABASE_URL is set (in a fresh database created for the run and dropped after).
 */
import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

const projects = [{ extends: true as const, test: { name: 'pglite' } }];
if (process.env.TEST_DATABASE_URL) projects.push({ extends: true as const, test: { name: 'postgres' } });

export default defineConfig({
  // One copy of graphql: Vite would otherwise give our code graphql's ESM build while yoga and
  // Pothos load the CommonJS one, and `instanceof GraphQLError` would fail across the two.
  resolve: { alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }] },
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    projects,
  },
});
