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

// *.cluster.test.ts (multi-node swarms of test nodes, Swarm traffic) are too slow for the default
// suite on this 2-core machine: they run with `scripts/test.sh --cluster` (AUTOSERVE_CLUSTER=1).
const cluster = process.env.AUTOSERVE_CLUSTER === '1';
const CLUSTER_FILES = 'test/**/*.cluster.test.ts';

// Files whose figures or faults depend on a calm machine: load-driven scaling, traffic with zero
// failed requests, held requests released in arrival order, CPU readings, test-node engines that
// get restarted, chaos. They run one at a time, after the rest.
const ALONE = [
  'test/e2e/autoscale/**/*.test.ts',
  'test/e2e/traffic/traffic.test.ts',
  'test/e2e/traffic/datapath.test.ts',
  'test/e2e/nginx/hold.test.ts',
  'test/e2e/observe/**/*.test.ts',
  'test/e2e/cluster/**/*.test.ts',
  'test/chaos/**/*.test.ts',
];

const shared = {
  testTimeout: 120_000,
  hookTimeout: 120_000,
  env: { TESTCONTAINERS_RYUK_DISABLED: 'true' },
};

export default defineConfig({
  test: cluster
    ? { ...shared, include: [CLUSTER_FILES], fileParallelism: false }
    : {
        ...shared,
        // Project-level sequencers are not consulted: the root's sorts each group's files.
        sequence: { sequencer: ChaosLastSequencer },
        projects: [
          {
            // Unit tests and end-to-end files that only wait on Docker and nginx: two at a time (they
            // label what they start and pick free ports, so they never see each other's replicas).
            test: {
              ...shared,
              name: 'shared',
              include: ['test/**/*.test.ts'],
              exclude: [...configDefaults.exclude, CLUSTER_FILES, ...ALONE],
              maxWorkers: 2,
              sequence: { groupOrder: 0 },
            },
          },
          {
            test: {
              ...shared,
              name: 'alone',
              include: ALONE,
              exclude: [...configDefaults.exclude, CLUSTER_FILES],
              fileParallelism: false,
              maxWorkers: 1,
              sequence: { groupOrder: 1 },
            },
          },
        ],
      },
});
