// One replica = one Swarm service with one task (docs/design.md, "A replica is a Swarm service").
// The spec of that service, from a replica request. Pure.
import { containerName, replicaLabels } from '../../core/labels.js';
import { parseMemoryBytes } from '../../core/memory-quantity.js';
import type { ReplicaRequest } from '../runtime.js';
import type { ResourceAmounts, ServiceSpec } from './swarm-objects.js';

/** The container ports of a replica: a Swarm service publishes none, so the label keeps them. */
export const LABEL_PORTS = 'autoserve.ports';

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
 * the overlay network (this kernel has no IPVS, and nginx balances by itself).
 */
export function serviceSpecOf(request: ReplicaRequest, network: string, extraConstraints: readonly string[] = []): ServiceSpec {
  const { shape } = request;
  const labels = { ...request.labels, ...replicaLabels(request), [LABEL_PORTS]: shape.ports.join(',') };
  const amounts: ResourceAmounts = {
    ...(shape.resources?.cpu !== undefined ? { NanoCPUs: Math.round(shape.resources.cpu * 1e9) } : {}),
    ...(shape.resources?.memory !== undefined ? { MemoryBytes: parseMemoryBytes(shape.resources.memory) } : {}),
  };
  const constraints = [...(shape.placement?.constraints ?? []), ...extraConstraints];
  return {
    Name: containerName(request.instance, request.app, request.revision, request.slot),
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
      Placement: constraints.length > 0 ? { Constraints: constraints } : {},
      Networks: [{ Target: network }],
      LogDriver: { Name: 'json-file', Options: { 'max-size': '10m', 'max-file': '2' } },
    },
    Mode: { Replicated: { Replicas: 0 } },
    EndpointSpec: { Mode: 'dnsrr' },
  };
}

/** The container ports a service's label names. */
export function portsOf(labels: Record<string, string> | undefined): number[] {
  return (labels?.[LABEL_PORTS] ?? '')
    .split(',')
    .map(Number)
    .filter((p) => Number.isInteger(p) && p > 0);
}
