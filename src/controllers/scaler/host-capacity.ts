// How many replicas of one app the host can hold: the host's CPU and memory, less what the other
// apps reserve, divided by one replica's limits. A replica without a limit on a resource is not
// counted against it (Docker does not reserve what is not limited).

import type { HostCapacity } from './types.js';

export interface HostReplicaLimit {
  replicas: number;
  /** The resource that runs out first. */
  resource: 'cpu' | 'memory';
}

/** The most replicas the host can hold, or undefined when no limit constrains the count. */
export function hostReplicaLimit(host: HostCapacity): HostReplicaLimit | undefined {
  let limit: HostReplicaLimit | undefined;
  const cpu = host.perReplica.cpu;
  if (cpu !== undefined && cpu > 0) {
    limit = { replicas: fits(host.cpuCores - host.otherAppsReserved.cpu, cpu), resource: 'cpu' };
  }
  const memory = host.perReplica.memoryBytes;
  if (memory !== undefined && memory > 0) {
    const replicas = fits(host.memoryBytes - host.otherAppsReserved.memoryBytes, memory);
    if (limit === undefined || replicas < limit.replicas) limit = { replicas, resource: 'memory' };
  }
  return limit;
}

function fits(free: number, each: number): number {
  // A hair of tolerance so 4 x 0.1 cores fit in 0.4 despite floating point.
  return Math.max(0, Math.floor(free / each + 1e-9));
}
