import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { configDefaults, defineConfig } from 'vitest/config';

/**
 * The chaos suite (test/chaos/: kills nginx, stops and hangs private dockerds, fills a disk) runs
 * after every other file, so a disruption of its own can never be mistaken for another file's
 * failure, and the other files' timings are taken on a calm machine.
 */
class ChaosLastSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const isChaos = (f: TestSpecification) => /[\\/]test[\\/]chaos[\\/]/.test(f.moduleId);
    return [...sorted.filter((f) => !isChaos(f)), ...sorted.filter(isChaos)];
  }
}

// End-to-end tests share one dockerd and one CPU budget: run files one at a time.
// *.cluster.test.ts (multi-node swarms of test nodes) are too slow for the default suite on this
// 2-core machine: they run with `scripts/test.sh --cluster` (AUTOSERVE_CLUSTER=1).
const cluster = process.env.AUTOSERVE_CLUSTER === '1';

export default defineConfig({
  test: {
    include: cluster ? ['test/**/*.cluster.test.ts'] : ['test/**/*.test.ts'],
    exclude: cluster ? configDefaults.exclude : [...configDefaults.exclude, 'test/**/*.cluster.test.ts'],
    fileParallelism: false,
    sequence: { sequencer: ChaosLastSequencer },
    testTimeout: 120_000,
    hookTimeout: 120_000,
    env: { TESTCONTAINERS_RYUK_DISABLED: 'true' },
  },
});
