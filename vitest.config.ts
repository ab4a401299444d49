import { defineConfig } from 'vitest/config';

// End-to-end tests share one dockerd and one CPU budget: run files one at a time.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    env: { TESTCONTAINERS_RYUK_DISABLED: 'true' },
  },
});
