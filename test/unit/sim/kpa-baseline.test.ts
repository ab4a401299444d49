import { describe, expect, it } from 'vitest';
import { createKpaBaseline, runSimulation, type TracePoint } from '../../../src/sim/index.js';
import type { ScalingSpec } from '../../../src/manifest/types.js';

const SPEC: ScalingSpec = {
  minReplicas: 1,
  maxReplicas: 40,
  policy: { mode: 'auto', cooldownSeconds: 30, http: { targetRPSPerReplica: 50, maxP95LatencyMs: 200, scaleOutThresholdPct: 80, scaleInThresholdPct: 30, windowSeconds: 20 } },
};

function trace(...phases: [seconds: number, rps: number][]): TracePoint[] {
  const points: TracePoint[] = [];
  for (const [seconds, rps] of phases) for (let i = 0; i < seconds; i++) points.push({ second: points.length, arrivalsPerSecond: rps, serviceTimeMs: 50 });
  return points;
}

const run = (t: TracePoint[], spec = SPEC) => runSimulation({ spec, specReplicas: 2, trace: t, sloMs: 200, scaler: createKpaBaseline(spec) });

describe('KPA-like baseline', () => {
  it('decides on a 2 s tick', () => {
    for (const c of run(trace([60, 100], [120, 600], [300, 100])).changes) expect(c.second % 2).toBe(0);
  });

  it('panics when the 6 s mean asks for >= 200 % of the ready replicas, and scales out at once', () => {
    const r = run(trace([60, 100], [120, 1000], [300, 100]));
    const first = r.changes.find((c) => c.second >= 60)!;
    expect(first.second).toBeLessThanOrEqual(64);
    expect(first.reason).toMatch(/^kpa: panic/);
  });

  it('never scales in while panicking, and scales in after a stable window without panic', () => {
    const r = run(trace([60, 100], [60, 1000], [300, 100]));
    const firstIn = r.changes.find((c) => c.to < c.from)!;
    const lastOut = r.changes.filter((c) => c.to > c.from).at(-1)!;
    expect(firstIn.second).toBeGreaterThanOrEqual(lastOut.second);
    expect(firstIn.second).toBeGreaterThanOrEqual(60 + 60); // panic lasts a stable window past its last crossing
    expect(firstIn.to).toBeGreaterThanOrEqual(15); // sized by the 60 s mean, which still holds most of the surge
    expect(firstIn.reason).not.toMatch(/panic/);
  });

  it('a gentle rise scales on the 60 s mean (no panic)', () => {
    const r = run(trace([60, 100], [200, 150]));
    expect(r.changes.every((c) => !/panic/.test(c.reason))).toBe(true);
    expect(r.replicasPerSecond.at(-1)).toBe(3);
  });

  it('scales in at most by half per decision (max-scale-down-rate 2)', () => {
    const r = run(trace([120, 1000], [200, 10]));
    for (const c of r.changes.filter((x) => x.to < x.from)) expect(c.to).toBeGreaterThanOrEqual(Math.floor(c.from / 2));
  });

  it('uses concurrency when the policy has a connections target, else rps; cpu alone is refused', () => {
    const cpuOnly: ScalingSpec = { ...SPEC, policy: { mode: 'auto', cooldownSeconds: 30, cpu: { targetUtilizationPct: 50 } } };
    expect(() => createKpaBaseline(cpuOnly)).toThrow(/connections.targetPerReplica or http.targetRPSPerReplica/);
    const conc: ScalingSpec = { ...SPEC, policy: { ...SPEC.policy, connections: { targetPerReplica: 2 } } };
    expect(run(trace([120, 100]), conc).changes[0]?.reason).toMatch(/concurrency/);
  });
});
