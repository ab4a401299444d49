// AutoServe on a swarm of three test nodes (three managers, 1 s heartbeat), never the shared
// dockerd: scale-out across nodes beside raw Swarm, a rollout across nodes under load, a node's
// dockerd killed under load, and a standby controller taking over from a killed leader. Slow for
// this 2-core machine: it runs with `scripts/test.sh --cluster`, not in the default suite.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appManifest } from '../../support/app-manifest.js';
import { createTestCluster, type TestCluster } from '../../support/test-node/test-cluster.js';
import { startTestDaemon, type TestDaemon } from '../harness.js';
import { SWARM_TEST_IMAGES, swarmTargetOn, swarmUnsupported } from '../swarm-target.js';
import { APP, leaderTakeover, nodeFailure, replicasPerNode, rolloutUnderLoad, scaleOut, waitFor, webManifest } from './cluster-scenarios.js';

const NODES = 3;

describe.skipIf(swarmUnsupported)(`AutoServe on a ${NODES}-node swarm`, () => {
  let cluster: TestCluster;
  let t: TestDaemon | undefined;

  beforeAll(async () => {
    cluster = await createTestCluster({ nodes: NODES, images: SWARM_TEST_IMAGES, swarm: { managers: NODES, heartbeatMs: 1_000 }, purpose: 'e2e swarm cluster' });
    console.log(`cluster up: ${JSON.stringify(cluster.timings)}`);
    t = await startTestDaemon('cluster', {}, { target: () => swarmTargetOn(cluster, false) });
  }, 240_000);
  afterAll(async () => {
    await t?.cleanup();
    await cluster?.destroy();
  });

  it('scales out to 10 replicas spread over the 3 nodes (raw docker service scale beside it)', async () => {
    const figures = await scaleOut(t!, cluster, 10);
    console.log(`[scale-out] ${JSON.stringify(figures)}`);
    expect(Object.keys(figures.perNode)).toHaveLength(NODES);
    for (const count of Object.values(figures.perNode)) expect(count).toBeGreaterThanOrEqual(3); // 4/3/3
    const status = t!.daemon.store.app(APP)!;
    expect(new Set(status.instances.map((i) => i.node))).toEqual(new Set(cluster.nodes.map((n) => n.name)));
  }, 240_000);

  it('minReplicas 0 acts as 1 on a swarm, and the app says why (each controller sees only its own requests)', async () => {
    const name = 'sleepy';
    await t!.writeManifest(`${name}.yaml`, appManifest(name, { spec: ['  scaling:', '    minReplicas: 0', '    maxReplicas: 2', '    idleSeconds: 2', '    policy:', '      mode: manual'].join('\n') }));
    const condition = await waitFor('ScaleToZeroUnavailable', () => t!.daemon.store.app(name)?.conditions.find((c) => c.type === 'ScaleToZeroUnavailable' && c.status === 'True'));
    expect(condition.message).toMatch(/Docker Swarm.*minReplicas 0 acts as 1/);
    await waitFor(`${name} ready`, () => (t!.daemon.store.app(name)?.replicas.ready === 1 ? true : undefined));
    await new Promise((r) => setTimeout(r, 5_000)); // over two idleSeconds without a request
    expect(await t!.containers(name)).toHaveLength(1);
    expect(t!.daemon.store.app(name)?.replicas.ready).toBe(1);
    await t!.removeManifest(`${name}.yaml`);
    await waitFor(`${name} removed`, async () => ((await t!.containers(name)).length === 0 ? true : undefined));
  }, 240_000);

  it('rolls out a new image across the nodes under load with zero failed requests', async () => {
    const figures = await rolloutUnderLoad(t!, 4);
    console.log(`[rollout] ${figures.seconds.toFixed(1)} s, sent=${figures.load.sent} failed=${figures.load.failed} p99=${figures.load.latenciesMs.p99}ms on ${JSON.stringify(figures.perNode)}`);
    expect(Object.keys(figures.perNode).length).toBeGreaterThan(1);
    expect(figures.load.failed).toBe(0);
    expect(figures.load.sent).toBeGreaterThan(100);
  }, 240_000);

  it('a node\'s dockerd is killed under load: its tasks leave nginx, the app is back at its ready count by itself, status says where and what was lost', async () => {
    const figures = await nodeFailure(t!, cluster, 2, 4);
    console.log(`[node failure] ${JSON.stringify({ ...figures, load: { sent: figures.load.sent, failed: figures.load.failed, failures: figures.load.failures.slice(0, 3) } })}`);
    expect(figures.onVictim).toBeGreaterThan(0);
    expect(figures.leftNginxS - figures.markedDownS).toBeLessThan(2); // one health interval (1 s) after Swarm says the node is down, plus a route sync
    expect(figures.readyS - figures.rescheduledS).toBeLessThan(15); // target: full ready count within 15 s of rescheduling
    expect(figures.load.failed).toBeLessThanOrEqual(Math.max(2, figures.load.sent * 0.01));
    const status = t!.daemon.store.app(APP)!;
    expect(status.instances.every((i) => i.node !== undefined && i.node !== cluster.node(2).name)).toBe(true);
    expect(t!.daemon.store.events({ app: APP }).some((e) => e.reason === 'ReplicasLostWithNode' && e.message.includes(cluster.node(2).name))).toBe(true);

    // The node returns: its leftover tasks are stopped, nothing is lost any more.
    await cluster.node(2).startDockerd();
    await waitFor('NodeLost cleared', () => (t!.daemon.store.app(APP)!.conditions.some((c) => c.type === 'NodeLost') ? undefined : true));
    expect(replicasPerNode(await t!.containers(APP))).not.toHaveProperty(cluster.node(2).name);
  }, 240_000);

  it('two controllers on two managers: one leads, the standby names it; kill -9 of the leader under load: the standby leads and applies a change, never two leaders', async () => {
    await t!.writeManifest('web.yaml', webManifest(0)); // the in-process controller's replicas go; the CPU is the standby test's
    await waitFor('first app at 0', async () => ((await t!.containers(APP)).length === 0 ? true : undefined));
    await t!.stop();
    const root = await mkdtemp(join(tmpdir(), 'autoserve-takeover-'));
    try {
      const figures = await leaderTakeover(cluster, root, 3);
      console.log(`[takeover] ${JSON.stringify({ ...figures, load: { sent: figures.load.sent, failed: figures.load.failed, failures: figures.load.failures.slice(0, 3) } })}`);
      expect(figures.standbyNamedLeader).toBe(true);
      expect(figures.twoLeaders).toBe(0);
      expect(figures.samples).toBeGreaterThan(50);
      expect(figures.leadsS).toBeLessThan(15);
      expect(figures.load.failed).toBe(0);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  }, 300_000);
});
