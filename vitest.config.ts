import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'prometheus/tests/**/*.test.ts'],
    pool: 'forks',
    // 2-core machines: integration tests start real servers and sandboxes.
    maxWorkers: 2,
    minWorkers: 1,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
