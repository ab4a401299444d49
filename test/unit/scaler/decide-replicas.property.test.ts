// Properties of the decision over random policies, counts and metric histories (fast-check).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decideReplicas } from '../../../src/controllers/scaler/decide-replicas.js';
import { formulaReplicas } from '../../../src/controllers/scaler/evaluate-metrics.js';
import { MetricWindow, type SampleWindow } from '../../../src/controllers/scaler/metric-window.js';
import type { ScalingInput } from '../../../src/controllers/scaler/types.js';
import type { ScalingSpec } from '../../../src/manifest/types.js';

/** Every sample a window holds, oldest first (none for a missing window). */
const allSamples = (w: SampleWindow | undefined) => w?.samplesBetween(-Infinity, Infinity) ?? [];

const NOW = 10_000_000;
const RUNS = { numRuns: Number(process.env.FC_RUNS ?? 300) };

const specArb = fc
  .record({
    minReplicas: fc.integer({ min: 0, max: 5 }),
    span: fc.integer({ min: 0, max: 20 }),
    target: fc.integer({ min: 1, max: 200 }),
    latency: fc.option(fc.integer({ min: 20, max: 2000 }), { nil: undefined }),
    connections: fc.option(fc.integer({ min: 1, max: 50 }), { nil: undefined }),
    windowSeconds: fc.integer({ min: 1, max: 60 }),
    cooldownSeconds: fc.integer({ min: 0, max: 120 }),
    stabilizationSeconds: fc.integer({ min: 0, max: 300 }),
    extra: fc.integer({ min: 0, max: 300 }),
    panicWindowSeconds: fc.integer({ min: 1, max: 30 }),
    thresholdPct: fc.integer({ min: 110, max: 500 }),
  })
  .map((p): ScalingSpec => ({
    minReplicas: p.minReplicas,
    maxReplicas: Math.max(1, p.minReplicas + p.span),
    policy: {
      mode: 'auto',
      cooldownSeconds: p.cooldownSeconds,
      behavior: {
        scaleIn: { stabilizationSeconds: p.stabilizationSeconds, recurringStabilizationSeconds: p.stabilizationSeconds + p.extra },
        panic: { windowSeconds: p.panicWindowSeconds, thresholdPct: p.thresholdPct },
      },
      http: {
        targetRPSPerReplica: p.target, scaleOutThresholdPct: 80, scaleInThresholdPct: 30, windowSeconds: p.windowSeconds,
        ...(p.latency !== undefined ? { maxP95LatencyMs: p.latency } : {}),
      },
      ...(p.connections !== undefined ? { connections: { targetPerReplica: p.connections } } : {}),
    },
  }));

/** A series of `values` one second apart, the newest `staleSeconds` before NOW. */
function window(values: readonly number[], staleSeconds = 0): MetricWindow {
  const w = new MetricWindow();
  const end = NOW - staleSeconds * 1000;
  values.forEach((v, i) => w.add(end - (values.length - 1 - i) * 1000, v));
  return w;
}

const seriesArb = (max: number) => fc.array(fc.integer({ min: 0, max }), { minLength: 0, maxLength: 700 });

const inputArb = (spec: ScalingSpec) =>
  fc
    .record({
      current: fc.integer({ min: 0, max: spec.maxReplicas + 3 }),
      notReady: fc.integer({ min: 0, max: 5 }),
      rps: seriesArb(5000),
      p95: seriesArb(5000),
      concurrency: seriesArb(500),
      staleRps: fc.integer({ min: 0, max: 30 }),
      lastScaleAgoS: fc.option(fc.integer({ min: 0, max: 600 }), { nil: undefined }),
      startedAgoS: fc.integer({ min: 0, max: 3600 }),
    })
    .map((r): ScalingInput => {
      const ready = Math.max(0, r.current - r.notReady);
      return {
        policy: spec,
        current: r.current,
        ready,
        starting: r.current - ready,
        windows: { rps: window(r.rps, r.staleRps), p95LatencyMs: window(r.p95), concurrency: window(r.concurrency), readyReplicas: window(r.rps.map(() => ready)) },
        now: NOW,
        controllerStartedAtMs: NOW - r.startedAgoS * 1000,
        ...(r.lastScaleAgoS !== undefined ? { lastScaleAtMs: NOW - r.lastScaleAgoS * 1000 } : {}),
      };
    });

const anyInput = specArb.chain(inputArb);

describe('decideReplicas properties', () => {
  it('a decision is always within [minReplicas, maxReplicas]', () => {
    fc.assert(
      fc.property(anyInput, (input) => {
        const d = decideReplicas(input);
        expect(d.replicas).toBeGreaterThanOrEqual(input.policy.minReplicas);
        expect(d.replicas).toBeLessThanOrEqual(input.policy.maxReplicas);
        expect(d.direction).toBe(d.replicas > input.current ? 'out' : d.replicas < input.current ? 'in' : 'none');
      }),
      RUNS,
    );
  });

  it('missing or stale load data never scales in (only the max bound can lower the count)', () => {
    const missingOrStale = specArb.chain((spec) =>
      fc.tuple(inputArb(spec), fc.constantFrom('missing', 'stale'), fc.integer({ min: 6, max: 600 })).map(([input, kind, staleS]) => {
        const rps = allSamples(input.windows.rps).map((s) => s.v);
        const concurrency = allSamples(input.windows.concurrency).map((s) => s.v);
        const windows = kind === 'missing'
          ? { ...input.windows, rps: new MetricWindow(), concurrency: new MetricWindow() }
          : { ...input.windows, rps: window(rps, staleS), concurrency: window(concurrency, staleS) };
        return { ...input, windows };
      }),
    );
    fc.assert(
      fc.property(missingOrStale, (input) => {
        const d = decideReplicas(input);
        if (d.direction === 'in') expect(input.current).toBeGreaterThan(input.policy.maxReplicas);
      }),
      RUNS,
    );
  });

  it('no scale in below a higher recommendation made inside the stabilization window', () => {
    // Some 5 s or longer at `level` rps ends `ago` seconds before now, inside the stabilization window.
    const withRecentPeak = specArb.chain((spec) => {
      const stabilization = spec.policy.behavior?.scaleIn.stabilizationSeconds ?? 60;
      return fc
        .record({
          input: inputArb(spec),
          level: fc.integer({ min: 1, max: 5000 }),
          hold: fc.integer({ min: 5, max: 40 }),
          ago: fc.integer({ min: 0, max: Math.max(0, stabilization - 1) }),
          low: fc.integer({ min: 0, max: 50 }),
        })
        .map(({ input, level, hold, ago, low }) => {
          const rps = Array.from({ length: 700 }, (_, i) => {
            const secondsAgo = 699 - i;
            return secondsAgo >= ago && secondsAgo < ago + hold ? level : low;
          });
          return { input: { ...input, windows: { ...input.windows, rps: window(rps) } }, level };
        });
    });
    fc.assert(
      fc.property(withRecentPeak, ({ input, level }) => {
        const target = input.policy.policy.http?.targetRPSPerReplica ?? 1;
        const d = decideReplicas(input);
        if (d.direction === 'in') {
          expect(d.replicas).toBeGreaterThanOrEqual(Math.min(input.policy.maxReplicas, formulaReplicas(level, target)));
        }
      }),
      RUNS,
    );
  });

  it('the same inputs give the same decision, and the windows are not touched', () => {
    fc.assert(
      fc.property(anyInput, (input) => {
        const before = allSamples(input.windows.rps);
        const first = decideReplicas(input);
        expect(decideReplicas(input)).toEqual(first);
        expect(allSamples(input.windows.rps)).toEqual(before);
      }),
      { numRuns: 100 },
    );
  });
});
