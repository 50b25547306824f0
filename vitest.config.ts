import { defineConfig } from 'vitest/config';

// One runner for the whole suite. Tests that need services start them on random ports and use their own
// Redis key prefix / Postgres database, so files can run in parallel on the 2-core CI machine.
// The few tests that measure recovery in wall-clock time (a minute-long outage, then "delivered within N s")
// run afterwards, alone: beside the CPU-heavy files (training, nightly, workerd) their retry timers slipped
// past the deadline (edge-events-outage passed alone in 69 s and failed in the parallel run).
const ALONE = ['test/resilience/edge-events-outage.test.ts'];

/** What both projects share; the private TMPDIR (globalSetup) is the root's alone, so it is made once, not once per project. */
const common = { pool: 'forks' as const, testTimeout: 60_000, hookTimeout: 120_000 };

export default defineConfig({
  test: {
    // A private TMPDIR for the run, removed at the end (test/global-tmpdir.ts).
    globalSetup: ['test/global-tmpdir.ts'],
    maxWorkers: 2,
    reporters: ['default'],
    projects: [
      { test: { ...common, name: 'parallel', include: ['test/**/*.test.ts'], exclude: ALONE, sequence: { groupOrder: 0 } } },
      { test: { ...common, name: 'alone', include: ALONE, fileParallelism: false, sequence: { groupOrder: 1 } } },
    ],
  },
});
