// Test nodes: private Docker engines in network namespaces, alone or joined into a Swarm, for
// tests that must stop, kill or hang dockerd, or need several nodes. Nothing of the host's
// dockerd is touched. See docs/cluster.md ("Test nodes") for the layout and the address plan.
//
//   const cluster = await createTestCluster({ nodes: 3, images: ['autoserve-demo:v1'], swarm: true });
//   try { ... cluster.nodes[0].docker ... } finally { await cluster.destroy(); }
//
// A process that runs "on" a node (the AutoServe daemon under test, its nginx) is started with
// node.spawn()/node.exec(): it sees the node's network (its 127.0.0.1, its published ports) and the
// host's files, with DOCKER_HOST set to the node's socket. The host reaches the node at
// node.address; nodes reach each other at their addresses.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { access, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import Docker from 'dockerode';
import { MAX_NODES_PER_SLOT, nodePlan, slotPlan, type NodePlan, type SlotPlan } from './address-plan.js';
import { NodeEngine, type EngineOptions } from './engine.js';
import { copyImages } from './images.js';
import { createNodeNetwork, createSlotNetwork, netnsPath, nsenterArgs, runCommand } from './netns.js';
import { claimSlot, sweepSlots } from './slot-registry.js';
import { formSwarm, type SwarmInfo } from './swarm.js';
import { destroySlot, killNodeProcesses } from './teardown.js';

export interface TestClusterOptions {
  /** Node count, 1..8 (default 1). */
  nodes?: number;
  /** Local images to copy into every node. */
  images?: string[];
  /** Form a Swarm: true for one manager, or the manager count and agent heartbeat. */
  swarm?: boolean | { managers?: number; heartbeatMs?: number };
  /** dockerd live-restore on every node (incompatible with Swarm). */
  liveRestore?: boolean;
  dockerdArgs?: string[];
  /** Recorded in the slot's owner.json (which test made it). */
  purpose?: string;
  /** Survive this process (CLI use): only `scripts/test-node.sh down` removes it. */
  keep?: boolean;
  /** Where images come from (default: the host's engine). */
  imageSource?: Docker;
}

/** Milliseconds spent per phase of createTestCluster. */
export interface ClusterTimings {
  sweepMs: number;
  networkMs: number;
  enginesMs: number;
  imagesMs: number;
  swarmMs: number;
  totalMs: number;
}

export class TestNode {
  readonly engine: NodeEngine;

  constructor(
    readonly plan: NodePlan,
    engineOptions: EngineOptions = {},
  ) {
    this.engine = new NodeEngine(plan, engineOptions);
  }

  get name(): string {
    return this.plan.netns;
  }
  /** The node's address on the slot's link (reachable from the host and the other nodes). */
  get address(): string {
    return this.plan.address;
  }
  get docker(): Docker {
    return this.engine.docker;
  }
  /** `unix:///run/autoserve-tn/<slot>/<i>/docker.sock`, for DOCKER_HOST. */
  get dockerHost(): string {
    return `unix://${this.plan.dockerSocket}`;
  }
  get netnsPath(): string {
    return netnsPath(this.plan.netns);
  }

  /** Environment for a process on this node: the host's, with DOCKER_HOST pointing at the node. */
  env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
    return { ...process.env, DOCKER_HOST: this.dockerHost, ...extra };
  }

  /** Runs a command in the node's network namespace; resolves with stdout. */
  exec(argv: string[]): Promise<string> {
    return runCommand(['env', `DOCKER_HOST=${this.dockerHost}`, ...argv], { netns: this.plan.netns });
  }

  /** Starts a process in the node's network namespace (DOCKER_HOST set; options.env adds to it). */
  spawn(argv: string[], options: SpawnOptions = {}): ChildProcess {
    const [file, ...args] = [...nsenterArgs(this.plan.netns), ...argv];
    return spawn(file!, args, { ...options, env: this.env(options.env) });
  }

  /** Orderly (SIGTERM) or crash (SIGKILL) stop of dockerd; waits until it has exited. */
  stopDockerd(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    return this.engine.stopDockerd(signal);
  }
  /** Starts dockerd again (optionally switching live-restore); resolves once it answers. */
  startDockerd(options: { liveRestore?: boolean } = {}): Promise<void> {
    return this.engine.startDockerd(options);
  }
  async restartDockerd(options: { signal?: NodeJS.Signals; liveRestore?: boolean } = {}): Promise<void> {
    await this.engine.stopDockerd(options.signal ?? 'SIGTERM');
    await this.engine.startDockerd(options);
  }
  /** SIGSTOP: dockerd hangs (its socket still accepts connections, nothing answers). */
  pauseDockerd(): Promise<void> {
    return this.engine.signalDockerd('SIGSTOP');
  }
  resumeDockerd(): Promise<void> {
    return this.engine.signalDockerd('SIGCONT');
  }

  /** The node dies as a machine does: SIGKILL to dockerd, containerd, shims and every container. */
  crash(): Promise<void> {
    return killNodeProcesses(this.plan);
  }
  /** Unplugs the node's cable (its port on the slot's bridge goes down): a network partition. */
  disconnect(): Promise<void> {
    return runCommand(['ip', 'link', 'set', this.plan.switchPort, 'down'], { netns: slotPlan(this.plan.slot).switchNetns }).then(() => undefined);
  }
  reconnect(): Promise<void> {
    return runCommand(['ip', 'link', 'set', this.plan.switchPort, 'up'], { netns: slotPlan(this.plan.slot).switchNetns }).then(() => undefined);
  }
}

export class TestCluster {
  private destroyed = false;

  constructor(
    readonly plan: SlotPlan,
    readonly nodes: TestNode[],
    readonly timings: ClusterTimings,
    readonly swarm: SwarmInfo | undefined,
  ) {}

  get slot(): number {
    return this.plan.slot;
  }
  /** The host's address on the cluster's link. */
  get hostAddress(): string {
    return this.plan.hostAddress;
  }

  node(index: number): TestNode {
    const node = this.nodes[index];
    if (!node) throw new RangeError(`cluster ${this.slot} has no node ${index}`);
    return node;
  }

  /** Kills every node's processes and removes namespaces, links, mounts, cgroups and data. Idempotent. */
  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    await destroySlot(this.slot);
  }
}

/**
 * Makes a cluster of test nodes. Sweeps stale leftovers of dead runs first. On any failure the
 * partly made cluster is torn down before the error is thrown.
 */
export async function createTestCluster(options: TestClusterOptions = {}): Promise<TestCluster> {
  const count = options.nodes ?? 1;
  if (!Number.isInteger(count) || count < 1 || count > MAX_NODES_PER_SLOT) {
    throw new RangeError(`nodes must be 1..${MAX_NODES_PER_SLOT}, got ${count}`);
  }
  const swarm = options.swarm === true ? {} : options.swarm || undefined;
  if (swarm && options.liveRestore) throw new Error('dockerd refuses live-restore in Swarm mode: choose one');
  const clock = phaseClock();
  await sweepSlots();
  const sweepMs = clock.lap();
  const slot = await claimSlot(options.purpose ?? `pid ${process.pid}`, { keep: options.keep });
  try {
    const plan = slotPlan(slot);
    const nodes = Array.from({ length: count }, (_, i) => new TestNode(nodePlan(slot, i), options));
    await createSlotNetwork(plan);
    for (const node of nodes) await createNodeNetwork(plan, node.plan);
    const networkMs = clock.lap();
    await Promise.all(nodes.map((node) => node.engine.start()));
    const enginesMs = clock.lap();
    await copyImages(
      options.imageSource ?? new Docker(),
      nodes.map((n) => n.docker),
      options.images ?? [],
      join(plan.dataDir, 'images.tar'),
    );
    const imagesMs = clock.lap();
    const swarmInfo = swarm
      ? await formSwarm(
          nodes.map((n) => ({ docker: n.docker, address: n.address })),
          { pool: plan.swarmPool, managers: swarm.managers, heartbeatMs: swarm.heartbeatMs },
        )
      : undefined;
    const swarmMs = clock.lap();
    return new TestCluster(plan, nodes, { sweepMs, networkMs, enginesMs, imagesMs, swarmMs, totalMs: clock.total() }, swarmInfo);
  } catch (err) {
    await destroySlot(slot).catch(() => undefined);
    throw err;
  }
}

/** Rebuilds the handle of an existing cluster from disk (CLI: exec, dockerd stop/start). */
export async function attachTestCluster(slot: number): Promise<TestCluster> {
  const plan = slotPlan(slot);
  const indexes = (await readdir(plan.runDir).catch(() => {
    throw new Error(`no test node cluster in slot ${slot} (${plan.runDir} missing)`);
  }))
    .filter((e) => /^\d+$/.test(e))
    .map(Number)
    .sort((a, b) => a - b);
  const zero = { sweepMs: 0, networkMs: 0, enginesMs: 0, imagesMs: 0, swarmMs: 0, totalMs: 0 };
  return new TestCluster(plan, indexes.map((i) => new TestNode(nodePlan(slot, i))), zero, undefined);
}

const REQUIRED_COMMANDS = ['nsenter', 'unshare', 'ip', 'iptables', 'sysctl', 'umount', 'dockerd', 'containerd', 'containerd-shim-runc-v2', 'runc'];

/** Why test nodes can't be made here (not root, a command missing), or undefined when they can. */
export async function testNodesUnsupported(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'test nodes need root (network namespaces, dockerd)';
  const path = (process.env.PATH ?? '').split(':');
  for (const command of REQUIRED_COMMANDS) {
    const found = await Promise.any(path.map((dir) => access(join(dir, command)))).then(
      () => true,
      () => false,
    );
    if (!found) return `test nodes need ${command} on PATH`;
  }
  return undefined;
}

function phaseClock() {
  const start = performance.now();
  let last = start;
  return {
    lap(): number {
      const now = performance.now();
      const ms = Math.round(now - last);
      last = now;
      return ms;
    },
    total: () => Math.round(performance.now() - start),
  };
}
