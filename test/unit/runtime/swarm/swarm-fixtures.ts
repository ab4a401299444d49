// Swarm API objects for table tests of the Swarm runtime's pure parts.
import type { SwarmNode, SwarmService, SwarmTask } from '../../../../src/runtime/swarm/swarm-objects.js';

export const NETWORK = 'autoserve-overlay';

export function node(id: string, over: { state?: string; availability?: string; role?: string; labels?: Record<string, string>; hostname?: string } = {}): SwarmNode {
  return {
    ID: id,
    Spec: { Role: over.role ?? 'worker', Availability: over.availability ?? 'active', Labels: over.labels ?? {} },
    Description: { Hostname: over.hostname ?? `host-${id}`, Platform: { OS: 'linux', Architecture: 'x86_64' }, Engine: { Labels: {} } },
    Status: { State: over.state ?? 'ready' },
  };
}

export function service(id: string, labels: Record<string, string> = {}): SwarmService {
  const all = { 'autoserve.app': 'web', 'autoserve.revision': 'rev1', 'autoserve.slot': '0', 'autoserve.ports': '8080,9090', ...labels };
  return {
    ID: id,
    Version: { Index: 10 },
    CreatedAt: '2024-05-01T10:00:00.000Z',
    Spec: { Name: `autoserve-web-rev1-0`, Labels: all, TaskTemplate: { ContainerSpec: { Image: 'img:v1@sha256:abc123' } }, Mode: { Replicated: { Replicas: 1 } } },
  };
}

let taskCount = 0;

export function task(serviceId: string, over: { node?: string; state?: string; desired?: string; err?: string; ip?: string; at?: string; container?: string } = {}): SwarmTask {
  taskCount += 1;
  return {
    ID: `task${taskCount}`,
    ServiceID: serviceId,
    NodeID: over.node,
    CreatedAt: over.at ?? `2024-05-01T10:00:0${taskCount % 10}.000Z`,
    Version: { Index: taskCount },
    DesiredState: over.desired ?? 'running',
    Status: { State: over.state ?? 'running', Err: over.err, ContainerStatus: { ContainerID: over.container ?? `c${taskCount}` } },
    NetworksAttachments: over.ip ? [{ Network: { ID: 'netid', Spec: { Name: NETWORK } }, Addresses: [`${over.ip}/24`] }] : [],
  };
}
