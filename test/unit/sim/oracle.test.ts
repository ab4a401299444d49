import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { capacityOf, oracleReplicas, runOracle, steadyP95Ms, type TracePoint } from '../../../src/sim/index.js';

const BOUNDS = { minReplicas: 1, maxReplicas: 30 };
const point = (arrivalsPerSecond: number, serviceTimeMs = 50): TracePoint => ({ second: 0, arrivalsPerSecond, serviceTimeMs });

describe('oracle', () => {
  it('runs the fewest replicas that meet the objective each second', () => {
    expect(oracleReplicas(point(120), { spec: BOUNDS, sloMs: 200 })).toBe(2);
    expect(oracleReplicas(point(400), { spec: BOUNDS, sloMs: 200 })).toBe(6);
    expect(oracleReplicas(point(120, 150), { spec: BOUNDS, sloMs: 200 })).toBe(6);
  });

  it('honours minReplicas, and runs it with no traffic', () => {
    expect(oracleReplicas(point(0), { spec: { minReplicas: 0, maxReplicas: 5 }, sloMs: 200 })).toBe(0);
    expect(oracleReplicas(point(10), { spec: { minReplicas: 3, maxReplicas: 5 }, sloMs: 200 })).toBe(3);
  });

  it('an objective below the service time: the fewest replicas at which nobody waits', () => {
    const n = oracleReplicas(point(120, 300), { spec: BOUNDS, sloMs: 200 });
    expect(steadyP95Ms(120, 300, capacityOf(n, point(120, 300), {}))).toBe(300);
    expect(steadyP95Ms(120, 300, capacityOf(n - 1, point(120, 300), {}))).toBeGreaterThan(300);
  });

  it('a feasible trace is never over the objective; replica-seconds are the sum of the counts', () => {
    const trace = [100, 400, 50, 1000].map((r, second) => ({ ...point(r), second }));
    const r = runOracle({ spec: BOUNDS, trace, sloMs: 200 });
    expect(r.secondsOverSlo).toBe(0);
    expect(r.replicaSeconds).toBe(r.replicasPerSecond.reduce((a, b) => a + b, 0));
    expect(r.policy).toBe('oracle');
  });

  it('property: one replica fewer than the oracle misses the objective (or the oracle sits at min)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2000 }), fc.integer({ min: 5, max: 180 }), (arrivals, st) => {
        const p = point(arrivals, st);
        const n = oracleReplicas(p, { spec: BOUNDS, sloMs: 200 });
        const p95 = (k: number) => steadyP95Ms(arrivals, st, capacityOf(k, p, {}));
        if (n < BOUNDS.maxReplicas) expect(p95(n)).toBeLessThanOrEqual(200);
        if (n > BOUNDS.minReplicas) expect(p95(n - 1)).toBeGreaterThan(200);
      }),
    );
  });
});
