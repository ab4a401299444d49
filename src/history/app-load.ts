// The per-app load that the Prometheus gauges and GET /apps/{name}/metrics export: the newest
// sample of the metric history. So every app has them, autoscaled or not, and they are the numbers
// the dashboard charts and `autoserve top` show.
import type { AppLoadMetrics } from '../observe/metrics.js';
import type { MetricHistory } from './metric-history.js';

/** Samples older than this many intervals are not exported: a stalled recorder must not look live. */
const STALE_AFTER_INTERVALS = 3;

/** An app's load from its newest history sample; undefined without a recent one. */
export function appLoadOf(history: MetricHistory, app: string, now = Date.now()): AppLoadMetrics | undefined {
  const sample = history.latest(app);
  if (!sample || now - sample.t > STALE_AFTER_INTERVALS * history.intervalMs) return undefined;
  return {
    requestsPerSecond: sample.rps,
    p95LatencySeconds: sample.p95Ms === null ? null : sample.p95Ms / 1000,
    cpuUtilizationRatio: sample.cpu,
    memoryUtilizationRatio: sample.memory,
  };
}
