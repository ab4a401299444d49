// AutoServe on a multi-node swarm of test nodes: the scenarios of issue 16, each returning its
// figures. The cluster test (swarm-cluster.cluster.test.ts) checks them against their targets;
// bench/cluster.bench.ts runs them again for docs/benchmarks.md. Loads are bounded in rate and time
// and go only to loopback (the in-process daemon's nginx) or to test node addresses.
import { performance } from 'node:perf_hooks';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LeadershipStatus } from '../../../src/core/leadership.js';
import type { ReplicaFacts } from '../../../src/core/replica.js';
import { appManifest } from '../../support/app-manifest.js';
import { LoadGenerator, type LoadResult } from '../../support/load-generator.js';
import { ControllerOnNode, CONTROLLER_LB_PORT } from '../../support/test-node/controller-on-node.js';
import type { TestCluster } from '../../support/test-node/test-cluster.js';
import type { TestDaemon } from '../harness.js';
import { GATEWAY_TEST_IMAGE } from '../swarm-target.js';

export const APP = 'web';
const HOST = `${APP}.localhost`;
const POLL_MS = 100;
const WAIT_LIMIT_MS = 120_000;
const LOAD_RATE = 40;

/** The demo app (busybox httpd) with a 1 s health check and a short drain. */
export function webManifest(replicas: number, image = 'autoserve-demo:v1'): string {
  return appManifest(APP, { replicas, image, spec: ['  rollout:', '    maxSurge: 1', '    progressDeadlineSeconds: 30'].join('\n') }).replace('drainSeconds: 0', 'drainSeconds: 1');
}

const seconds = (fromMs: number) => (performance.now() - fromMs) / 1000;

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, limitMs = WAIT_LIMIT_MS): Promise<T> {
  const deadline = performance.now() + limitMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      lastError = err;
    }
    if (performance.now() > deadline) throw new Error(`${what}: not within ${limitMs / 1000}s${lastError ? ` (${String(lastError)})` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

function loadThrough(port: number, host = '127.0.0.1', durationMs = 180_000): LoadGenerator {
  return new LoadGenerator({ host, port, hostHeader: HOST, ratePerSec: LOAD_RATE, durationMs, timeoutMs: 5_000, isOk: (s) => s === 200 });
}

/** Every replica of the app on the wanted image, ready and routed. */
async function converged(t: TestDaemon, replicas: number, image = 'autoserve-demo:v1'): Promise<ReplicaFacts[]> {
  return waitFor(`${replicas} ready on ${image}`, async () => {
    const status = t.daemon.store.app(APP);
    if (status?.phase !== 'Running' || status.replicas.ready !== replicas || status.spec?.image !== image) return undefined;
    const facts = await t.containers(APP);
    return facts.length === replicas && facts.every((f) => f.running && f.image === image) ? facts : undefined;
  });
}

export function replicasPerNode(facts: readonly ReplicaFacts[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const f of facts) counts[f.node?.node ?? '?'] = (counts[f.node?.node ?? '?'] ?? 0) + 1;
  return counts;
}

export interface ScaleOutFigures {
  replicas: number;
  /** Manifest written -> every replica's task running. */
  autoserveRunningS: number;
  /** Manifest written -> every replica ready and routed by nginx. */
  autoserveReadyS: number;
  /** `docker service scale` of one plain service to the same count -> every task running. */
  rawRunningS: number;
  perNode: Record<string, number>;
}

/** Scale-out from 1 to `replicas` through AutoServe, then the same count with raw Swarm. */
export async function scaleOut(t: TestDaemon, cluster: TestCluster, replicas = 10): Promise<ScaleOutFigures> {
  await t.writeManifest('web.yaml', webManifest(1));
  await converged(t, 1);
  let start = performance.now();
  await t.writeManifest('web.yaml', webManifest(replicas));
  let autoserveRunningS: number | undefined;
  const facts = await waitFor(`${replicas} replicas ready`, async () => {
    const all = await t.containers(APP);
    if (autoserveRunningS === undefined && all.length === replicas && all.every((f) => f.state === 'running')) autoserveRunningS = seconds(start);
    return t.daemon.store.app(APP)?.replicas.ready === replicas && all.length === replicas ? all : undefined;
  });
  const autoserveReadyS = seconds(start);

  const rawRunningS = await rawScale(cluster.node(0).docker, replicas);
  return { replicas, autoserveRunningS: autoserveRunningS ?? autoserveReadyS, autoserveReadyS, rawRunningS, perNode: replicasPerNode(facts) };
}

/** One plain service (no AutoServe) scaled from 0 to `replicas`: seconds until every task runs. */
async function rawScale(manager: TestCluster['nodes'][number]['docker'], replicas: number): Promise<number> {
  const name = `raw-scale-${Date.now()}`;
  await manager.createService({
    Name: name,
    TaskTemplate: { ContainerSpec: { Image: 'autoserve-demo:v1', Init: true }, RestartPolicy: { Condition: 'any', Delay: 0 } },
    Mode: { Replicated: { Replicas: 0 } },
    EndpointSpec: { Mode: 'dnsrr' },
  } as never);
  try {
    const service = manager.getService(name);
    const info = (await service.inspect()) as { Version: { Index: number }; Spec: Record<string, unknown> };
    const start = performance.now();
    await service.update({ _query: { version: info.Version.Index }, _body: { ...info.Spec, Mode: { Replicated: { Replicas: replicas } } } } as never);
    await waitFor(`raw service at ${replicas} running`, async () => {
      const tasks = (await manager.listTasks({ filters: { service: [name], 'desired-state': ['running'] } })) as { Status: { State: string } }[];
      return tasks.filter((task) => task.Status.State === 'running').length === replicas || undefined;
    });
    return seconds(start);
  } finally {
    await manager.getService(name).remove().catch(() => undefined);
  }
}

export interface RolloutFigures {
  seconds: number;
  load: LoadResult;
  perNode: Record<string, number>;
}

/** A rollout to a new image across the nodes under a steady load through nginx. */
export async function rolloutUnderLoad(t: TestDaemon, replicas: number): Promise<RolloutFigures> {
  await t.writeManifest('web.yaml', webManifest(replicas));
  await converged(t, replicas);
  const load = loadThrough(t.options.lbPort);
  const running = load.run();
  const start = performance.now();
  let facts: ReplicaFacts[];
  try {
    await t.writeManifest('web.yaml', webManifest(replicas, 'autoserve-demo:v2'));
    facts = await converged(t, replicas, 'autoserve-demo:v2');
  } finally {
    load.stop();
  }
  return { seconds: seconds(start), load: await running, perNode: replicasPerNode(facts) };
}

export interface NodeFailureFigures {
  victim: string;
  /** Replicas that ran on the victim when its dockerd was killed. */
  onVictim: number;
  /** Kill -> Swarm lists the node as down. */
  markedDownS: number;
  /** Kill -> none of the victim's tasks in nginx (its node marked down, or its replicas replaced). */
  leftNginxS: number;
  /** Kill -> every replica runs on another node (Swarm rescheduled, or AutoServe replaced). */
  rescheduledS: number;
  /** Kill -> back at the full ready count, none on the victim. */
  readyS: number;
  load: LoadResult;
}

/** Kills one node's dockerd (SIGKILL) under a steady load; the app must come back by itself. */
export async function nodeFailure(t: TestDaemon, cluster: TestCluster, victimIndex: number, replicas: number): Promise<NodeFailureFigures> {
  const victim = cluster.node(victimIndex);
  const victimId = cluster.swarm!.nodeIds[victimIndex]!;
  await t.writeManifest('web.yaml', webManifest(replicas, 'autoserve-demo:v2'));
  const before = await converged(t, replicas, 'autoserve-demo:v2');
  const onVictim = before.filter((f) => f.node?.nodeId === victimId).length;
  if (onVictim === 0) throw new Error(`no replica on ${victim.name}: ${JSON.stringify(replicasPerNode(before))}`);
  const victimAddresses = before.filter((f) => f.node?.nodeId === victimId).map((f) => f.addresses[8080]!);

  const load = loadThrough(t.options.lbPort);
  const running = load.run();
  let leftNginxS: number | undefined;
  let markedDownS: number | undefined;
  let rescheduledS: number | undefined;
  let readyS: number;
  const manager = cluster.node(0).docker;
  try {
    await new Promise((resolve) => setTimeout(resolve, 1_000)); // steady before the failure
    const start = performance.now();
    await victim.stopDockerd('SIGKILL');
    readyS = await waitFor('back at full ready count off the dead node', async () => {
      if (leftNginxS === undefined && !victimAddresses.some((a) => t.daemon.routes!.isServed(APP, a))) leftNginxS = seconds(start);
      if (markedDownS === undefined && ((await manager.getNode(victimId).inspect()) as { Status: { State: string } }).Status.State !== 'ready') markedDownS = seconds(start);
      const facts = await t.containers(APP);
      const elsewhere = facts.filter((f) => f.running && f.node?.nodeId !== victimId && Object.keys(f.addresses).length > 0);
      if (rescheduledS === undefined && elsewhere.length >= replicas) rescheduledS = seconds(start);
      const status = t.daemon.store.app(APP);
      return rescheduledS !== undefined && status?.replicas.ready === replicas && elsewhere.length === replicas ? seconds(start) : undefined;
    });
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  } finally {
    load.stop();
  }
  return { victim: victim.name, onVictim, markedDownS: markedDownS ?? readyS, leftNginxS: leftNginxS ?? readyS, rescheduledS: rescheduledS ?? readyS, readyS, load: await running };
}

export interface TakeoverFigures {
  /** kill -9 of the leading controller -> the standby leads. */
  leadsS: number;
  /** kill -9 -> the manifest change written at the kill is applied (new count ready on the standby). */
  appliedS: number;
  /** Samples of both /leader endpoints; and how many of them saw two leaders. */
  samples: number;
  twoLeaders: number;
  /** Load through the standby's nginx during the whole takeover. */
  load: LoadResult;
  standbyNamedLeader: boolean;
}

/**
 * Two `autoserve run --runtime swarm` processes on two managers: one leads, the other stands by and
 * serves its own nginx and status endpoint. Under load through the standby's nginx, the leader is
 * killed with SIGKILL and a manifest change is written at once.
 */
export async function leaderTakeover(cluster: TestCluster, root: string, replicas: number): Promise<TakeoverFigures> {
  const manifestsDir = join(root, 'manifests');
  await mkdir(manifestsDir, { recursive: true });
  await writeFile(join(manifestsDir, 'web.yaml'), webManifest(replicas));
  const controllers = [0, 1].map((i) => {
    const stateDir = join(root, `state-${i}`);
    return { stateDir, start: () => new ControllerOnNode(cluster.node(i), { manifestsDir, stateDir, instance: 'ha', gatewayImage: GATEWAY_TEST_IMAGE }) };
  });
  for (const c of controllers) await mkdir(c.stateDir, { recursive: true });
  const [a, b] = [controllers[0]!.start(), controllers[1]!.start()];
  const both = [a, b];
  try {
    return await takeover();
  } catch (err) {
    throw new Error(`${String(err)}\n--- controller on ${a.node.name}:\n${await a.logTail()}\n--- controller on ${b.node.name}:\n${await b.logTail()}`);
  } finally {
    await Promise.all(both.map((c) => c.stop().catch(() => undefined)));
  }

  async function takeover(): Promise<TakeoverFigures> {
    const leadershipOf = async (c: ControllerOnNode) => c.leadership().catch(() => undefined);
    const leader = await waitFor('a leader', async () => {
      const views = await Promise.all(both.map(leadershipOf));
      const leading = both.filter((_, i) => views[i]?.leading);
      return leading.length === 1 ? leading[0] : undefined;
    });
    const standby = leader === a ? b : a;
    const leaderView = (await leader.leadership())!;
    const standbyView = await waitFor('the standby names the leader', async () => {
      const view = await leadershipOf(standby);
      return view?.leader === leaderView.identity ? view : undefined;
    });
    for (const c of both) await waitFor(`${replicas} ready seen by ${c.node.name}`, async () => ((await c.app(APP)).replicas.ready === replicas ? true : undefined));

    let samples = 0;
    let twoLeaders = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const views = (await Promise.all(both.map(leadershipOf))) as (LeadershipStatus | undefined)[];
        samples += 1;
        if (views.filter((v) => v?.leading).length > 1) twoLeaders += 1;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();

    const load = loadThrough(CONTROLLER_LB_PORT, standby.address);
    const running = load.run();
    let leadsS: number;
    let appliedS: number;
    try {
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const start = performance.now();
      leader.kill('SIGKILL');
      await writeFile(join(manifestsDir, 'web.yaml'), webManifest(replicas + 1));
      leadsS = await waitFor('the standby leads', async () => ((await leadershipOf(standby))?.leading ? seconds(start) : undefined));
      appliedS = await waitFor('the change applied by the new leader', async () => {
        const status = await standby.app(APP);
        return status.replicas.desired === replicas + 1 && status.replicas.ready === replicas + 1 ? seconds(start) : undefined;
      });
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    } finally {
      load.stop();
      sampling = false;
    }
    await sampler;
    return { leadsS, appliedS, samples, twoLeaders, load: await running, standbyNamedLeader: standbyView.leader === leaderView.identity };
  }
}
