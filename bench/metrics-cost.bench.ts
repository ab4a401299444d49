// Cost of one metrics tick (CPU + memory of every replica) read from cgroup files vs the Docker
// stats API, in the same run, on the same containers.
//
//   npx tsx bench/metrics-cost.bench.ts [--sizes 50,200] [--ticks 15] [--api-ticks 2] [--api-concurrency 16]
//
// Starts the largest size of tiny `autoserve-demo:v1` containers (busybox httpd, --init, no ports),
// labelled autoserve.bench=metrics-<pid>, in parallel batches, and always removes them at the end
// (finally, SIGINT/SIGTERM). Each size measures a subset of them:
// - cgroup: the first tick (inspects every container, opens its files) reported apart, then the
//   median of --ticks steady ticks.
// - API: the median of --api-ticks full ticks, `stats({stream:false})` for every container with at
//   most --api-concurrency calls at once (what ContainerMetricsSampler does).
import Docker from 'dockerode';
import pino from 'pino';
import { ContainerMetricsSampler } from '../src/runtime/docker/container-metrics.js';
import { arg, median, printTable } from './bench-util.js';

const docker = new Docker();
const IMAGE = 'autoserve-demo:v1';
const LABEL_KEY = 'autoserve.bench';
const LABEL_VALUE = `metrics-${process.pid}`;
const CREATE_BATCH = 20;
const logger = pino({ level: 'warn' });

const sizes = arg('sizes', '50,200').split(',').map(Number).filter((n) => n > 0).sort((a, b) => a - b);
const ticks = Number(arg('ticks', '15'));
const apiTicks = Number(arg('api-ticks', '2'));
const apiConcurrency = Number(arg('api-concurrency', '16'));

async function removeAll(): Promise<void> {
  const list = await docker.listContainers({ all: true, filters: { label: [`${LABEL_KEY}=${LABEL_VALUE}`] } });
  for (let i = 0; i < list.length; i += CREATE_BATCH) {
    await Promise.all(list.slice(i, i + CREATE_BATCH).map((c) => docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined)));
  }
}

async function startContainers(n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i += CREATE_BATCH) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(CREATE_BATCH, n - i) }, async () => {
        const c = await docker.createContainer({ Image: IMAGE, Labels: { [LABEL_KEY]: LABEL_VALUE }, HostConfig: { Init: true } });
        await c.start();
        return c.id;
      }),
    );
    ids.push(...batch);
    process.stderr.write(`\rstarted ${ids.length}/${n}`);
  }
  process.stderr.write('\n');
  return ids;
}

async function timeTick(sampler: ContainerMetricsSampler, refs: { id: string }[]): Promise<{ ms: number; measured: number }> {
  const started = performance.now();
  const result = await sampler.sample(refs);
  return { ms: performance.now() - started, measured: result.size };
}

async function main(): Promise<void> {
  const max = sizes[sizes.length - 1] ?? 0;
  const startedAt = performance.now();
  const ids = await startContainers(max);
  console.error(`started ${max} containers in ${((performance.now() - startedAt) / 1000).toFixed(1)} s`);
  const rows: string[][] = [];
  for (const size of sizes) {
    const refs = ids.slice(0, size).map((id) => ({ id }));

    const cgroup = new ContainerMetricsSampler({ docker, logger, source: 'cgroup' });
    const first = await timeTick(cgroup, refs);
    const steady: number[] = [];
    let measured = 0;
    for (let i = 0; i < ticks; i++) {
      await new Promise((r) => setTimeout(r, 100));
      const t = await timeTick(cgroup, refs);
      steady.push(t.ms);
      measured = t.measured;
    }
    cgroup.close();
    if (measured !== size) console.error(`warning: cgroup measured ${measured} of ${size}`);

    const api = new ContainerMetricsSampler({ docker, logger, source: 'api', apiConcurrency });
    const apiMs: number[] = [];
    let apiMeasured = 0;
    for (let i = 0; i < apiTicks; i++) {
      const t = await timeTick(api, refs);
      apiMs.push(t.ms);
      apiMeasured = t.measured;
      console.error(`size ${size}: API tick ${i + 1}/${apiTicks}: ${t.ms.toFixed(0)} ms (${t.measured} measured)`);
    }
    api.close();
    if (apiMeasured !== size) console.error(`warning: API measured ${apiMeasured} of ${size}`);

    const c = median(steady);
    const a = median(apiMs);
    rows.push([
      String(size),
      `${c.toFixed(2)} (median of ${ticks})`,
      first.ms.toFixed(0),
      `${a.toFixed(0)} (median of ${apiTicks}, ${apiConcurrency} at once)`,
      `1/${Math.round(a / c)}`,
    ]);
  }
  console.log(`\n\`npx tsx bench/metrics-cost.bench.ts --sizes ${sizes.join(',')} --ticks ${ticks} --api-ticks ${apiTicks} --api-concurrency ${apiConcurrency}\`\n`);
  printTable(['containers', 'cgroup ms/tick', 'cgroup first tick ms (inspect + open)', 'API ms/tick', 'cgroup/API'], rows);
}

let cleaning: Promise<void> | undefined;
const cleanup = () => (cleaning ??= removeAll());
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void cleanup().finally(() => process.exit(130));
  });
}
try {
  await main();
} finally {
  await cleanup();
}
