// AutoServe's Prometheus metrics, on a registry of its own (never prom-client's global one, so two
// daemons in one test process do not collide). Counters and histograms are fed by the controller
// as things happen; per-app gauges are read at scrape time from the store and from an optional
// provider of live load (the metric history's newest sample), so they can never go stale.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { AppStatus, Phase } from '../store/status-model.js';

export const METRIC_PREFIX = 'autoserve_';
const PHASES: Phase[] = ['Pending', 'Progressing', 'Running', 'Degraded', 'Failed', 'Stopped'];
const RECONCILE_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const RELOAD_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** Live load of one app; absent or null fields are simply not exported. */
export interface AppLoadMetrics {
  requestsPerSecond?: number | null;
  p95LatencySeconds?: number | null;
  /** Share of the CPU limit (or of one core without a limit) in use, 0..1 and beyond. */
  cpuUtilizationRatio?: number | null;
  /** Share of the memory limit in use, 0..1. */
  memoryUtilizationRatio?: number | null;
}

export type AppLoadProvider = (app: string) => AppLoadMetrics | undefined;
export type HealthCheckResult = 'ready' | 'not-ready' | 'unhealthy' | 'starting' | 'success' | 'failure';
export type ScaleDirection = 'up' | 'down';

export interface AutoserveMetricsOptions {
  /** The apps to export replica and phase gauges for (usually `() => store.apps()`). */
  apps?: () => AppStatus[];
  appLoad?: AppLoadProvider;
  /** Node process metrics (CPU, memory, event loop), prefixed autoserve_. Default true. */
  processMetrics?: boolean;
}

export class AutoserveMetrics {
  readonly registry = new Registry();
  private apps: () => AppStatus[];
  private appLoad: AppLoadProvider | undefined;
  private readonly reconcileDuration: Histogram<'result'>;
  private readonly reconcileErrors: Counter;
  private readonly nginxReloads: Counter;
  private readonly nginxReloadFailures: Counter;
  private readonly nginxReloadDuration: Histogram<'result'>;
  private readonly healthChecks: Counter<'result'>;
  private readonly scaleEvents: Counter<'app' | 'direction'>;

  constructor(options: AutoserveMetricsOptions = {}) {
    this.apps = options.apps ?? (() => []);
    this.appLoad = options.appLoad;
    const registers = [this.registry];
    const name = (n: string) => `${METRIC_PREFIX}${n}`;

    this.reconcileDuration = new Histogram({
      name: name('reconcile_duration_seconds'),
      help: 'Duration of one reconcile pass of one app, by result (ok or error).',
      labelNames: ['result'],
      buckets: RECONCILE_BUCKETS,
      registers,
    });
    this.reconcileErrors = new Counter({ name: name('reconcile_errors_total'), help: 'Reconcile passes that failed.', registers });
    this.nginxReloads = new Counter({ name: name('nginx_reloads_total'), help: 'nginx reloads attempted.', registers });
    this.nginxReloadFailures = new Counter({
      name: name('nginx_reload_failures_total'),
      help: 'nginx reloads that failed (validation or signal).',
      registers,
    });
    this.nginxReloadDuration = new Histogram({
      name: name('nginx_reload_duration_seconds'),
      help: 'Duration of an nginx config swap and reload, by result.',
      labelNames: ['result'],
      buckets: RELOAD_BUCKETS,
      registers,
    });
    this.healthChecks = new Counter({
      name: name('health_checks_total'),
      help: 'Replica health check results.',
      labelNames: ['result'],
      registers,
    });
    this.scaleEvents = new Counter({
      name: name('scale_events_total'),
      help: 'Replica count changes made by the autoscaler, by direction.',
      labelNames: ['app', 'direction'],
      registers,
    });

    // Gauges below are filled at scrape time: reset, then set from the current truth.
    const self = this;
    new Gauge({
      name: name('app_replicas'),
      help: 'Replicas of an app by state: desired, ready, updated (on the desired revision).',
      labelNames: ['app', 'state'],
      registers,
      collect() {
        this.reset();
        for (const app of self.apps()) {
          this.set({ app: app.name, state: 'desired' }, app.replicas.desired);
          this.set({ app: app.name, state: 'ready' }, app.replicas.ready);
          this.set({ app: app.name, state: 'updated' }, app.replicas.updated);
        }
      },
    });
    new Gauge({
      name: name('app_phase'),
      help: 'The phase of an app: 1 for its current phase, 0 for the others.',
      labelNames: ['app', 'phase'],
      registers,
      collect() {
        this.reset();
        for (const app of self.apps()) for (const phase of PHASES) this.set({ app: app.name, phase }, app.phase === phase ? 1 : 0);
      },
    });
    new Gauge({
      name: name('apps'),
      help: 'Apps known to the controller.',
      registers,
      collect() {
        this.set(self.apps().length);
      },
    });
    this.loadGauge(name('app_requests_per_second'), 'Requests per second an app receives (autoscaler window).', (m) => m.requestsPerSecond);
    this.loadGauge(name('app_p95_latency_seconds'), '95th percentile response time of an app (autoscaler window).', (m) => m.p95LatencySeconds);
    this.loadGauge(name('app_cpu_utilization_ratio'), 'CPU in use by an app, as a share of its limit.', (m) => m.cpuUtilizationRatio);
    this.loadGauge(name('app_memory_utilization_ratio'), 'Memory in use by an app, as a share of its limit.', (m) => m.memoryUtilizationRatio);

    // The event-loop lag histogram samples every 10 ms by default: at 1 s it costs nothing idle.
    if (options.processMetrics ?? true) {
      collectDefaultMetrics({ register: this.registry, prefix: METRIC_PREFIX, eventLoopMonitoringPrecision: 1_000 });
    }
  }

  /** Where the per-app replica and phase gauges come from. */
  setAppsSource(apps: () => AppStatus[]): void {
    this.apps = apps;
  }

  /** Where live request rate, latency, CPU and memory come from (the metric history). */
  setAppMetricsProvider(provider: AppLoadProvider | undefined): void {
    this.appLoad = provider;
  }

  observeReconcile(durationMs: number, ok: boolean): void {
    this.reconcileDuration.observe({ result: ok ? 'ok' : 'error' }, durationMs / 1000);
    if (!ok) this.reconcileErrors.inc();
  }

  nginxReload(ok: boolean, durationMs: number): void {
    this.nginxReloads.inc();
    if (!ok) this.nginxReloadFailures.inc();
    this.nginxReloadDuration.observe({ result: ok ? 'ok' : 'error' }, durationMs / 1000);
  }

  healthCheck(result: HealthCheckResult): void {
    this.healthChecks.inc({ result });
  }

  scaleEvent(app: string, direction: ScaleDirection): void {
    this.scaleEvents.inc({ app, direction });
  }

  contentType(): string {
    return this.registry.contentType;
  }

  /** The Prometheus text exposition of every metric. */
  exposition(): Promise<string> {
    return this.registry.metrics();
  }

  private loadGauge(name: string, help: string, pick: (m: AppLoadMetrics) => number | null | undefined): void {
    const self = this;
    new Gauge({
      name,
      help,
      labelNames: ['app'],
      registers: [this.registry],
      collect() {
        this.reset();
        if (!self.appLoad) return;
        for (const app of self.apps()) {
          const value = pick(self.appLoad(app.name) ?? {});
          if (typeof value === 'number' && Number.isFinite(value)) this.set({ app: app.name }, value);
        }
      },
    });
  }
}
