import { defineConfig } from 'vitest/config';

// Suites are I/O bound (databases, HTTP, child processes), so more workers than cores pays off.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    pool: 'forks',
    maxWorkers: 4,
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
