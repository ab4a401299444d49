// /metrics is Prometheus text exposition with autoserve_ names, from its own registry.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AutoserveMetrics } from '../../../src/observe/metrics.js';
import { populate, startApiFixture, type ApiFixture } from './api-fixture.js';

describe('GET /metrics', () => {
  let f: ApiFixture;
  beforeAll(async () => {
    // Process metrics on: their names must follow the same rules.
    f = await startApiFixture({ metrics: new AutoserveMetrics({ processMetrics: true }) });
    f.metrics.setAppsSource(() => f.store.apps());
    f.metrics.setAppMetricsProvider((app) => (app === 'web' ? { requestsPerSecond: 42, p95LatencySeconds: 0.12, cpuUtilizationRatio: 0.3 } : undefined));
    populate(f.store);
    f.metrics.observeReconcile(12, true);
    f.metrics.observeReconcile(40, false);
    f.metrics.nginxReload(true, 30);
    f.metrics.nginxReload(false, 5);
    f.metrics.healthCheck('ready');
    f.metrics.healthCheck('unhealthy');
    f.metrics.scaleEvent('web', 'up');
  });
  afterAll(async () => {
    await f?.close();
  });

  it('is text exposition whose every sample line parses, with autoserve_ names and _total counters', async () => {
    const r = await f.request('/metrics');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/plain/);
    const counters = new Set<string>();
    const samples: string[] = [];
    for (const line of r.text.split('\n')) {
      if (line === '') continue;
      const type = /^# TYPE (\S+) (\S+)$/.exec(line);
      if (type && type[2] === 'counter') counters.add(type[1]!);
      if (line.startsWith('#')) continue;
      const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})? (-?[0-9.eE+-]+|[Nn]a[Nn]|[+-]Inf)$/.exec(line); // prom-client prints "Nan"; Prometheus parses NaN case-insensitively
      expect(sample, line).not.toBeNull();
      samples.push(line);
      expect(sample![1]).toMatch(/^autoserve_[a-z0-9_]+$/);
    }
    expect(counters.size).toBeGreaterThan(0);
    for (const name of counters) expect(name).toMatch(/_total$/);
    expect(samples.length).toBeGreaterThan(20);
  });

  it('has the controller metrics and per-app gauges', async () => {
    const text = (await f.request('/metrics')).text;
    expect(text).toContain('autoserve_reconcile_duration_seconds_count{result="ok"} 1');
    expect(text).toContain('autoserve_reconcile_errors_total 1');
    expect(text).toContain('autoserve_nginx_reloads_total 2');
    expect(text).toContain('autoserve_nginx_reload_failures_total 1');
    expect(text).toContain('autoserve_health_checks_total{result="unhealthy"} 1');
    expect(text).toContain('autoserve_scale_events_total{app="web",direction="up"} 1');
    expect(text).toContain('autoserve_app_replicas{app="api",state="ready"} 1');
    expect(text).toContain('autoserve_app_phase{app="api",phase="Degraded"} 1');
    expect(text).toContain('autoserve_app_phase{app="api",phase="Running"} 0');
    expect(text).toContain('autoserve_app_requests_per_second{app="web"} 42');
    expect(text).toContain('autoserve_app_p95_latency_seconds{app="web"} 0.12');
    expect(text).not.toContain('autoserve_app_requests_per_second{app="api"}');
  });

  it('follows the store at scrape time (a removed app disappears)', async () => {
    f.store.removeApp('api');
    const text = (await f.request('/metrics')).text;
    expect(text).not.toContain('app="api"');
  });

  it('two instances do not share a registry (no global state)', async () => {
    const a = new AutoserveMetrics({ processMetrics: true });
    const b = new AutoserveMetrics({ processMetrics: true });
    a.scaleEvent('x', 'up');
    expect(await a.exposition()).toContain('autoserve_scale_events_total{app="x",direction="up"} 1');
    expect(await b.exposition()).not.toContain('app="x"');
    expect(await a.exposition()).toContain('autoserve_process_cpu_user_seconds_total');
  });
});
