import { describe, expect, it } from 'vitest';
import { poissonArrivals, traceArrivals } from '../../support/arrivals.js';

describe('arrival schedules', () => {
  it('Poisson: non-decreasing, at the mean rate, deterministic per seed, burstier than even spacing', () => {
    const at = poissonArrivals(20, 7);
    const times = Array.from({ length: 4000 }, (_, i) => at(i));
    expect(times.every((t, i) => i === 0 || t >= times[i - 1]!)).toBe(true);
    expect(times.at(-1)! / 1000).toBeGreaterThan(4000 / 20 * 0.95);
    expect(times.at(-1)! / 1000).toBeLessThan(4000 / 20 * 1.05);
    expect(poissonArrivals(20, 7)(100)).toBe(times[100]);
    const perSecond = new Map<number, number>();
    for (const t of times) perSecond.set(Math.floor(t / 1000), (perSecond.get(Math.floor(t / 1000)) ?? 0) + 1);
    expect(Math.max(...perSecond.values())).toBeGreaterThan(25); // Poisson(20) reaches well past its mean
  });

  it('trace replay: each second gets its count, in order, then no more', () => {
    const t = traceArrivals([3, 0, 2]);
    expect(t.total).toBe(5);
    expect([0, 1, 2, 3, 4].map(t.secondOf)).toEqual([0, 0, 0, 2, 2]);
    expect(t.sendAtMs(2)).toBeLessThan(1000);
    expect(t.sendAtMs(3)).toBeGreaterThanOrEqual(2000);
    expect(t.sendAtMs(5)).toBe(Infinity);
  });
});
