import { describe, expect, it } from 'vitest';
import { coveredMs, coversWindow, MetricWindow } from '../../../src/controllers/scaler/metric-window.js';

function filled(fromS: number, toS: number, value: (s: number) => number, max?: number): MetricWindow {
  const w = new MetricWindow(max);
  for (let s = fromS; s <= toS; s++) w.add(s * 1000, value(s));
  return w;
}

describe('MetricWindow', () => {
  it('keeps samples in time order and answers range queries', () => {
    const w = filled(0, 9, (s) => s);
    expect(w.size).toBe(10);
    expect(w.samplesBetween(3000, 5000).map((s) => s.v)).toEqual([3, 4, 5]);
    expect(w.latest()).toEqual({ t: 9000, v: 9 });
    expect(w.oldest()).toEqual({ t: 0, v: 0 });
  });

  it('memory is bounded by maxSamples whatever the traffic: the oldest are overwritten', () => {
    const w = filled(0, 10_000, (s) => s, 100);
    expect(w.size).toBe(100);
    expect(w.oldest()?.v).toBe(9901);
    expect(w.toArray().map((s) => s.v)).toEqual(Array.from({ length: 100 }, (_, i) => 9901 + i));
  });

  it('drops late and non-finite samples; a sample at the newest time replaces it', () => {
    const w = filled(0, 4, () => 1);
    w.add(2500, 99);
    w.add(5000, Number.NaN);
    w.add(4000, 7);
    expect(w.toArray().map((s) => s.v)).toEqual([1, 1, 1, 1, 7]);
  });

  it('prune drops samples older than maxAge', () => {
    const w = filled(0, 59, () => 1);
    w.prune(59_000, 10_000);
    expect(w.oldest()?.t).toBe(49_000);
    expect(w.size).toBe(11);
  });

  it('covers needs data reaching back to the window start, fresh data, and no long gap', () => {
    const w = filled(0, 30, () => 1);
    expect(w.covers(30_000, 20)).toBe(true);
    expect(w.covers(30_000, 31)).toBe(false); // data starts at 0, window at -1 s
    expect(w.covers(40_000, 20)).toBe(false); // newest sample 10 s old
    const gappy = MetricWindow.of([[0, 1], [1000, 1], [9000, 1], [10_000, 1]]);
    expect(gappy.covers(10_000, 10)).toBe(false);
  });

  it('allAbove / allBelow need a covered window and every sample past the line', () => {
    const w = filled(0, 30, (s) => (s === 25 ? 5 : 10));
    expect(w.allAbove(30_000, 4, 8)).toBe(true);
    expect(w.allAbove(30_000, 10, 8)).toBe(false);
    expect(w.allBelow(24_000, 10, 11)).toBe(true);
    expect(filled(25, 30, () => 10).allAbove(30_000, 10, 8)).toBe(false); // not full
  });

  it('coveredMs measures the newest unbroken run', () => {
    const w = MetricWindow.of([[0, 1], [20_000, 1], [21_000, 1], [22_000, 1]]);
    expect(coveredMs(w.toArray(), 22_000)).toBe(2000);
    expect(coversWindow([], 0, 1)).toBe(false);
  });
});
