import { describe, expect, it } from 'vitest';
import { createAutoServeScaler, createHpaBaseline, renderHtmlReport, runOracle, runSimulation, type TracePoint } from '../../../src/sim/index.js';
import type { ScalingSpec } from '../../../src/manifest/types.js';

const SPEC: ScalingSpec = { minReplicas: 1, maxReplicas: 20, policy: { mode: 'auto', cooldownSeconds: 30, http: { targetRPSPerReplica: 50, maxP95LatencyMs: 200, scaleOutThresholdPct: 80, scaleInThresholdPct: 30, windowSeconds: 20 } } };
const points: TracePoint[] = Array.from({ length: 300 }, (_, second) => ({ second, arrivalsPerSecond: second < 100 ? 100 : 400, serviceTimeMs: 50 }));

async function report(app = 'web') {
  const common = { spec: SPEC, specReplicas: 2, trace: points, sloMs: 200 };
  const results = [
    runSimulation({ ...common, scaler: createAutoServeScaler(SPEC, 2) }),
    runSimulation({ ...common, scaler: createHpaBaseline(SPEC) }),
    runOracle(common),
  ];
  return { html: await renderHtmlReport({ app, trace: 'step.csv', sloMs: 200, points, results }), results };
}

describe('HTML report', () => {
  it('is self-contained: uPlot inlined, nothing fetched from the network', async () => {
    const { html } = await report();
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('uPlot');
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=|url\(\s*['"]?https?:|@import/i); // nothing loads from elsewhere
  });

  it('carries every policy\'s series for one chart each, and the summary table', async () => {
    const { html, results } = await report();
    const json = /<script type="application\/json" id="data">(.*?)<\/script>/s.exec(html)?.[1];
    const data = JSON.parse(json!) as { load: number[]; oracle: number[]; policies: { policy: string; replicas: number[]; p95: number[] }[]; sloMs: number };
    expect(data.policies.map((p) => p.policy)).toEqual(['autoserve', 'hpa', 'oracle']);
    expect(data.load).toHaveLength(300);
    expect(data.policies[0]!.replicas).toEqual(results[0]!.replicasPerSecond);
    expect(data.sloMs).toBe(200);
    for (const r of results) expect(html).toContain(`<td>${r.policy}</td><td>${r.secondsOverSlo}</td><td>${r.replicaSeconds}</td>`);
  });

  it('names cannot break out of the page', async () => {
    const { html } = await report('</script><img onerror=x>');
    expect(html).not.toContain('</script><img');
    expect(html).toContain('&lt;/script&gt;&lt;img onerror=x&gt;');
  });
});
