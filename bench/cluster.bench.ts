// Cluster figures on private test nodes (issue 16 groundwork), never the shared dockerd:
//   1. how long a test node takes to start (one node; a 3-node swarm), images copied in;
//   2. the cost of the hop from a manager to a task over the overlay (through the gateway
//      container, docs/cluster.md "Routing"), beside a container on the manager's own bridge;
//   3. scale-out to 10 tasks on 3 nodes: one service scaled to 10 vs ten 1-replica services;
//   4. node failure: seconds until Swarm marks a node down (dockerd SIGKILL) and until its tasks
//      run elsewhere (agent heartbeat 1 s, restart delay 0);
//   5. leader lease takeover with the default timing after the leader stops renewing.
//
//   npx tsx bench/cluster.bench.ts --runs 3 [--requests 2000] [--lease 1]
//
// Every request goes to addresses of namespaces and containers this script makes; every loop is
// bounded. Run alone on a quiet machine for figures worth writing down.
import { writeFile, rm } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import Docker from 'dockerode';
import { SwarmConfigLeaseStore } from '../src/runtime/swarm/config-lease-store.js';
import { DEFAULT_LEASE_TIMING, LeaderLease } from '../src/runtime/swarm/leader-lease.js';
import { attachOverlayGateway } from '../test/support/test-node/overlay-gateway.js';
import { NODE_INDEX_LABEL } from '../test/support/test-node/swarm.js';
import { createTestCluster, type TestCluster, type TestNode } from '../test/support/test-node/test-cluster.js';
import { arg, median, printTable } from './bench-util.js';

const RUNS = Number(arg('runs', '3'));
const REQUESTS = Number(arg('requests', '2000'));
const LEASE = arg('lease', '1') === '1';
const DEMO = 'autoserve-demo:v1';
const ECHO = 'autoserve-node-echo:v1';
const POLL_MS = 100;
const WAIT_LIMIT_MS = 120_000;

interface Task {
  ID: string;
  NodeID: string;
  Status: { State: string };
  NetworksAttachments?: { Network: { Spec: { Name: string } }; Addresses: string[] }[];
}

const results = {
  nodeStart: [] as number[],
  nodeImages: [] as number[],
  swarmStart: [] as number[],
  hop: new Map<string, number[]>(),
  hopRate: new Map<string, number[]>(),
  scaleOne: [] as number[],
  scaleTen: [] as number[],
  nodeDown: [] as number[],
  rescheduled: [] as number[],
  takeover: [] as number[],
};

async function main(): Promise<void> {
  for (let run = 1; run <= RUNS; run++) {
    console.error(`run ${run}/${RUNS}`);
    const single = await createTestCluster({ images: [DEMO], purpose: 'bench cluster: single' });
    results.nodeStart.push(single.timings.networkMs + single.timings.enginesMs);
    results.nodeImages.push(single.timings.imagesMs);
    await single.destroy();

    const cluster = await createTestCluster({ nodes: 3, images: [DEMO, ECHO], swarm: { managers: 3, heartbeatMs: 1_000 }, purpose: 'bench cluster' });
    try {
      results.swarmStart.push(cluster.timings.totalMs);
      await measureHop(cluster, run);
      await measureScaleOut(cluster);
      if (LEASE) results.takeover.push(await measureTakeover(cluster));
      await measureNodeFailure(cluster);
    } finally {
      await cluster.destroy();
    }
  }

  const s = (ms: number) => (ms / 1000).toFixed(2);
  console.log('\n### Test nodes\n');
  printTable(
    ['what', 'median (s)', 'runs'],
    [
      ['one node: namespace + containerd + dockerd answering', s(median(results.nodeStart)), results.nodeStart.map(s).join(', ')],
      ['one node: copy the demo image in (save + load)', s(median(results.nodeImages)), results.nodeImages.map(s).join(', ')],
      ['3-node swarm (3 managers), 2 images, all Ready', s(median(results.swarmStart)), results.swarmStart.map(s).join(', ')],
    ],
  );
  console.log(`\n### Hop from the manager (sequential keep-alive GETs, ${REQUESTS} per target per run)\n`);
  printTable(
    ['target', 'p50 latency (ms, median of runs)', 'requests/s (median)'],
    [...results.hop.keys()].map((k) => [k, median(results.hop.get(k)!).toFixed(3), median(results.hopRate.get(k)!).toFixed(0)]),
  );
  console.log('\n### Scale-out to 10 tasks on 3 nodes (until all running)\n');
  printTable(
    ['how', 'median (s)', 'runs'],
    [
      ['one service, replicas 10', s(median(results.scaleOne)), results.scaleOne.map(s).join(', ')],
      ['ten services, replicas 1 each (created in parallel)', s(median(results.scaleTen)), results.scaleTen.map(s).join(', ')],
    ],
  );
  console.log('\n### Node failure (dockerd SIGKILL, heartbeat 1 s, restart delay 0)\n');
  printTable(
    ['what', 'median (s)', 'runs'],
    [
      ['node marked down', s(median(results.nodeDown)), results.nodeDown.map(s).join(', ')],
      ['its tasks running on other nodes', s(median(results.rescheduled)), results.rescheduled.map(s).join(', ')],
    ],
  );
  if (LEASE) {
    const t = DEFAULT_LEASE_TIMING;
    console.log(`\n### Leader lease takeover (lease ${t.leaseDurationMs} ms, renew deadline ${t.renewDeadlineMs} ms, retry ${t.retryPeriodMs} ms)\n`);
    printTable(['what', 'median (s)', 'runs'], [['leader stops renewing -> standby leads', s(median(results.takeover)), results.takeover.map(s).join(', ')]]);
  }
}

async function measureHop(cluster: TestCluster, run: number): Promise<void> {
  const manager = cluster.node(0);
  await manager.docker.createNetwork({ Name: 'bench', Driver: 'overlay', Attachable: true });
  await manager.docker.createService({
    Name: 'echo',
    TaskTemplate: { ContainerSpec: { Image: ECHO }, Networks: [{ Target: 'bench' }] },
    Mode: { Global: {} },
    EndpointSpec: { Mode: 'dnsrr' },
  } as never);
  const bridge = await manager.docker.createContainer({ Image: ECHO, name: 'echo-bridge' });
  await bridge.start();
  const bridgeIp = (await bridge.inspect()).NetworkSettings.Networks.bridge!.IPAddress;
  const tasks = await waitForTasks(manager, 'echo', 3);
  await attachOverlayGateway(manager, 'bench', DEMO);
  const managerId = cluster.swarm!.nodeIds[0]!;
  const overlayIp = (t: Task) => t.NetworksAttachments!.find((a) => a.Network.Spec.Name === 'bench')!.Addresses[0]!.split('/')[0]!;
  const local = tasks.find((t) => t.NodeID === managerId)!;
  const remote = tasks.find((t) => t.NodeID !== managerId)!;
  const targets = { 'container on the manager bridge (today)': bridgeIp, 'task on the manager, via gateway': overlayIp(local), 'task on another node, via gateway + VXLAN': overlayIp(remote) };
  const out = await runInNode(manager, hopScript, [String(REQUESTS), JSON.stringify(targets)], `/tmp/autoserve-bench-hop-${process.pid}-${run}.mjs`);
  for (const [label, { p50, rate }] of Object.entries(JSON.parse(out) as Record<string, { p50: number; rate: number }>)) {
    results.hop.set(label, [...(results.hop.get(label) ?? []), p50]);
    results.hopRate.set(label, [...(results.hopRate.get(label) ?? []), rate]);
  }
}

/** Alternates targets in rounds so that load changes hit all of them alike. */
const hopScript = `
import http from 'node:http';
const [total, targetsJson] = process.argv.slice(2);
const targets = Object.entries(JSON.parse(targetsJson));
const rounds = 10, perRound = Math.ceil(Number(total) / rounds);
const agents = new Map(targets.map(([label]) => [label, new http.Agent({ keepAlive: true, maxSockets: 1 })]));
const get = (label, ip) => new Promise((resolve, reject) => {
  const req = http.get({ host: ip, port: 8080, path: '/', agent: agents.get(label), timeout: 5000 }, (res) => { res.resume(); res.on('end', resolve); });
  req.on('timeout', () => req.destroy(new Error('timeout'))); req.on('error', reject);
});
const lat = new Map(targets.map(([label]) => [label, []])), busy = new Map(targets.map(([label]) => [label, 0]));
for (const [label, ip] of targets) for (let i = 0; i < 50; i++) await get(label, ip);
for (let r = 0; r < rounds; r++) for (const [label, ip] of targets) {
  const start = performance.now();
  for (let i = 0; i < perRound; i++) { const s = performance.now(); await get(label, ip); lat.get(label).push(performance.now() - s); }
  busy.set(label, busy.get(label) + performance.now() - start);
}
const out = {};
for (const [label] of targets) { const l = lat.get(label).sort((a, b) => a - b); out[label] = { p50: l[Math.floor(l.length / 2)], rate: l.length / busy.get(label) * 1000 }; }
console.log(JSON.stringify(out));
process.exit(0);
`;

async function measureScaleOut(cluster: TestCluster): Promise<void> {
  const manager = cluster.node(0);
  const spec = (name: string, replicas: number) =>
    ({
      Name: name,
      TaskTemplate: { ContainerSpec: { Image: DEMO }, Networks: [{ Target: 'bench' }], RestartPolicy: { Condition: 'any', Delay: 0 } },
      Mode: { Replicated: { Replicas: replicas } },
      EndpointSpec: { Mode: 'dnsrr' },
    }) as never;
  let start = performance.now();
  await manager.docker.createService(spec('scale-one', 10));
  await waitForTasks(manager, 'scale-one', 10);
  results.scaleOne.push(performance.now() - start);
  start = performance.now();
  const names = Array.from({ length: 10 }, (_, i) => `scale-ten-${i}`);
  await Promise.all(names.map((n) => manager.docker.createService(spec(n, 1))));
  await Promise.all(names.map((n) => waitForTasks(manager, n, 1)));
  results.scaleTen.push(performance.now() - start);
  for (const name of ['scale-one', ...names]) await manager.docker.getService(name).remove();
}

async function measureNodeFailure(cluster: TestCluster): Promise<void> {
  const manager = cluster.node(0);
  const victim = cluster.node(2);
  // One task per node (spread over the nodes' index labels), so one sits on the victim.
  await manager.docker.createService({
    Name: 'web',
    TaskTemplate: {
      ContainerSpec: { Image: DEMO },
      Networks: [{ Target: 'bench' }],
      Placement: { Preferences: [{ Spread: { SpreadDescriptor: `node.labels.${NODE_INDEX_LABEL}` } }] },
      RestartPolicy: { Condition: 'any', Delay: 0 },
    },
    Mode: { Replicated: { Replicas: 3 } },
    EndpointSpec: { Mode: 'dnsrr' },
  } as never);
  const victimId = cluster.swarm!.nodeIds[2]!;
  await waitForTasks(manager, 'web', 3);
  const start = performance.now();
  await victim.stopDockerd('SIGKILL');
  await waitFor(async () => ((await manager.docker.getNode(victimId).inspect()) as { Status: { State: string } }).Status.State === 'down' || undefined);
  results.nodeDown.push(performance.now() - start);
  await waitFor(async () => {
    const list = await runningTasks(manager, 'web');
    return list.length === 3 && list.every((t) => t.NodeID !== victimId) ? list : undefined;
  });
  results.rescheduled.push(performance.now() - start);
}

async function measureTakeover(cluster: TestCluster): Promise<number> {
  const name = `bench-lease-${Date.now()}`;
  const contenders = [0, 1].map(
    (i) => new LeaderLease({ store: new SwarmConfigLeaseStore(new Docker({ socketPath: cluster.node(i).plan.dockerSocket }), name), identity: `node-${i}` }),
  );
  const [first, second] = contenders as [LeaderLease, LeaderLease];
  if (!(await first.tryAcquireOrRenew())) throw new Error('first contender did not get a fresh lease');
  await second.tryAcquireOrRenew(); // starts its clock on the current version
  // The leader renews once more and then "dies" (stops renewing, no release).
  await first.tryAcquireOrRenew();
  const start = performance.now();
  await waitFor(async () => ((await second.tryAcquireOrRenew()) ? true : undefined), DEFAULT_LEASE_TIMING.retryPeriodMs);
  return performance.now() - start;
}

async function runningTasks(node: TestNode, service: string): Promise<Task[]> {
  const list = (await node.docker.listTasks({ filters: { service: [service], 'desired-state': ['running'] } })) as Task[];
  return list.filter((t) => t.Status.State === 'running');
}

async function waitForTasks(node: TestNode, service: string, count: number): Promise<Task[]> {
  return waitFor(async () => {
    const list = await runningTasks(node, service);
    return list.length === count ? list : undefined;
  });
}

async function waitFor<T>(probe: () => Promise<T | undefined>, intervalMs = POLL_MS): Promise<T> {
  const deadline = performance.now() + WAIT_LIMIT_MS;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (performance.now() > deadline) throw new Error(`not done within ${WAIT_LIMIT_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

async function runInNode(node: TestNode, script: string, args: string[], file: string): Promise<string> {
  await writeFile(file, script);
  try {
    return await node.exec([process.execPath, file, ...args]);
  } finally {
    await rm(file, { force: true });
  }
}

await main();
