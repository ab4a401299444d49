// The autoscaler's memory of one app's load: rps, p95, requests in flight and ready replicas as
// MetricWindows that live as long as the app does (not as long as a replica), long enough for the
// scale-in stabilization and its recurrence memory. Fed every tick from the access log's complete
// seconds; the access log itself only keeps the last minute.

import type { ScalingPolicy } from '../../manifest/types.js';
import type { RequestMetric, SeriesPoint } from '../../observe/index-metrics.js';
import { resolveThresholds } from './evaluate-metrics.js';
import { DEFAULT_MAX_SAMPLE_GAP_MS, MetricWindow } from './metric-window.js';
import type { MetricWindows } from './types.js';

/** One sample a second for the longest history any default policy reads (20 min), with room to spare. */
const MAX_SAMPLES = 1_500;

/** How far back a policy reads: the recurrence memory, the window, and one sample gap before them. */
export function retentionMs(policy: ScalingPolicy): number {
  const th = resolveThresholds(policy);
  return Math.max(th.recurrenceMemoryMs, th.windowMs, th.stabilizationMs) + th.windowMs + DEFAULT_MAX_SAMPLE_GAP_MS;
}

export class AppLoadWindows {
  readonly rps = new MetricWindow(MAX_SAMPLES);
  readonly p95 = new MetricWindow(MAX_SAMPLES);
  readonly concurrency = new MetricWindow(MAX_SAMPLES);
  readonly readyReplicas = new MetricWindow(MAX_SAMPLES);

  /**
   * Appends what the access log shows since the newest sample held (a second already held is
   * overwritten with its complete value) and the ready count now; drops what the policy no longer reads.
   */
  update(series: (metric: RequestMetric, sinceMs: number) => SeriesPoint[], ready: number, now: number, policy: ScalingPolicy): void {
    const since = (w: MetricWindow) => w.latest()?.t ?? now - retentionMs(policy);
    const copy = (w: MetricWindow, metric: RequestMetric) => {
      for (const p of series(metric, since(w))) if (p.value !== null) w.add(p.t, p.value);
    };
    copy(this.rps, 'rps');
    copy(this.p95, 'p95');
    copy(this.concurrency, 'concurrency');
    this.readyReplicas.add(now, ready);
    const keep = retentionMs(policy);
    for (const w of [this.rps, this.p95, this.concurrency, this.readyReplicas]) w.prune(now, keep);
  }

  windows(): Pick<MetricWindows, 'rps' | 'p95LatencyMs' | 'concurrency' | 'readyReplicas'> {
    return { rps: this.rps, p95LatencyMs: this.p95, concurrency: this.concurrency, readyReplicas: this.readyReplicas };
  }
}
