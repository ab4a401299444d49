import { describe, expect, it } from 'vitest';
import { AppLoadWindows, retentionMs } from '../../../src/controllers/scaler/app-load-windows.js';
import type { ScalingPolicy } from '../../../src/manifest/types.js';
import type { RequestMetric, SeriesPoint } from '../../../src/observe/index-metrics.js';

const POLICY: ScalingPolicy = { mode: 'auto', cooldownSeconds: 30, http: { targetRPSPerReplica: 50, scaleOutThresholdPct: 80, scaleInThresholdPct: 30, windowSeconds: 20 } };

/** An access log that keeps the last 60 s: rps = the second's number, p95 null at even seconds. */
function accessLog(nowMs: number) {
  return (metric: RequestMetric, sinceMs: number): SeriesPoint[] => {
    const last = Math.floor(nowMs / 1000) - 1;
    const out: SeriesPoint[] = [];
    for (let s = Math.max(Math.floor(sinceMs / 1000), last - 59); s <= last; s++) {
      out.push({ t: s * 1000, value: metric === 'p95' && s % 2 === 0 ? null : s });
    }
    return out;
  };
}

describe('AppLoadWindows', () => {
  it('keeps far more history than the access log: the recurrence memory (20 min) and a window', () => {
    expect(retentionMs(POLICY)).toBe(1_200_000 + 20_000 + 5_000);
    const w = new AppLoadWindows();
    for (let now = 10_000; now <= 1_800_000; now += 2_000) w.update(accessLog(now), 3, now, POLICY);
    const rps = w.rps.toArray();
    expect(rps[rps.length - 1]).toEqual({ t: 1_799_000, v: 1799 });
    expect(rps[0]!.t).toBeGreaterThanOrEqual(1_800_000 - retentionMs(POLICY));
    expect(rps[0]!.t).toBeLessThanOrEqual(1_800_000 - 1_200_000);
    // one sample a second, no gaps, no duplicates
    expect(rps.every((s, i) => i === 0 || s.t - rps[i - 1]!.t === 1000)).toBe(true);
  });

  it('skips seconds without a p95 and records the ready count each update', () => {
    const w = new AppLoadWindows();
    w.update(accessLog(100_000), 2, 100_000, POLICY);
    w.update(accessLog(102_000), 4, 102_000, POLICY);
    expect(w.p95.toArray().every((s) => (s.t / 1000) % 2 === 1)).toBe(true);
    expect(w.readyReplicas.toArray()).toEqual([{ t: 100_000, v: 2 }, { t: 102_000, v: 4 }]);
  });
});
