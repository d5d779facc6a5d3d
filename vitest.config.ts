import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Suites are I/O bound (databases, HTTP, child processes), so more workers than cores pays off.
export default defineConfig({
  // The examples import the SDK by its package name; in this repository that is its source.
  resolve: { alias: { '@argosync/pulumi': fileURLToPath(new URL('./sdk/nodejs/index.ts', import.meta.url)) } },
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    pool: 'forks',
    maxWorkers: 4,
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
