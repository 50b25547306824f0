import { defineConfig } from 'vitest/config';

// One runner for the whole suite. Tests that need services start them on random ports and use their own
// Redis key prefix / Postgres database, so files can run in parallel on the 2-core CI machine.
// The few tests that measure recovery in wall-clock time (a minute-long outage, then "delivered within N s")
// run afterwards, alone: beside the CPU-heavy files (training, nightly, workerd) their retry timers slipped
// past the deadline (edge-events-outage passed alone in 69 s and failed in the parallel run).
const ALONE = ['test/resilience/edge-events-outage.test.ts'];

export default defineConfig({
  test: {
    // A private TMPDIR for the run, removed at the end (test/global-tmpdir.ts).
    globalSetup: ['test/global-tmpdir.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ['default'],
    projects: [
      { extends: true, test: { name: 'parallel', include: ['test/**/*.test.ts'], exclude: ALONE, sequence: { groupOrder: 0 } } },
      { extends: true, test: { name: 'alone', include: ALONE, fileParallelism: false, sequence: { groupOrder: 1 } } },
    ],
  },
});
