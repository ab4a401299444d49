// Joins test nodes into one Docker Swarm: the first node inits it (advertising its link address,
// with the slot's overlay pool), the next `managers - 1` nodes join as managers, the rest as
// workers. Resolves once every node is Ready in the manager's node list.
import type Docker from 'dockerode';
import { SWARM_POOL_MASK_LENGTH } from './address-plan.js';
import { sleep } from './processes.js';

export const SWARM_PORT = 2377;
const SWARM_READY_TIMEOUT_MS = 60_000;

export interface SwarmMember {
  docker: Docker;
  address: string;
}

export interface SwarmOptions {
  /** Manager count, the first node included (default 1). Raft needs 3 to survive losing one. */
  managers?: number;
  /** Overlay address pool (the slot's). */
  pool: string;
  /**
   * How often agents report to the managers (Swarm's default 5 s). A node is marked down after
   * missing heartbeats for a multiple of this, so it bounds failure detection.
   */
  heartbeatMs?: number;
}

export interface SwarmInfo {
  /** Node ids in the order of `members`. */
  nodeIds: string[];
  joinTokens: { manager: string; worker: string };
}

export async function formSwarm(members: SwarmMember[], options: SwarmOptions): Promise<SwarmInfo> {
  const [first, ...rest] = members;
  if (!first) throw new Error('formSwarm: no nodes');
  const managers = Math.max(1, Math.min(options.managers ?? 1, members.length));
  await first.docker.swarmInit({
    ListenAddr: `${first.address}:${SWARM_PORT}`,
    AdvertiseAddr: first.address,
    DefaultAddrPool: [options.pool],
    SubnetSize: SWARM_POOL_MASK_LENGTH,
    Spec: options.heartbeatMs ? { Dispatcher: { HeartbeatPeriod: options.heartbeatMs * 1e6 } } : {},
  });
  const swarm = (await first.docker.swarmInspect()) as { JoinTokens: { Manager: string; Worker: string } };
  const joinTokens = { manager: swarm.JoinTokens.Manager, worker: swarm.JoinTokens.Worker };
  // Managers join one at a time (a Raft membership change each); workers may join together.
  const joinAs = (member: SwarmMember, token: string) =>
    member.docker.swarmJoin({
      ListenAddr: `${member.address}:${SWARM_PORT}`,
      AdvertiseAddr: member.address,
      RemoteAddrs: [`${first.address}:${SWARM_PORT}`],
      JoinToken: token,
    });
  const extraManagers = rest.slice(0, managers - 1);
  for (const member of extraManagers) await joinAs(member, joinTokens.manager);
  await Promise.all(rest.slice(managers - 1).map((member) => joinAs(member, joinTokens.worker)));
  const nodeIds = await Promise.all(members.map(async (m) => ((await m.docker.info()) as { Swarm: { NodeID: string } }).Swarm.NodeID));
  await waitForReadyNodes(first.docker, nodeIds);
  // Every node has the host's hostname (one UTS namespace): a label tells them apart in
  // placement constraints (node.labels.autoserve.test-node==1) and in listings.
  for (const [index, id] of nodeIds.entries()) await labelNode(first.docker, id, { [NODE_INDEX_LABEL]: String(index) });
  return { nodeIds, joinTokens };
}

export const NODE_INDEX_LABEL = 'autoserve.test-node';

async function labelNode(manager: Docker, id: string, labels: Record<string, string>): Promise<void> {
  const node = manager.getNode(id);
  const info = (await node.inspect()) as { Version: { Index: number }; Spec: { Labels?: Record<string, string> } };
  await node.update({ _query: { version: info.Version.Index }, _body: { ...info.Spec, Labels: { ...info.Spec.Labels, ...labels } } });
}

/** Waits until the manager lists every id as Ready. */
export async function waitForReadyNodes(manager: Docker, nodeIds: string[], timeoutMs = SWARM_READY_TIMEOUT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const nodes = (await manager.listNodes()) as { ID: string; Status?: { State?: string } }[];
    const ready = new Set(nodes.filter((n) => n.Status?.State === 'ready').map((n) => n.ID));
    const missing = nodeIds.filter((id) => !ready.has(id));
    if (missing.length === 0) return;
    if (Date.now() > deadline) throw new Error(`swarm nodes not ready after ${timeoutMs} ms: ${missing.join(', ')}`);
    await sleep(200);
  }
}
