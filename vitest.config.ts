import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          // Unit tests first: they fail fast, before the servers are started.
          sequence: { groupOrder: 0 },
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          sequence: { groupOrder: 1 },
          // One Temporal dev server and one Postgres for the whole run.
          globalSetup: ['test/integration/global-setup.ts'],
          testTimeout: 240_000,
          hookTimeout: 120_000,
          // Two files at a time: each has its own database, task queue and fake Trustpilot, and most of
          // a file's time is spent waiting (backoffs, heartbeats, paced calls), not computing. The
          // pacing and crash tests assert on what they observe (calls per window, rows in flight at
          // the kill), never on how fast the machine is, so a neighbour only makes them slower.
          maxWorkers: 2,
        },
      },
    ],
  },
});
