// One replica = one Swarm service with one task (docs/design.md, "A replica is a Swarm service").
// The spec of that service, from a replica request. Pure. Its placement constraints are the
// manifest's; the spread over nodes is added when the replica starts (swarm-runtime.ts).
import { createHash } from 'node:crypto';
import { containerName, replicaLabels } from '../../core/labels.js';
import { parseMemoryBytes } from '../../core/memory-quantity.js';
import { UnsupportedByRuntimeError } from '../../errors.js';
import type { ReplicaRequest } from '../runtime.js';
import type { ResourceAmounts, ServiceSpec } from './swarm-objects.js';

/** The container ports of a replica: a Swarm service publishes none, so the label keeps them. */
export const LABEL_PORTS = 'autoserve.ports';
/** The manifest's placement (JSON): the spread is decided again from it whenever the replica starts. */
export const LABEL_PLACEMENT = 'autoserve.placement';

export interface ReplicaPlacement {
  constraints: string[];
  spread: 'node' | 'none';
}

/**
 * Swarm restarts a dead task at once (a node failure is noticed in ~3 heartbeats and the task runs
 * elsewhere without waiting), but gives up after a few quick failures: the replica then counts as
 * exited and the controller replaces it under its own crash-loop backoff.
 */
export const RESTART_POLICY = { Condition: 'any', Delay: 0, MaxAttempts: 3, Window: 60e9 } as const;

/**
 * The service of one replica. Created with 0 replicas (the runtime's `create` does not start);
 * `start` scales it to 1. Resources become both limits and reservations, so Swarm never places
 * more than a node holds. No virtual IP and no published port: nginx reaches the task's address on
 * the overlay network (this kernel has no IPVS, and nginx balances by itself). A shape that
 * publishes a port or asks for a network of the app's own is refused (UnsupportedByRuntimeError):
 * Swarm publishes on every address of every node, not on one host IP, and every replica of an
 * instance shares its overlay (docs/cluster.md, Limits).
 */
export function serviceSpecOf(request: ReplicaRequest, network: string): ServiceSpec {
  const { shape } = request;
  if (shape.publish?.length) {
    throw new UnsupportedByRuntimeError('swarm', 'spec.ports[].publish', 'a Swarm publishes on every node\'s every address; reach the app through nginx');
  }
  if (shape.network === 'isolated') {
    throw new UnsupportedByRuntimeError('swarm', 'spec.network.isolated', 'every replica of an instance joins its one overlay network');
  }
  const placement: ReplicaPlacement = { constraints: shape.placement?.constraints ?? [], spread: shape.placement?.spread ?? 'node' };
  const labels = { ...request.labels, ...replicaLabels(request), [LABEL_PORTS]: shape.ports.join(','), [LABEL_PLACEMENT]: JSON.stringify(placement) };
  const amounts: ResourceAmounts = {
    ...(shape.resources?.cpu !== undefined ? { NanoCPUs: Math.round(shape.resources.cpu * 1e9) } : {}),
    ...(shape.resources?.memory !== undefined ? { MemoryBytes: parseMemoryBytes(shape.resources.memory) } : {}),
  };
  return {
    Name: serviceName(containerName(request.instance, request.app, request.revision, request.slot)),
    Labels: labels,
    TaskTemplate: {
      ContainerSpec: {
        Image: shape.image,
        Labels: labels,
        // `command` replaces the entrypoint; the image's CMD is then not appended (as on one host).
        ...(shape.command ? { Command: shape.command, Args: [] } : {}),
        Env: Object.entries(shape.env).map(([name, value]) => `${name}=${value}`),
        Init: true,
        StopGracePeriod: request.stopTimeoutSeconds * 1e9,
      },
      Resources: { Limits: amounts, Reservations: amounts },
      RestartPolicy: { ...RESTART_POLICY },
      Placement: placement.constraints.length > 0 ? { Constraints: placement.constraints } : {},
      Networks: [{ Target: network }],
      LogDriver: { Name: 'json-file', Options: { 'max-size': '10m', 'max-file': '2' } },
    },
    Mode: { Replicated: { Replicas: 0 } },
    EndpointSpec: { Mode: 'dnsrr' },
  };
}

/** The placement a service's label holds; a service without it spreads with no constraints. */
export function placementOf(labels: Record<string, string> | undefined): ReplicaPlacement {
  try {
    const parsed = JSON.parse(labels?.[LABEL_PLACEMENT] ?? '{}') as Partial<ReplicaPlacement>;
    const constraints = Array.isArray(parsed.constraints) ? parsed.constraints.filter((c): c is string => typeof c === 'string') : [];
    return { constraints, spread: parsed.spread === 'none' ? 'none' : 'node' };
  } catch {
    return { constraints: [], spread: 'node' };
  }
}

/** The container ports a service's label names. */
export function portsOf(labels: Record<string, string> | undefined): number[] {
  return (labels?.[LABEL_PORTS] ?? '')
    .split(',')
    .map(Number)
    .filter((p) => Number.isInteger(p) && p > 0);
}

/** Swarm refuses service names over 63 characters (a DNS label); Docker's container names have no such limit. */
export const MAX_SERVICE_NAME = 63;

/**
 * The replica's name as a service name: as is when it fits, else cut and ended with a hash of the
 * whole (still deterministic: a second create of the same replica collides, as it must). Services
 * are found by their labels, never by name.
 */
export function serviceName(name: string): string {
  if (name.length <= MAX_SERVICE_NAME) return name;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 10);
  return `${name.slice(0, MAX_SERVICE_NAME - hash.length - 1).replace(/-+$/, '')}-${hash}`;
}
