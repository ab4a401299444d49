// Scale to zero: the first request's latency at zero beside the physical limit, and what a host
// of idle apps costs at zero and at one replica each.
//
//   npx tsx bench/scale-to-zero.bench.ts [--wakes 10] [--apps 50] [--window 30] [--part wake,host]
//
// Part "wake", alternating so machine noise hits both sides:
//  - limit: one replica of the demo image created and started straight through the Docker API (the
//    create options AutoServe uses, on a network made beforehand) and its /healthz polled every
//    5 ms at its network address until it answers 200: create + start + first passing check;
//  - wake: a GET through AutoServe's nginx to an app at zero (manual mode, 1 replica, idleSeconds 2),
//    from the request to its 200: the held request, the controller's wake, the same create and
//    start, its health check and the membership update that lets the request go.
//  Target: wake at most the limit + 0.3 s (medians; the max beside the max).
// Part "host": `--apps` apps of the demo image (1 replica each) in one controller, measured over
// `--window` seconds once settled, then the same apps at zero: memory (PSS of processes, cgroup
// memory of containers) and CPU (% of one core) of the replicas' containers, their containerd
// shims, AutoServe's nginx and the controller (this process). dockerd and containerd are shared by
// everybody on the host and are reported beside, not in the total.
import { readFile, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Docker from 'dockerode';
import { nginxPrefixDir } from '../src/controllers/routes/nginx-paths.js';
import { CgroupReader, cgroupFileCandidates, readCgroupLayout } from '../src/runtime/docker/cgroup-stats.js';
import { containerCreateOptions } from '../src/runtime/docker/create-options.js';
import { ensureNetwork, ipOn, networkOf } from '../src/runtime/docker/networks.js';
import { listManagedContainers } from '../src/runtime/docker/replica-facts.js';
import { removeLabelledContainers, removeLabelledNetworks, startBenchDaemon, type BenchDaemon } from './bench-daemon.js';
import { arg, f0, f1, f2, max, median, printTable } from './bench-util.js';
import { cpuSeconds, listProcesses } from './process-cpu.js';

const docker = new Docker();
const IMAGE = 'autoserve-demo:v1';
const BENCH_LABEL = { 'autoserve.bench': 'scale-to-zero' };
const RAW_INSTANCE = 'rawzero';
const OUR_INSTANCE = 'benchzero';
const LIMIT_POLL_MS = 5;
const WAKE_TARGET_EXTRA_S = 0.3;
const SETTLE_MS = 5_000;

const removeBenchContainers = () => removeLabelledContainers(docker, 'autoserve.bench=scale-to-zero');
const removeBenchNetworks = () => removeLabelledNetworks(docker, 'autoserve.bench=scale-to-zero');

function get(target: { host: string; port: number; path: string; hostHeader?: string }, timeoutMs = 60_000): Promise<number> {
  return new Promise((resolve) => {
    const headers = target.hostHeader ? { host: target.hostHeader } : {};
    const req = http.get({ host: target.host, port: target.port, path: target.path, headers, agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
  });
}

/** Create + start + first passing health check, straight through the Docker API. */
async function physicalLimit(run: number): Promise<number> {
  const options = containerCreateOptions({
    shape: { image: IMAGE, env: {}, ports: [8080], network: 'shared' },
    instance: RAW_INSTANCE,
    app: 'limit',
    revision: 'r',
    slot: run,
    labels: BENCH_LABEL,
    stopTimeoutSeconds: 2,
  });
  const network = networkOf(RAW_INSTANCE, 'limit', 'shared').name;
  const started = performance.now();
  const container = await docker.createContainer(options);
  await container.start();
  const ip = ipOn(await container.inspect() as unknown as Docker.ContainerInfo, network);
  if (!ip) throw new Error(`no address on ${network}`);
  while ((await get({ host: ip, port: 8080, path: '/healthz' }, 1_000)) !== 200) await sleep(LIMIT_POLL_MS);
  const seconds = (performance.now() - started) / 1000;
  await container.remove({ force: true });
  return seconds;
}

async function startZeroBench(): Promise<BenchDaemon> {
  const b = await startBenchDaemon({ name: 'zero-bench', instance: OUR_INSTANCE, labels: BENCH_LABEL, removeContainers: removeBenchContainers });
  if (b.daemon.routes?.holdSupport().kind !== 'yes') {
    await b.stop();
    throw new Error('scale to zero needs nginx with the Lua module');
  }
  return b;
}

function manifest(name: string, zero: boolean): string {
  return `apiVersion: v1
kind: App
metadata: { name: ${name} }
spec:
  type: http
  image: ${IMAGE}
  replicas: 1
  ports: [{ containerPort: 8080 }]
  health: { httpGet: { path: /healthz, port: 8080 }, intervalSeconds: 1 }
  termination: { drainSeconds: 0, stopTimeoutSeconds: 2 }
${zero ? '  scaling: { minReplicas: 0, idleSeconds: 2, policy: { mode: manual } }\n' : ''}`;
}

async function waitFor(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 180_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

const running = async (b: BenchDaemon, app?: string) =>
  (await listManagedContainers(docker, b.options.instance, app)).filter((c) => c.running);

async function atZero(b: BenchDaemon, apps: string[]): Promise<void> {
  await waitFor(`${apps.length} app(s) at zero`, async () =>
    apps.every((a) => b.daemon.store.app(a)?.phase === 'ScaledToZero') && (await running(b)).filter((c) => apps.includes(c.app)).length === 0);
}

async function wakeLatency(b: BenchDaemon): Promise<number> {
  await atZero(b, ['sleepy']);
  await sleep(300); // the last replica's removal is done, nothing else moves
  const started = performance.now();
  const status = await get({ host: '127.0.0.1', port: b.options.lbPort, path: '/', hostHeader: 'sleepy.localhost' });
  const seconds = (performance.now() - started) / 1000;
  if (status !== 200) throw new Error(`the first request at zero got ${status}`);
  return seconds;
}

async function partWake(wakes: number): Promise<void> {
  const b = await startZeroBench();
  try {
    await writeFile(join(b.manifestsDir, 'sleepy.yaml'), manifest('sleepy', true));
    await waitFor('sleepy serving', async () => (await get({ host: '127.0.0.1', port: b.options.lbPort, path: '/', hostHeader: 'sleepy.localhost' }, 5_000)) === 200);
    const limit: number[] = [];
    const wake: number[] = [];
    for (let run = 0; run < wakes; run++) {
      limit.push(await physicalLimit(run));
      wake.push(await wakeLatency(b));
      process.stderr.write(`wake ${run}: limit ${limit.at(-1)!.toFixed(3)} s, first request at zero ${wake.at(-1)!.toFixed(3)} s\n`);
    }
    console.log('\n### First request at zero vs the physical limit\n');
    printTable(
      ['', 'median (s)', 'max (s)'],
      [
        ['physical limit: create + start + first passing check (Docker API)', f2(median(limit)), f2(max(limit))],
        ['first request at zero, through AutoServe', f2(median(wake)), f2(max(wake))],
        ['difference', f2(median(wake) - median(limit)), f2(max(wake) - max(limit))],
      ],
    );
    const met = median(wake) <= median(limit) + WAKE_TARGET_EXTRA_S;
    console.log(`\n${wakes} wakes, alternated with the limit. Target (median <= limit + ${WAKE_TARGET_EXTRA_S} s): ${met ? 'met' : 'NOT met'}.`);
    const metrics = await (await fetch(`http://127.0.0.1:${b.daemon.apiPort}/metrics`)).text();
    const sum = Number(/autoserve_wake_duration_seconds_sum\{app="sleepy"\} (\S+)/.exec(metrics)?.[1]);
    const count = Number(/autoserve_wake_duration_seconds_count\{app="sleepy"\} (\S+)/.exec(metrics)?.[1]);
    console.log(`The controller's own wake duration (first held request to a replica served), mean: ${f2(sum / count)} s over ${count} wakes.`);
  } finally {
    await b.stop();
  }
}

interface Cost {
  memoryMiB: Record<string, number>;
  cpuPct: Record<string, number>;
}

/** PSS of a process (its share of shared pages), bytes; 0 when it is gone. */
async function pssBytes(pid: number): Promise<number> {
  try {
    const text = await readFile(`/proc/${pid}/smaps_rollup`, 'utf8');
    return Number(/^Pss:\s+(\d+) kB/m.exec(text)?.[1] ?? 0) * 1024;
  } catch {
    return 0;
  }
}

/** The processes of each group now: the replicas' shims, our nginx, the shared engine. */
async function processGroups(b: BenchDaemon, containerIds: string[]): Promise<Record<string, number[]>> {
  const procs = await listProcesses();
  const master = Number((await readFile(join(nginxPrefixDir(b.options.stateDir), 'nginx.pid'), 'utf8').catch(() => '0')).trim());
  return {
    shims: procs.filter((p) => p.cmdline.includes('containerd-shim') && containerIds.some((id) => p.cmdline.includes(id))).map((p) => p.pid),
    nginx: procs.filter((p) => p.pid === master || p.ppid === master).map((p) => p.pid),
    engine: procs.filter((p) => /^(\/usr\/s?bin\/)?(dockerd|containerd)( |$)/.test(p.cmdline)).map((p) => p.pid),
  };
}

async function measureHost(b: BenchDaemon, windowS: number): Promise<Cost> {
  const containers = await running(b);
  const ids = containers.map((c) => c.id);
  const layout = readCgroupLayout();
  const readers = layout ? ids.map((id) => CgroupReader.open(cgroupFileCandidates(layout, id))).filter((r): r is CgroupReader => r !== undefined) : [];
  const groups = await processGroups(b, ids);
  const cpuOf = async (pids: number[]) => (await Promise.all(pids.map(cpuSeconds))).reduce((a, x) => a + x, 0);
  const containerCpu = () => readers.reduce((a, r) => a + r.read().cpuNs / 1e9, 0);
  const before = { containers: containerCpu(), shims: await cpuOf(groups.shims!), nginx: await cpuOf(groups.nginx!), engine: await cpuOf(groups.engine!), controller: process.cpuUsage() };
  const startedAt = performance.now();
  await sleep(windowS * 1000);
  const elapsed = (performance.now() - startedAt) / 1000;
  const controllerCpu = process.cpuUsage(before.controller);
  const pct = (seconds: number) => (100 * seconds) / elapsed;
  const pss = async (pids: number[]) => (await Promise.all(pids.map(pssBytes))).reduce((a, x) => a + x, 0) / 2 ** 20;
  const cost: Cost = {
    memoryMiB: {
      containers: readers.reduce((a, r) => a + r.read().memoryBytes, 0) / 2 ** 20,
      shims: await pss(groups.shims!),
      nginx: await pss(groups.nginx!),
      controller: process.memoryUsage().rss / 2 ** 20,
      engine: await pss(groups.engine!),
    },
    cpuPct: {
      containers: pct(containerCpu() - before.containers),
      shims: pct((await cpuOf(groups.shims!)) - before.shims),
      nginx: pct((await cpuOf(groups.nginx!)) - before.nginx),
      controller: pct((controllerCpu.user + controllerCpu.system) / 1e6),
      engine: pct((await cpuOf(groups.engine!)) - before.engine),
    },
  };
  for (const r of readers) r.close();
  return cost;
}

async function partHost(apps: number, windowS: number): Promise<void> {
  const b = await startZeroBench();
  const names = Array.from({ length: apps }, (_, i) => `idle${i}`);
  try {
    for (const name of names) await writeFile(join(b.manifestsDir, `${name}.yaml`), manifest(name, false));
    await waitFor(`${apps} apps ready`, () => names.every((n) => b.daemon.store.app(n)?.replicas.ready === 1), 600_000);
    await sleep(SETTLE_MS);
    const awake = await measureHost(b, windowS);
    const replicas = (await running(b)).length;
    for (const name of names) await writeFile(join(b.manifestsDir, `${name}.yaml`), manifest(name, true));
    await atZero(b, names);
    await sleep(SETTLE_MS);
    const zero = await measureHost(b, windowS);
    console.log(`\n### ${apps} idle apps: one replica each vs at zero (${windowS} s windows)\n`);
    const rows = ['containers', 'shims', 'nginx', 'controller'].map((k) => [k, f1(awake.memoryMiB[k]!), f1(zero.memoryMiB[k]!), f2(awake.cpuPct[k]!), f2(zero.cpuPct[k]!)]);
    const total = (c: Cost, what: 'memoryMiB' | 'cpuPct') => ['containers', 'shims', 'nginx', 'controller'].reduce((a, k) => a + c[what][k]!, 0);
    rows.push(['total', f1(total(awake, 'memoryMiB')), f1(total(zero, 'memoryMiB')), f2(total(awake, 'cpuPct')), f2(total(zero, 'cpuPct'))]);
    rows.push(['(dockerd + containerd, shared)', f1(awake.memoryMiB.engine!), f1(zero.memoryMiB.engine!), f2(awake.cpuPct.engine!), f2(zero.cpuPct.engine!)]);
    printTable(['', 'memory, 1 replica each (MiB)', 'memory, at zero (MiB)', 'CPU, 1 replica each (% of a core)', 'CPU, at zero (% of a core)'], rows);
    console.log(`\n${replicas} replicas running before, ${f0((await running(b)).length)} at zero. Memory: cgroup usage of the containers, PSS of processes, RSS of the controller.`);
  } finally {
    await b.stop();
  }
}

async function main(): Promise<void> {
  const parts = arg('part', 'wake,host').split(',');
  await removeBenchContainers();
  await ensureNetwork(docker, networkOf(RAW_INSTANCE, 'limit', 'shared'), BENCH_LABEL);
  if (parts.includes('wake')) await partWake(Number(arg('wakes', '10')));
  if (parts.includes('host')) await partHost(Number(arg('apps', '50')), Number(arg('window', '30')));
  await removeBenchContainers();
  await removeBenchNetworks();
}

main().catch(async (err: unknown) => {
  console.error(err);
  await removeBenchContainers();
  await removeBenchNetworks();
  process.exit(1);
});
