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
          // One file at a time: they share two cores with Temporal, Postgres and worker processes,
          // and the pacing and crash tests measure what they would otherwise compete with.
          maxWorkers: 1,
        },
      },
    ],
  },
});
