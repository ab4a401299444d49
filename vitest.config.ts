import { configDefaults, defineConfig } from 'vitest/config';

// End-to-end tests share one dockerd and one CPU budget: run files one at a time.
// *.cluster.test.ts (multi-node swarms of test nodes) are too slow for the default suite on this
// 2-core machine: they run with `scripts/test.sh --cluster` (AUTOSERVE_CLUSTER=1).
const cluster = process.env.AUTOSERVE_CLUSTER === '1';

export default defineConfig({
  test: {
    include: cluster ? ['test/**/*.cluster.test.ts'] : ['test/**/*.test.ts'],
    exclude: cluster ? configDefaults.exclude : [...configDefaults.exclude, 'test/**/*.cluster.test.ts'],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    env: { TESTCONTAINERS_RYUK_DISABLED: 'true' },
  },
});
