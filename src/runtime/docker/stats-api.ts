// A container's CPU and memory counters from the Docker stats API: the fallback where its cgroup
// files are not reachable. One call costs about a second (dockerd samples twice, ~1 s apart, to
// fill precpu_stats), so callers bound how many run at once.
import type Docker from 'dockerode';
import { DOCKER_CALL_TIMEOUT_MS, dockerCall } from './docker-call.js';

/** The part of GET /containers/<id>/stats?stream=false that we read (v1 and v2 hosts). */
export interface DockerStatsBody {
  read?: string;
  preread?: string;
  cpu_stats?: { cpu_usage?: { total_usage?: number } };
  precpu_stats?: { cpu_usage?: { total_usage?: number } };
  memory_stats?: { usage?: number; limit?: number; stats?: Record<string, number | undefined> };
}

export interface ApiCounters {
  /** Cumulative CPU time, nanoseconds. */
  cpuNs: number;
  /** When dockerd read cpuNs, ms since the epoch (from `read`). */
  readAtMs: number;
  /** Cores used over dockerd's own ~1 s precpu interval, when the body has one. */
  precpuCores: number | null;
  /** Usage minus inactive file cache, as `docker stats` shows; null when dockerd gave no memory figures. */
  memoryBytes: number | null;
}

/** Counters from a stats body; undefined for a stopped container (dockerd answers with zeros). */
export function countersFromStats(body: DockerStatsBody): ApiCounters | undefined {
  const cpuNs = body.cpu_stats?.cpu_usage?.total_usage;
  const readAtMs = body.read ? Date.parse(body.read) : NaN;
  if (cpuNs === undefined || !Number.isFinite(readAtMs) || readAtMs <= 0) return undefined;
  const preNs = body.precpu_stats?.cpu_usage?.total_usage;
  const prereadMs = body.preread ? Date.parse(body.preread) : NaN;
  // A zero preread ("0001-01-01T00:00:00Z") means dockerd had no earlier sample.
  const hasPre = preNs !== undefined && preNs > 0 && Number.isFinite(prereadMs) && prereadMs > 0 && readAtMs > prereadMs;
  const precpuCores = hasPre && cpuNs >= preNs ? (cpuNs - preNs) / ((readAtMs - prereadMs) * 1e6) : null;
  const mem = body.memory_stats;
  let memoryBytes: number | null = null;
  if (mem?.usage !== undefined) {
    // v1: total_inactive_file; v2: inactive_file (the docker CLI's calculateMemUsageUnixNoCache).
    const inactive = mem.stats?.total_inactive_file ?? mem.stats?.inactive_file ?? 0;
    memoryBytes = inactive < mem.usage ? mem.usage - inactive : mem.usage;
  }
  return { cpuNs, readAtMs, precpuCores, memoryBytes };
}

/** One non-streaming stats call. Rejects on a Docker error (404 for a container that is gone). */
export async function readDockerStats(docker: Docker, id: string): Promise<ApiCounters | undefined> {
  const body = (await dockerCall(`stats of ${id.slice(0, 12)}`, DOCKER_CALL_TIMEOUT_MS.stats, undefined, (abortSignal) =>
    docker.getContainer(id).stats({ stream: false, abortSignal } as { stream: false }),
  )) as unknown as DockerStatsBody;
  return countersFromStats(body);
}
