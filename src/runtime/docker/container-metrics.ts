// Per-replica CPU and memory, as shares of the replica's limits, sampled on demand (every few
// seconds). Reads cgroup files where they are reachable (µs per container) and falls back to the
// Docker stats API (~1 s per call) where they are not.
import os from 'node:os';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import type Docker from 'dockerode';
import type { Logger } from 'pino';
import { CgroupReader, cgroupFileCandidates, readCgroupLayout, type CgroupLayout } from './cgroup-stats.js';
import type { ReplicaUsage, UsageTarget } from '../runtime.js';
import { readDockerStats } from './stats-api.js';
import { DOCKER_CALL_TIMEOUT_MS, dockerCall } from './docker-call.js';

export type MetricsSource = 'auto' | 'cgroup' | 'api';

export interface ContainerMetricsSamplerOptions {
  docker: Docker;
  logger: Logger;
  /** 'auto' (default): cgroup files where reachable, API elsewhere. 'cgroup' or 'api': that only. */
  source?: MetricsSource;
  /** At most this many Docker stats (and inspect) calls at once. */
  apiConcurrency?: number;
  /** Default os.totalmem(): the denominator for containers without a memory limit. */
  hostMemoryBytes?: number;
  /** Default /proc (tests point it at a fake tree). */
  procRoot?: string;
}

export const DEFAULT_API_CONCURRENCY = 16;

interface Tracked {
  id: string;
  inspectedNanoCpus: number;
  inspectedMemory: number;
  reader: CgroupReader | undefined;
  /** Previous cumulative CPU time (ns) and when it was read (ms; monotonic for cgroup, epoch for API). */
  prevCpuNs: number;
  prevAtMs: number;
}

/**
 * Samples replicas' CPU and memory. Per container it inspects once (init pid, limits), opens its
 * cgroup files once and keeps them open; later samples are three pread()s into a shared buffer.
 * A container whose files vanish (stopped, restarted) is re-inspected on its next sample.
 */
export class ContainerMetricsSampler {
  private readonly docker: Docker;
  private readonly logger: Logger;
  private readonly source: MetricsSource;
  private readonly apiConcurrency: number;
  private readonly hostMemoryBytes: number;
  private readonly procRoot: string;
  private layout: CgroupLayout | undefined | null = null; // null: not detected yet
  private readonly tracked = new Map<string, Tracked>();

  constructor(opts: ContainerMetricsSamplerOptions) {
    this.docker = opts.docker;
    this.logger = opts.logger.child({ component: 'container-metrics' });
    this.source = opts.source ?? 'auto';
    this.apiConcurrency = Math.max(1, opts.apiConcurrency ?? DEFAULT_API_CONCURRENCY);
    this.hostMemoryBytes = opts.hostMemoryBytes ?? os.totalmem();
    this.procRoot = opts.procRoot ?? '/proc';
  }

  /** The detected cgroup layout (v1/v2 mounts), or undefined when cgroup files cannot be read here. */
  cgroupLayout(): CgroupLayout | undefined {
    if (this.layout === null) {
      this.layout = this.source === 'api' ? undefined : readCgroupLayout(this.procRoot);
      this.logger.debug({ layout: this.layout }, 'cgroup layout detected');
    }
    return this.layout;
  }

  /**
   * One reading of each container. A container that cannot be measured (not running, gone,
   * or with source 'cgroup' and no reachable cgroup) is absent from the result; never rejects.
   */
  async sample(containers: readonly UsageTarget[]): Promise<Map<string, ReplicaUsage>> {
    const out = new Map<string, ReplicaUsage>();
    const unknown = containers.filter((c) => !this.tracked.has(c.id));
    if (unknown.length > 0) await this.bounded(unknown, (c) => this.track(c.id));

    const viaApi: UsageTarget[] = [];
    const at = Date.now();
    for (const ref of containers) {
      const t = this.tracked.get(ref.id);
      if (!t) continue;
      if (!t.reader) {
        if (this.source !== 'cgroup') viaApi.push(ref);
        continue;
      }
      const sample = this.readCgroup(t, ref, at);
      if (sample) out.set(ref.id, sample);
    }
    if (viaApi.length > 0) {
      await this.bounded(viaApi, async (ref) => {
        const sample = await this.readApi(ref);
        if (sample) out.set(ref.id, sample);
      });
    }
    return out;
  }

  /** Drops what is kept for a container (open files, previous reading). */
  forget(id: string): void {
    this.tracked.get(id)?.reader?.close();
    this.tracked.delete(id);
  }

  /** Forgets every container. */
  close(): void {
    for (const id of [...this.tracked.keys()]) this.forget(id);
  }

  private readCgroup(t: Tracked, ref: UsageTarget, at: number): ReplicaUsage | undefined {
    let cpuNs: number;
    let memoryBytes: number;
    try {
      ({ cpuNs, memoryBytes } = t.reader!.read());
    } catch (err) {
      // The cgroup is gone (stopped or restarted container): look again next sample.
      this.logger.debug({ id: t.id, err }, 'cgroup files unreadable; container will be re-inspected');
      this.forget(t.id);
      return undefined;
    }
    const nowMs = performance.now();
    const cpu = this.cpuShare(t, ref, cpuNs, nowMs);
    return { cpu, memory: this.memoryShare(t, ref, memoryBytes), memoryBytes, at, source: 'cgroup' };
  }

  private async readApi(ref: UsageTarget): Promise<ReplicaUsage | undefined> {
    const t = this.tracked.get(ref.id);
    if (!t) return undefined;
    let counters;
    try {
      counters = await readDockerStats(this.docker, ref.id);
    } catch (err) {
      this.logger.debug({ id: ref.id, err }, 'docker stats failed');
      this.forget(ref.id);
      return undefined;
    }
    if (!counters) return undefined;
    // Our own interval when we have one (an average over the whole tick, like the cgroup path);
    // on the first call, dockerd's ~1 s precpu interval.
    const hadPrevious = t.prevAtMs > 0;
    let cpu = this.cpuShare(t, ref, counters.cpuNs, counters.readAtMs);
    if (!hadPrevious && counters.precpuCores !== null) cpu = counters.precpuCores / this.limitCores(t, ref);
    const memoryBytes = counters.memoryBytes ?? 0;
    return {
      cpu,
      memory: counters.memoryBytes === null ? null : this.memoryShare(t, ref, memoryBytes),
      memoryBytes,
      at: counters.readAtMs,
      source: 'api',
    };
  }

  private cpuShare(t: Tracked, ref: UsageTarget, cpuNs: number, atMs: number): number | null {
    const prevNs = t.prevCpuNs;
    const prevAt = t.prevAtMs;
    t.prevCpuNs = cpuNs;
    t.prevAtMs = atMs;
    if (prevAt <= 0 || atMs <= prevAt || cpuNs < prevNs) return null; // first reading, or counter reset
    return (cpuNs - prevNs) / ((atMs - prevAt) * 1e6) / this.limitCores(t, ref);
  }

  private limitCores(t: Tracked, ref: UsageTarget): number {
    const nano = ref.limits?.nanoCpus ?? t.inspectedNanoCpus;
    return nano > 0 ? nano / 1e9 : 1;
  }

  private memoryShare(t: Tracked, ref: UsageTarget, bytes: number): number {
    const limit = ref.limits?.memoryBytes ?? t.inspectedMemory;
    return bytes / (limit > 0 ? limit : this.hostMemoryBytes);
  }

  /** Inspects a container once: init pid, limits; opens its cgroup files when reachable. */
  private async track(id: string): Promise<void> {
    let info: Docker.ContainerInspectInfo;
    try {
      info = await dockerCall(`inspect of ${id.slice(0, 12)}`, DOCKER_CALL_TIMEOUT_MS.inspect, undefined, (abortSignal) => this.docker.getContainer(id).inspect({ abortSignal } as Docker.ContainerInspectOptions));
    } catch (err) {
      this.logger.debug({ id, err }, 'inspect failed; not sampled');
      return;
    }
    if (!info.State.Running || !info.State.Pid) return;
    const host = info.HostConfig;
    // `--cpus` sets NanoCpus; `--cpu-quota/--cpu-period` is the older spelling of the same limit.
    const quota = host.CpuQuota ?? 0;
    const period = host.CpuPeriod || 100_000;
    const nanoCpus = host.NanoCpus || (quota > 0 ? Math.round((quota / period) * 1e9) : 0);
    const t: Tracked = {
      id,
      inspectedNanoCpus: nanoCpus,
      inspectedMemory: host.Memory ?? 0,
      reader: this.openCgroup(info.Id, info.State.Pid),
      prevCpuNs: 0,
      prevAtMs: 0,
    };
    if (this.tracked.has(id)) {
      t.reader?.close(); // a concurrent sample() tracked it first
      return;
    }
    // cgroup only: not remembered, so its files are looked for again next sample.
    if (!t.reader && this.source === 'cgroup') return;
    if (!t.reader && this.source === 'auto') this.logger.debug({ id }, 'cgroup files not reachable; using the Docker stats API');
    this.tracked.set(id, t);
  }

  private openCgroup(fullId: string, pid: number): CgroupReader | undefined {
    const layout = this.cgroupLayout();
    if (!layout) return undefined;
    let procCgroup: string | undefined;
    try {
      procCgroup = readFileSync(path.join(this.procRoot, String(pid), 'cgroup'), 'utf8');
    } catch {
      // Another pid namespace: Docker's default paths are still tried.
    }
    return CgroupReader.open(cgroupFileCandidates(layout, fullId, procCgroup));
  }

  private async bounded<T>(items: readonly T[], fn: (item: T) => Promise<void>): Promise<void> {
    let next = 0;
    const worker = async () => {
      while (next < items.length) {
        const item = items[next++]!;
        await fn(item);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.apiConcurrency, items.length) }, worker));
  }
}
