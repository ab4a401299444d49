// The one definition of when a replica counts: "ready" (may receive traffic) and "serving" (the
// load balancer routes to it). The autoscaler, the routes controller, the status and
// `autoserve plan` all decide through these functions. Pure.
import type { Address, ObservedReplica, ReplicaFacts } from './replica.js';

/** The ports part of an app spec (structural, so this module needs no manifest import). */
export interface PortsSpec {
  ports: readonly { containerPort: number }[];
  health?: { httpGet: { port: number } };
}

/** The container port that takes the traffic: the first declared port. */
export function trafficPort(spec: PortsSpec): number {
  const port = spec.ports[0];
  if (!port) throw new Error('an app declares at least one port');
  return port.containerPort;
}

/** The container port health checks go to: the health block's, else the traffic port. */
export function healthPort(spec: PortsSpec): number {
  return spec.health?.httpGet.port ?? trafficPort(spec);
}

/** Running and not leaving: a replica that still counts at all (as ready or as starting). */
export function isLive(replica: Pick<ObservedReplica, 'running' | 'draining'>): boolean {
  return replica.running && !replica.draining;
}

/** Ready: running, passed its checks, and not draining. Only ready replicas may receive traffic. */
export function isReady(replica: Pick<ObservedReplica, 'running' | 'health' | 'draining'>): boolean {
  return isLive(replica) && replica.health === 'ready';
}

/**
 * Of these replicas: how many are live, and of those ready, still starting, and not ready (passed
 * before, failing now: out of the rotation but not replaced until liveness runs out; under load,
 * the saturation signal).
 */
export function readinessCounts(
  replicas: readonly Pick<ObservedReplica, 'running' | 'health' | 'draining'>[],
): { live: number; ready: number; starting: number; notReady: number } {
  const live = replicas.filter(isLive);
  const count = (health: ObservedReplica['health']) => live.filter((r) => r.health === health).length;
  return { live: live.length, ready: count('ready'), starting: count('starting'), notReady: count('not-ready') };
}

/**
 * Serving: ready, and the load balancer routes to it. `routed` is undefined when there is no load
 * balancer: then ready alone decides.
 */
export function isServing(replica: Pick<ObservedReplica, 'running' | 'health' | 'draining'>, routed: boolean | undefined): boolean {
  return isReady(replica) && (routed ?? true);
}

/**
 * The traffic addresses of an app's ready replicas, in a stable order (slot, then name): what the
 * load balancer should route to now.
 */
export function servingAddresses(
  replicas: readonly (Pick<ReplicaFacts, 'name' | 'slot' | 'addresses'> & Pick<ObservedReplica, 'running' | 'health' | 'draining'> & { trafficPort?: number })[],
  spec: PortsSpec,
): Address[] {
  // A replica of an older revision takes traffic on its own port (a rollout that changes the port).
  const portOf = (r: { trafficPort?: number }) => r.trafficPort ?? trafficPort(spec);
  return replicas
    .filter((r) => isReady(r) && r.addresses[portOf(r)] !== undefined)
    .sort((a, b) => a.slot - b.slot || a.name.localeCompare(b.name))
    .map((r) => r.addresses[portOf(r)]!);
}

/** A stable key of an address (for sets of served addresses). */
export function addressKey(address: Address): string {
  return `${address.host}:${address.port}`;
}
