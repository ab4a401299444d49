// Feeds the metric history: every interval, one sample per app from what is already measured —
// request rate and p95 from nginx's access-log windows, replica counts from the app's status, and
// CPU and memory of each running replica from a usage reader of the runtime's that only this loop
// reads, so each CPU figure averages over this loop's own interval. Keeps the latest per-replica
// reading for `top` and the app page.
import type { Logger } from 'pino';
import { isLive } from '../core/readiness.js';
import { errorMessage } from '../errors.js';
import type { AccessLogMetrics } from '../observe/index-metrics.js';
import type { UsageReader } from '../runtime/runtime.js';
import type { AppStatus } from '../store/status-model.js';
import type { ReplicaLoad } from './history-views.js';
import type { HistorySample, MetricHistory } from './metric-history.js';

export interface HistoryRecorderDeps {
  history: MetricHistory;
  apps: () => AppStatus[];
  requests: Pick<AccessLogMetrics, 'rps' | 'p95Ms'>;
  /** A reader no other loop uses (ContainerRuntime.usageReader). */
  usage: UsageReader;
  logger: Logger;
  now?: () => number;
}

export class HistoryRecorder {
  private timer: NodeJS.Timeout | undefined;
  private ticking = false;
  private readonly replicas = new Map<string, ReplicaLoad[]>();
  private sampled = new Set<string>();

  constructor(private readonly deps: HistoryRecorderDeps) {}

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.deps.history.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    for (const id of this.sampled) this.deps.usage.forgetUsage(id);
    this.sampled.clear();
  }

  /** The latest reading of each running replica of an app (empty before the first tick). */
  replicaLoads(app: string): ReplicaLoad[] {
    return this.replicas.get(app) ?? [];
  }

  /** Takes one sample of every app. A slow tick is skipped, never stacked; never rejects. */
  async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      await this.sampleAll();
    } catch (err) {
      this.deps.logger.warn({ err: errorMessage(err) }, 'metric history sample failed');
    } finally {
      this.ticking = false;
    }
  }

  private async sampleAll(): Promise<void> {
    const { history, requests } = this.deps;
    const interval = history.intervalMs;
    // Aligned to the interval, so every app's samples share their times (one x axis for all).
    const t = Math.floor((this.deps.now ?? Date.now)() / interval) * interval;
    const windowSeconds = Math.max(1, Math.round(interval / 1000));
    const apps = this.deps.apps();
    const targets = apps.flatMap((app) =>
      app.instances.filter((i) => isLive({ running: i.state === 'running', draining: i.draining })).map((i) => ({ app, instance: i })),
    );
    const samples = await this.deps.usage.usage(targets.map(({ instance }) => ({ id: instance.id })));
    this.forgetGone(new Set(targets.map(({ instance }) => instance.id)));

    this.replicas.clear();
    for (const { app, instance } of targets) {
      const s = samples.get(instance.id);
      const limitCores = app.spec?.resources?.cpu ?? 1;
      const load: ReplicaLoad = {
        id: instance.id,
        name: instance.name,
        cpu: s?.cpu ?? null,
        cpuCores: s?.cpu == null ? null : s.cpu * limitCores,
        memory: s?.memory ?? null,
        memoryBytes: s && s.memory !== null ? s.memoryBytes : null,
      };
      const list = this.replicas.get(app.name);
      if (list) list.push(load);
      else this.replicas.set(app.name, [load]);
    }

    for (const app of apps) {
      const loads = this.replicas.get(app.name) ?? [];
      const sample: HistorySample = {
        t,
        rps: requests.rps(app.name, windowSeconds),
        p95Ms: requests.p95Ms(app.name, windowSeconds),
        cpu: mean(loads.map((l) => l.cpu)),
        cpuCores: sum(loads.map((l) => l.cpuCores)),
        memory: mean(loads.map((l) => l.memory)),
        memoryBytes: sum(loads.map((l) => l.memoryBytes)),
        desired: app.replicas.desired,
        ready: app.replicas.ready,
      };
      history.record(app.name, sample);
    }
    history.retain(new Set(apps.map((a) => a.name)));
  }

  private forgetGone(live: Set<string>): void {
    for (const id of this.sampled) if (!live.has(id)) this.deps.usage.forgetUsage(id);
    this.sampled = live;
  }
}

function measured(values: (number | null)[]): number[] {
  return values.filter((v): v is number => v !== null);
}

/** Mean of the measured values; null when none was measured. */
function mean(values: (number | null)[]): number | null {
  const known = measured(values);
  return known.length === 0 ? null : known.reduce((a, b) => a + b, 0) / known.length;
}

/** Sum of the measured values; null when none was measured. */
function sum(values: (number | null)[]): number | null {
  const known = measured(values);
  return known.length === 0 ? null : known.reduce((a, b) => a + b, 0);
}
