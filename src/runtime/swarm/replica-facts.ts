// A replica's facts from its service, the service's tasks and the swarm's nodes. Pure.
//
// The replica is the service; what runs is its current task: the newest one Swarm still means to
// run. Swarm replaces a task that died or whose node went down with a new task (new container,
// new address), so a replica keeps its id while its address moves.
import { LABEL_APP, LABEL_REVISION, LABEL_SLOT } from '../../core/labels.js';
import type { Address, NodeRef, ReplicaFacts } from '../../core/replica.js';
import { portsOf } from './service-spec.js';
import {
  isNodeReady,
  isTerminal,
  isUnschedulable,
  isWanted,
  newestFirst,
  type SwarmNode,
  type SwarmService,
  type SwarmTask,
} from './swarm-objects.js';

export interface SwarmView {
  /** The overlay network replicas join: their address on it is where nginx reaches them. */
  network: string;
  nodes: ReadonlyMap<string, SwarmNode>;
}

/** Where the current task's container is, for usage readings on the node that runs it. */
export interface TaskPlacement {
  taskId: string;
  nodeId: string;
  containerId?: string;
}

/**
 * - running: Swarm runs the current task, or is bringing it up (new .. starting), and can place
 *   it. False when no task is wanted any more (stopped, or Swarm gave up restarting) or the task
 *   waits for a node that no node satisfies: the controller then replaces the replica.
 * - addresses: the task's address on the overlay and the container port (as a container's on
 *   one host), only while the task runs on a node that is up, so a task of a node that went down
 *   leaves nginx as soon as Swarm says the node is down, before any probe fails.
 * - published: none (a replica's service publishes nothing); network: the overlay, which every
 *   replica's service joins (service-spec.ts).
 */
export function replicaFactsOf(service: SwarmService, tasks: readonly SwarmTask[], view: SwarmView): ReplicaFacts {
  const mine = tasks.filter((t) => t.ServiceID === service.ID).sort(newestFirst);
  const current = mine.find(isWanted);
  const latest = current ?? mine[0];
  const running = current !== undefined && !isTerminal(current) && !isUnschedulable(current);
  const node = latest?.NodeID ? view.nodes.get(latest.NodeID) : undefined;
  const labels = service.Spec.Labels ?? {};
  const addresses: Record<number, Address> = {};
  if (running && current.Status.State === 'running' && isNodeReady(node)) {
    const ip = overlayAddressOf(current, view.network);
    if (ip) for (const port of portsOf(labels)) addresses[port] = { host: ip, port };
  }
  const lost = mine.find((t) => !isTerminal(t) && t.NodeID !== undefined && !isNodeReady(view.nodes.get(t.NodeID)));
  return {
    id: service.ID,
    name: service.Spec.Name,
    app: labels[LABEL_APP] ?? '',
    revision: labels[LABEL_REVISION] ?? '',
    slot: Number(labels[LABEL_SLOT] ?? -1),
    image: service.Spec.TaskTemplate.ContainerSpec.Image.replace(/@sha256:[0-9a-f]+$/, ''),
    state: stateOf(latest, running),
    running,
    createdAtMs: Date.parse(service.CreatedAt),
    addresses,
    published: {},
    network: view.network,
    labels,
    ...(latest?.NodeID ? { node: nodeRefOf(node, latest.NodeID) } : {}),
    ...(lost ? { lostWith: { ...nodeRefOf(view.nodes.get(lost.NodeID!), lost.NodeID!), taskId: lost.ID } } : {}),
  };
}

/** The current task's placement (undefined while it has no node or no container yet). */
export function taskPlacementOf(service: SwarmService, tasks: readonly SwarmTask[]): TaskPlacement | undefined {
  const current = tasks.filter((t) => t.ServiceID === service.ID && isWanted(t)).sort(newestFirst)[0];
  if (!current?.NodeID) return undefined;
  return { taskId: current.ID, nodeId: current.NodeID, containerId: current.Status.ContainerStatus?.ContainerID || undefined };
}

/** Swarm's word for the task, with its error when it is not running ("created" before any task). */
function stateOf(task: SwarmTask | undefined, running: boolean): string {
  if (!task) return 'created';
  const err = task.Status.Err;
  return !running && err ? `${task.Status.State}: ${err}` : task.Status.State;
}

function overlayAddressOf(task: SwarmTask, network: string): string | undefined {
  const attachment = task.NetworksAttachments?.find((a) => a.Network.Spec.Name === network || a.Network.ID === network);
  return attachment?.Addresses?.[0]?.split('/')[0];
}

export function nodeRefOf(node: SwarmNode | undefined, id = node?.ID ?? ''): NodeRef {
  return { nodeId: id, node: node?.Description?.Hostname ?? id.slice(0, 12) };
}
