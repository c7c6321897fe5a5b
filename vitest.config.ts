import { defineConfig } from 'vitest/config';

// Test files named *.quiet.test.ts compare speeds against each other (CPU quotas, noisy
// neighbours), so they run last and one at a time, when no other test file shares the cores.
const QUIET = 'test/**/*.quiet.test.ts';

export default defineConfig({
  test: {
    pool: 'forks',
    // 2-core machines: integration tests start real servers and sandboxes.
    maxWorkers: 2,
    testTimeout: 60_000,
    setupFiles: ['test/helpers/history-env.ts'],
    hookTimeout: 120_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'main',
          include: ['test/**/*.test.ts', 'prometheus/tests/**/*.test.ts'],
          exclude: [QUIET, '**/node_modules/**'],
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'quiet',
          include: [QUIET],
          sequence: { groupOrder: 1 },
          maxWorkers: 1,
          fileParallelism: false,
        },
      },
    ],
  },
});
