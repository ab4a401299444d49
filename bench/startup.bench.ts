// Manifest write -> all replicas running, beside the same containers created straight through the
// Docker API in parallel, in the same run (the physical limit).
//
//   npx tsx bench/startup.bench.ts [--runs 5] [--sizes 1,10,20]
//
// "Running" means Docker reports every replica running (what the raw side can also observe);
// "ready" additionally means every replica passed its HTTP health check and nginx routes to it
// (AutoServe only).
// Each size alternates raw and AutoServe runs so machine noise hits both; medians are reported.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import Docker from 'dockerode';
import pino from 'pino';
import { containerCreateOptions } from '../src/runtime/docker/create-options.js';
import { DEFAULT_OPTIONS } from '../src/daemon/options.js';
import { ensureNetwork, networkOf } from '../src/runtime/docker/networks.js';
import { listManagedContainers } from '../src/runtime/docker/replica-facts.js';
import { removeLabelledContainers, removeLabelledNetworks, startBenchDaemon } from './bench-daemon.js';
import { arg, median, printTable } from './bench-util.js';

const docker = new Docker();
const IMAGE = 'autoserve-demo:v1';
const BENCH_LABEL = { 'autoserve.bench': 'startup' };

const RAW_INSTANCE = 'rawbench';
const OUR_INSTANCE = 'bench';

const removeBenchContainers = () => removeLabelledContainers(docker, 'autoserve.bench=startup');
const removeBenchNetworks = () => removeLabelledNetworks(docker, 'autoserve.bench=startup');

/** Both sides' networks exist before anything is timed: their creation is a one-time cost. */
async function prepareNetworks(): Promise<void> {
  for (const instance of [RAW_INSTANCE, OUR_INSTANCE]) await ensureNetwork(docker, networkOf(instance, 'bench', 'shared'), BENCH_LABEL);
}

async function rawParallel(replicas: number): Promise<number> {
  const started = performance.now();
  await Promise.all(
    Array.from({ length: replicas }, async (_, slot) => {
      const options = containerCreateOptions({
        shape: { image: IMAGE, env: {}, ports: [8080], network: 'shared' },
        instance: RAW_INSTANCE,
        app: 'bench',
        revision: 'r',
        slot,
        labels: BENCH_LABEL,
        stopTimeoutSeconds: 2,
      });
      const container = await docker.createContainer(options);
      await container.start();
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  await removeBenchContainers();
  return seconds;
}

function manifest(replicas: number): string {
  return `apiVersion: v1
kind: App
metadata: { name: bench }
spec:
  type: http
  image: ${IMAGE}
  replicas: ${replicas}
  ports: [{ containerPort: 8080 }]
  health: { httpGet: { path: /healthz, port: 8080 }, intervalSeconds: 1 }
  termination: { drainSeconds: 0, stopTimeoutSeconds: 2 }
`;
}

async function autoserve(replicas: number): Promise<{ running: number; ready: number }> {
  const { daemon, options, manifestsDir, stop } = await startBenchDaemon({ name: 'bench', instance: OUR_INSTANCE, labels: BENCH_LABEL, removeContainers: removeBenchContainers });
  try {
    const started = performance.now();
    await writeFile(join(manifestsDir, 'bench.yaml'), manifest(replicas));
    let running = 0;
    for (;;) {
      const list = await listManagedContainers(docker, options.instance, 'bench');
      if (!running && list.filter((c) => c.running).length === replicas) running = (performance.now() - started) / 1000;
      if (running && daemon.store.app('bench')?.replicas.ready === replicas) break;
      if (performance.now() - started > 120_000) throw new Error('timed out');
      await new Promise((r) => setTimeout(r, 20));
    }
    return { running, ready: (performance.now() - started) / 1000 };
  } finally {
    await stop();
  }
}

async function main(): Promise<void> {
  const runs = Number(arg('runs', '5'));
  const sizes = arg('sizes', '1,10,20').split(',').map(Number);
  await removeBenchContainers();
  await prepareNetworks();
  const rows: string[][] = [];
  for (const size of sizes) {
    const raw: number[] = [];
    const ours: number[] = [];
    const ready: number[] = [];
    for (let run = 0; run < runs; run++) {
      raw.push(await rawParallel(size));
      const result = await autoserve(size);
      ours.push(result.running);
      ready.push(result.ready);
      process.stderr.write(`replicas=${size} run=${run} raw=${raw.at(-1)!.toFixed(2)}s autoserve=${result.running.toFixed(2)}s ready=${result.ready.toFixed(2)}s\n`);
    }
    rows.push([String(size), median(raw).toFixed(2), median(ours).toFixed(2), (median(ours) / median(raw)).toFixed(2), median(ready).toFixed(2)]);
  }
  printTable(['replicas', 'raw Docker API, parallel (s)', 'AutoServe: manifest write -> all running (s)', 'ratio', 'AutoServe: -> all ready and routed (s)'], rows);
  console.log(`\n${runs} runs per size, medians. Includes AutoServe's ${DEFAULT_OPTIONS.debounceMs} ms manifest debounce.`);
  await removeBenchNetworks();
}

main().catch(async (err: unknown) => {
  console.error(err);
  await removeBenchContainers();
  await removeBenchNetworks();
  process.exit(1);
});
