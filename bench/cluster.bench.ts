// Cluster figures on private test nodes, never the shared dockerd (docs/benchmarks.md):
//   1. how long a test node takes to start (one node; a 3-node swarm), images copied in;
//   2. the cost of the hop from a manager to a task over the overlay (through the Swarm runtime's
//      gateway container, docs/cluster.md "Routing"), beside a container on the manager's bridge;
//   3. AutoServe --runtime swarm on the 3 nodes (test/e2e/cluster/cluster-scenarios.ts, the same
//      scenarios the cluster test checks): scale-out to 10 replicas beside raw `docker service
//      scale`, failed requests during a rollout across nodes, recovery after a node's dockerd is
//      killed, and a standby controller taking over from a leader killed with SIGKILL.
//
//   npm run build && npx tsx bench/cluster.bench.ts --runs 3 [--requests 2000] [--takeover 1]
//
// Every request goes to addresses of namespaces and containers this script makes; every loop is
// bounded. Run alone on a quiet machine for figures worth writing down.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { ensureOverlayNetwork, OverlayGateway } from '../src/runtime/swarm/overlay-gateway.js';
import { leaderTakeover, nodeFailure, rolloutUnderLoad, scaleOut, waitFor, webManifest } from '../test/e2e/cluster/cluster-scenarios.js';
import { startTestDaemon } from '../test/e2e/harness.js';
import { GATEWAY_TEST_IMAGE, SWARM_TEST_IMAGES, swarmTargetOn } from '../test/e2e/swarm-target.js';
import { createTestCluster, type TestCluster, type TestNode } from '../test/support/test-node/test-cluster.js';
import { arg, median, printTable } from './bench-util.js';

const RUNS = Number(arg('runs', '3'));
const REQUESTS = Number(arg('requests', '2000'));
const TAKEOVER = arg('takeover', '1') === '1';
const DEMO = 'autoserve-demo:v1';
const ECHO = 'autoserve-node-echo:v1';

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
  scaleAutoserveRunning: [] as number[],
  scaleAutoserveReady: [] as number[],
  scaleRaw: [] as number[],
  spread: [] as string[],
  rolloutSeconds: [] as number[],
  rolloutFailed: [] as string[],
  nodeMarkedDown: [] as number[],
  nodeLeftNginx: [] as number[],
  nodeRescheduled: [] as number[],
  nodeReady: [] as number[],
  nodeReadyAfterReschedule: [] as number[],
  nodeFailed: [] as string[],
  takeoverLeads: [] as number[],
  takeoverApplied: [] as number[],
  takeoverFailed: [] as string[],
  twoLeaders: [] as string[],
};

async function main(): Promise<void> {
  for (let run = 1; run <= RUNS; run++) {
    console.error(`run ${run}/${RUNS}`);
    const single = await createTestCluster({ images: [DEMO], purpose: 'bench cluster: single' });
    results.nodeStart.push(single.timings.networkMs + single.timings.enginesMs);
    results.nodeImages.push(single.timings.imagesMs);
    await single.destroy();

    const cluster = await createTestCluster({ nodes: 3, images: SWARM_TEST_IMAGES, swarm: { managers: 3, heartbeatMs: 1_000 }, purpose: 'bench cluster' });
    try {
      results.swarmStart.push(cluster.timings.totalMs);
      await measureHop(cluster, run);
      await measureAutoserve(cluster);
    } finally {
      await cluster.destroy();
    }
  }

  const s = (ms: number) => (ms / 1000).toFixed(2);
  const secs = (values: number[]) => [values.map((v) => v.toFixed(1)).join(', '), median(values).toFixed(1)];
  console.log('\n### Test nodes\n');
  printTable(
    ['what', 'median (s)', 'runs'],
    [
      ['one node: namespace + containerd + dockerd answering', s(median(results.nodeStart)), results.nodeStart.map(s).join(', ')],
      ['one node: copy the demo image in (save + load)', s(median(results.nodeImages)), results.nodeImages.map(s).join(', ')],
      [`3-node swarm (3 managers), ${SWARM_TEST_IMAGES.length} images, all Ready`, s(median(results.swarmStart)), results.swarmStart.map(s).join(', ')],
    ],
  );
  console.log(`\n### Hop from the manager (sequential keep-alive GETs, ${REQUESTS} per target per run)\n`);
  printTable(
    ['target', 'p50 latency (ms, median of runs)', 'requests/s (median)'],
    [...results.hop.keys()].map((k) => [k, median(results.hop.get(k)!).toFixed(3), median(results.hopRate.get(k)!).toFixed(0)]),
  );
  console.log('\n### AutoServe --runtime swarm on 3 nodes (40 requests/s through nginx during each change)\n');
  const row = (what: string, values: number[], target: string) => {
    const [runs, med] = secs(values);
    return [what, med!, runs!, target];
  };
  printTable(
    ['what', 'median (s)', 'runs (s)', 'target'],
    [
      row('scale-out 1 -> 10 replicas: every task running (AutoServe)', results.scaleAutoserveRunning, '-'),
      row('scale-out 1 -> 10 replicas: every replica ready and routed (AutoServe)', results.scaleAutoserveReady, '-'),
      row('raw `docker service scale` 0 -> 10 of one service: every task running', results.scaleRaw, '-'),
      row('rollout of 4 replicas across the nodes to a new image', results.rolloutSeconds, '-'),
      row("node's dockerd killed -> Swarm marks the node down", results.nodeMarkedDown, '-'),
      row("node's dockerd killed -> its tasks out of nginx", results.nodeLeftNginx, 'marked down + one health interval (1 s)'),
      row("node's dockerd killed -> every replica running on other nodes", results.nodeRescheduled, '-'),
      row("node's dockerd killed -> back at the full ready count", results.nodeReady, '-'),
      row('rescheduled -> back at the full ready count', results.nodeReadyAfterReschedule, '< 15 s'),
      ...(TAKEOVER
        ? [row('leader killed (SIGKILL) -> the standby leads', results.takeoverLeads, '< 15 s'), row('leader killed -> a change written at the kill is applied', results.takeoverApplied, '-')]
        : []),
    ],
  );
  console.log('');
  printTable(
    ['what', 'per run'],
    [
      ['replicas per node after the scale-out (spread)', results.spread.join('; ')],
      ['failed requests during the rollout (target 0)', results.rolloutFailed.join(', ')],
      ['failed requests while a node died', results.nodeFailed.join(', ')],
      ...(TAKEOVER
        ? [
            ['failed requests through the standby during the takeover (target 0)', results.takeoverFailed.join(', ')],
            ['samples of both /leader endpoints that saw two leaders (target 0)', results.twoLeaders.join(', ')],
          ]
        : []),
    ],
  );
}

/** The scenarios of the cluster test, with an in-process controller on the first manager. */
async function measureAutoserve(cluster: TestCluster): Promise<void> {
  const t = await startTestDaemon('bench-cluster', { logLevel: 'error' }, { target: () => swarmTargetOn(cluster, false) });
  try {
    const scale = await scaleOut(t, cluster, 10);
    results.scaleAutoserveRunning.push(scale.autoserveRunningS);
    results.scaleAutoserveReady.push(scale.autoserveReadyS);
    results.scaleRaw.push(scale.rawRunningS);
    results.spread.push(Object.values(scale.perNode).sort().reverse().join('/'));
    const rollout = await rolloutUnderLoad(t, 4);
    results.rolloutSeconds.push(rollout.seconds);
    results.rolloutFailed.push(`${rollout.load.failed}/${rollout.load.sent}`);
    const failure = await nodeFailure(t, cluster, 2, 4);
    results.nodeMarkedDown.push(failure.markedDownS);
    results.nodeLeftNginx.push(failure.leftNginxS);
    results.nodeRescheduled.push(failure.rescheduledS);
    results.nodeReady.push(failure.readyS);
    results.nodeReadyAfterReschedule.push(failure.readyS - failure.rescheduledS);
    results.nodeFailed.push(`${failure.load.failed}/${failure.load.sent}`);
    await cluster.node(2).startDockerd();
    await t.writeManifest('web.yaml', webManifest(0));
    await waitFor('app at 0', async () => ((await t.containers('web')).length === 0 ? true : undefined));
  } finally {
    await t.cleanup();
  }
  if (!TAKEOVER) return;
  const root = await mkdtemp(join(tmpdir(), 'autoserve-bench-takeover-'));
  try {
    const takeover = await leaderTakeover(cluster, root, 3);
    results.takeoverLeads.push(takeover.leadsS);
    results.takeoverApplied.push(takeover.appliedS);
    results.takeoverFailed.push(`${takeover.load.failed}/${takeover.load.sent}`);
    results.twoLeaders.push(`${takeover.twoLeaders}/${takeover.samples}`);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

async function measureHop(cluster: TestCluster, run: number): Promise<void> {
  const manager = cluster.node(0);
  const network = await ensureOverlayNetwork(manager.docker, 'bench', 'bench');
  await manager.docker.createService({
    Name: 'echo',
    TaskTemplate: { ContainerSpec: { Image: ECHO }, Networks: [{ Target: 'bench' }] },
    Mode: { Global: {} },
    EndpointSpec: { Mode: 'dnsrr' },
  } as never);
  const bridge = await manager.docker.createContainer({ Image: ECHO, name: 'echo-bridge' });
  await bridge.start();
  const bridgeIp = (await bridge.inspect()).NetworkSettings.Networks.bridge!.IPAddress;
  const tasks = await waitFor('3 echo tasks', async () => {
    const list = (await manager.docker.listTasks({ filters: { service: ['echo'], 'desired-state': ['running'] } })) as Task[];
    const running = list.filter((t) => t.Status.State === 'running');
    return running.length === 3 ? running : undefined;
  });
  const gateway = new OverlayGateway({
    docker: manager.docker,
    network,
    name: 'bench-gateway',
    image: GATEWAY_TEST_IMAGE,
    instance: 'bench',
    installRoute: async (subnet, nextHop) => void (await manager.exec(['ip', 'route', 'replace', subnet, 'via', nextHop])),
    logger: pino({ level: 'silent' }),
  });
  await gateway.ensure();
  const managerId = cluster.swarm!.nodeIds[0]!;
  const overlayIp = (t: Task) => t.NetworksAttachments!.find((a) => a.Network.Spec.Name === 'bench')!.Addresses[0]!.split('/')[0]!;
  const local = tasks.find((t) => t.NodeID === managerId)!;
  const remote = tasks.find((t) => t.NodeID !== managerId)!;
  const targets = { 'container on the manager bridge (one host today)': bridgeIp, 'task on the manager, via gateway': overlayIp(local), 'task on another node, via gateway + VXLAN': overlayIp(remote) };
  const out = await runInNode(manager, hopScript, [String(REQUESTS), JSON.stringify(targets)], `/tmp/autoserve-bench-hop-${process.pid}-${run}.mjs`);
  for (const [label, { p50, rate }] of Object.entries(JSON.parse(out) as Record<string, { p50: number; rate: number }>)) {
    results.hop.set(label, [...(results.hop.get(label) ?? []), p50]);
    results.hopRate.set(label, [...(results.hopRate.get(label) ?? []), rate]);
  }
  await manager.docker.getService('echo').remove();
  await bridge.remove({ force: true });
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

async function runInNode(node: TestNode, script: string, args: string[], file: string): Promise<string> {
  await writeFile(file, script);
  try {
    return await node.exec([process.execPath, file, ...args]);
  } finally {
    await rm(file, { force: true });
  }
}

await main();
