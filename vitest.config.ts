import { defineConfig } from 'vitest/config';

// One runner for the whole suite. Tests that need services start them on random ports and use their own
// Redis key prefix / Postgres database, so files can run in parallel on the 2-core CI machine.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // A private TMPDIR for the run, removed at the end (test/global-tmpdir.ts).
    globalSetup: ['test/global-tmpdir.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});
