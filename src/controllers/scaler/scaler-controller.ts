import os from 'node:os';
import type { Logger } from 'pino';
import { parseMemoryBytes } from '../../core/memory-quantity.js';
import { desiredReplicaCount } from '../containers/desired-replicas.js';
import { errorMessage } from '../../errors.js';
import type { LoadedApp } from '../../manifest/types.js';
import { isLive, readinessCounts } from '../../core/readiness.js';
import type { LiveReplica } from '../../core/replica.js';
import { stableJson } from '../../core/stable-json.js';
import type { AccessLogMetrics } from '../../observe/index-metrics.js';
import type { ContainerRuntime } from '../../runtime/runtime.js';
import { removeCondition, setCondition } from '../../store/conditions.js';
import type { Store } from '../../store/store.js';
import { decideReplicas } from './decide-replicas.js';
import { AppLoadWindows } from './app-load-windows.js';
import { MetricWindow } from './metric-window.js';
import type { HostCapacity, ReplicaSeries, ScalingDecision } from './types.js';

/** How often decisions are made (and replicas' CPU and memory sampled). */
export const SCALER_TICK_MS = 2_000;
/** Per-replica samples kept: an hour at one sample per tick. */
const REPLICA_SAMPLES = 1_800;

export interface ScalerControllerDeps {
  store: Store;
  logger: Logger;
  apps: () => LoadedApp[];
  /** An app's replicas with their health and drain state now; draining ones count nowhere (core/readiness). */
  replicasOf: (app: string) => LiveReplica[];
  accessLog: AccessLogMetrics;
  /** Per-replica CPU and memory readings. */
  usage: Pick<ContainerRuntime, 'usage' | 'forgetUsage'>;
  /** Decides only while this returns true (the leader on a Swarm); absent: always. */
  isActive?: () => boolean;
  /** A decision changed an app's count: reconcile it now. */
  onScaled: (app: string, from: number, to: number) => void;
  tickMs?: number;
}

interface ReplicaWindows {
  app: string;
  startedAtMs: number;
  cpu: MetricWindow;
  memory: MetricWindow;
}

/**
 * The autoscaler loop. Every tick it reads the nginx access-log windows (rps, p95, concurrency) and
 * samples each replica's CPU and memory from its cgroup, asks the pure `decideReplicas`, records
 * the recommendation and what holds it back in the app's status, and when the count changes sets
 * `autoscaledReplicas` in the store (never the manifest), writes a scaling history record and an
 * event, and has the app reconciled through the same rollout-safe path as any scale.
 */
export class ScalerController {
  private readonly startedAtMs = Date.now();
  private readonly replicas = new Map<string, ReplicaWindows>();
  /** Per app, for as long as the app is autoscaled: its load history survives every replica replacement. */
  private readonly load = new Map<string, AppLoadWindows>();
  private timer: NodeJS.Timeout | undefined;
  private ticking = false;

  constructor(private readonly deps: ScalerControllerDeps) {}

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.deps.tickMs ?? SCALER_TICK_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  async tick(now = Date.now()): Promise<void> {
    if (this.ticking) return; // a slow tick is skipped, never stacked
    if (this.deps.isActive && !this.deps.isActive()) return; // a standby decides nothing
    this.ticking = true;
    try {
      const autoscaled = this.deps.apps().filter((a) => a.manifest.spec.scaling?.policy.mode === 'auto' && a.manifest.spec.state === 'up');
      const names = new Set(autoscaled.map((a) => a.manifest.metadata.name));
      for (const app of this.load.keys()) if (!names.has(app)) this.load.delete(app);
      await this.sampleReplicas(autoscaled, now);
      const host = hostTotals();
      for (const app of autoscaled) {
        try {
          this.decide(app, now, host);
        } catch (err) {
          this.deps.logger.warn({ app: app.manifest.metadata.name, err: errorMessage(err) }, 'scaling decision failed');
        }
      }
    } catch (err) {
      this.deps.logger.warn({ err: errorMessage(err) }, 'scaler tick failed');
    } finally {
      this.ticking = false;
    }
  }

  private async sampleReplicas(apps: LoadedApp[], now: number): Promise<void> {
    const targets: { id: string; app: string; limits: { nanoCpus?: number; memoryBytes?: number } }[] = [];
    for (const app of apps) {
      const name = app.manifest.metadata.name;
      const resources = app.manifest.spec.resources ?? {};
      const limits = {
        ...(resources.cpu !== undefined ? { nanoCpus: Math.round(resources.cpu * 1e9) } : {}),
        ...(resources.memory !== undefined ? { memoryBytes: parseMemoryBytes(resources.memory) } : {}),
      };
      for (const c of this.deps.replicasOf(name)) if (isLive(c)) targets.push({ id: c.id, app: name, limits });
    }
    const live = new Set(targets.map((t) => t.id));
    for (const id of this.replicas.keys()) {
      if (!live.has(id)) {
        this.replicas.delete(id);
        this.deps.usage.forgetUsage(id);
      }
    }
    if (targets.length === 0) return;
    const samples = await this.deps.usage.usage(targets);
    for (const target of targets) {
      let windows = this.replicas.get(target.id);
      if (!windows) {
        const facts = this.deps.replicasOf(target.app).find((c) => c.id === target.id);
        windows = { app: target.app, startedAtMs: facts?.createdAtMs ?? now, cpu: new MetricWindow(REPLICA_SAMPLES), memory: new MetricWindow(REPLICA_SAMPLES) };
        this.replicas.set(target.id, windows);
      }
      const sample = samples.get(target.id);
      if (sample?.cpu !== null && sample?.cpu !== undefined) windows.cpu.add(sample.at, sample.cpu);
      if (sample?.memory !== null && sample?.memory !== undefined) windows.memory.add(sample.at, sample.memory);
    }
  }

  private decide(app: LoadedApp, now: number, host: { cpuCores: number; memoryBytes: number }): void {
    const { store, accessLog } = this.deps;
    const name = app.manifest.metadata.name;
    const spec = app.manifest.spec;
    const scaling = spec.scaling!;
    const status = store.app(name);
    const current = desiredReplicaCount(spec, status?.autoscaledReplicas, this.deps.replicasOf(name));
    const mine = [...this.replicas.entries()].filter(([, r]) => r.app === name);
    const replicaSeries = (pick: 'cpu' | 'memory'): ReplicaSeries[] =>
      mine.map(([id, r]) => ({ replicaId: id, startedAtMs: r.startedAtMs, samples: r[pick] }));
    const { ready, starting, notReady } = readinessCounts(this.deps.replicasOf(name));

    let load = this.load.get(name);
    if (!load) this.load.set(name, (load = new AppLoadWindows()));
    load.update((metric, sinceMs) => accessLog.series(name, metric, sinceMs), ready, now, scaling.policy);

    const decision = decideReplicas({
      policy: scaling,
      specReplicas: spec.replicas,
      windows: { ...load.windows(), cpu: replicaSeries('cpu'), memory: replicaSeries('memory') },
      current,
      ready,
      starting,
      notReady,
      history: store.scalingHistory(name),
      now,
      controllerStartedAtMs: this.startedAtMs,
      hostCapacity: this.hostCapacity(app, host),
    });
    this.record(name, current, decision, now);
  }

  private record(app: string, current: number, decision: ScalingDecision, now: number): void {
    const { store } = this.deps;
    store.updateApp(app, (status) => {
      const view = { recommendation: decision.recommendation, reason: decision.reason, heldBy: decision.heldBy, metrics: decision.metrics };
      // decidedAt moves only with the decision, so an unchanged look does not rewrite the store every tick.
      const { decidedAt: _previous, ...previous } = status.scaling ?? { decidedAt: '' };
      if (stableJson(previous) !== stableJson(view)) status.scaling = { ...view, decidedAt: new Date(now).toISOString() };
      if (decision.heldBy === 'host-capacity') {
        setCondition(status.conditions, { type: 'ScalingLimited', status: 'True', reason: `ScalingLimited${decision.limitedBy === 'memory' ? 'Memory' : 'Cpu'}`, message: decision.reason });
      } else {
        removeCondition(status.conditions, 'ScalingLimited');
      }
      if (decision.replicas !== current) status.autoscaledReplicas = decision.replicas;
    });
    if (decision.replicas === current) return;
    store.addScaling({ time: new Date(now).toISOString(), app, from: current, to: decision.replicas, reason: decision.reason, metrics: decision.metrics });
    store.addEvent({ app, type: 'Normal', reason: decision.direction === 'out' ? 'ScaledOut' : 'ScaledIn', message: `${current} -> ${decision.replicas}: ${decision.reason}` });
    this.deps.logger.info({ app, from: current, to: decision.replicas, reason: decision.reason }, 'scaled');
    this.deps.onScaled(app, current, decision.replicas);
  }

  private hostCapacity(app: LoadedApp, host: { cpuCores: number; memoryBytes: number }): HostCapacity {
    const reserved = { cpu: 0, memoryBytes: 0 };
    for (const other of this.deps.apps()) {
      if (other === app) continue;
      const count = desiredReplicaCount(other.manifest.spec, this.deps.store.app(other.manifest.metadata.name)?.autoscaledReplicas);
      const resources = other.manifest.spec.resources ?? {};
      reserved.cpu += (resources.cpu ?? 0) * count;
      reserved.memoryBytes += (resources.memory ? parseMemoryBytes(resources.memory) : 0) * count;
    }
    const resources = app.manifest.spec.resources ?? {};
    return {
      ...host,
      perReplica: {
        ...(resources.cpu !== undefined ? { cpu: resources.cpu } : {}),
        ...(resources.memory !== undefined ? { memoryBytes: parseMemoryBytes(resources.memory) } : {}),
      },
      otherAppsReserved: reserved,
    };
  }
}

function hostTotals(): { cpuCores: number; memoryBytes: number } {
  return { cpuCores: os.cpus().length, memoryBytes: os.totalmem() };
}
