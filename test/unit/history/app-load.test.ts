import { describe, expect, it } from 'vitest';
import { appLoadOf } from '../../../src/history/app-load.js';
import { MetricHistory, type HistorySample } from '../../../src/history/metric-history.js';
import { AutoserveMetrics } from '../../../src/observe/metrics.js';
import { appStatus } from '../../support/app-status.js';

const sample = (t: number, extra: Partial<HistorySample> = {}): HistorySample => ({
  t,
  rps: 4,
  p95Ms: 25,
  cpu: 0.5,
  cpuCores: 0.25,
  memory: 0.25,
  memoryBytes: 1_000,
  desired: 2,
  ready: 2,
  ...extra,
});

describe('appLoadOf: the exported load is the newest history sample', () => {
  const historyOf = (...samples: HistorySample[]) => {
    const history = new MetricHistory(5_000, 10);
    for (const s of samples) history.record('fixed', s);
    return history;
  };

  it('converts the newest sample (p95 in seconds; unmeasured stays null)', () => {
    const history = historyOf(sample(10_000), sample(15_000, { rps: 0, p95Ms: null, cpu: null, memory: 0.125 }));
    expect(appLoadOf(history, 'fixed', 16_000)).toEqual({ requestsPerSecond: 0, p95LatencySeconds: null, cpuUtilizationRatio: null, memoryUtilizationRatio: 0.125 });
    history.record('fixed', sample(20_000));
    expect(appLoadOf(history, 'fixed', 21_000)).toEqual({ requestsPerSecond: 4, p95LatencySeconds: 0.025, cpuUtilizationRatio: 0.5, memoryUtilizationRatio: 0.25 });
  });

  it('nothing for an app without samples or with only a stale one (a stalled recorder must not look live)', () => {
    const history = historyOf(sample(20_000));
    expect(appLoadOf(history, 'unknown', 21_000)).toBeUndefined();
    expect(appLoadOf(history, 'fixed', 20_000 + 15_000)).toBeDefined();
    expect(appLoadOf(history, 'fixed', 20_000 + 15_001)).toBeUndefined();
  });

  it('Prometheus exports the load of every app with a sample, autoscaled or not', async () => {
    const now = Date.now();
    const h = new MetricHistory(5_000, 10);
    h.record('fixed', sample(now - 1_000, { rps: 7, p95Ms: null }));
    const metrics = new AutoserveMetrics({ apps: () => [appStatus('fixed'), appStatus('new')], appLoad: (app) => appLoadOf(h, app), processMetrics: false });
    const text = await metrics.exposition();
    expect(text).toContain('autoserve_app_requests_per_second{app="fixed"} 7');
    expect(text).toContain('autoserve_app_cpu_utilization_ratio{app="fixed"} 0.5');
    expect(text).not.toContain('autoserve_app_p95_latency_seconds{app="fixed"}');
    expect(text).not.toContain('app="new"}');
  });
});
