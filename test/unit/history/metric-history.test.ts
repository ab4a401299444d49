import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HISTORY_FIELDS, HistoryRing, MetricHistory, type HistorySample } from '../../../src/history/metric-history.js';

function sample(t: number, rps: number | null = t / 1000): HistorySample {
  return { t, rps, p95Ms: null, cpu: 0.5, cpuCores: 0.25, memory: 0.125, memoryBytes: 1024, desired: 2, ready: 1 };
}

describe('HistoryRing', () => {
  it('returns the samples in time order as columns, nulls where not measured', () => {
    const ring = new HistoryRing(4);
    ring.add(sample(1000));
    ring.add(sample(2000, null));
    expect(ring.read()).toEqual({
      t: [1000, 2000],
      rps: [1, null],
      p95Ms: [null, null],
      cpu: [0.5, 0.5],
      cpuCores: [0.25, 0.25],
      memory: [0.125, 0.125],
      memoryBytes: [1024, 1024],
      desired: [2, 2],
      ready: [1, 1],
    });
  });

  it('keeps the newest `capacity` samples once full', () => {
    const ring = new HistoryRing(3);
    for (let i = 1; i <= 5; i++) ring.add(sample(i * 1000));
    expect(ring.size).toBe(3);
    expect(ring.read(undefined, ['rps'])).toEqual({ t: [3000, 4000, 5000], rps: [3, 4, 5] });
    expect(ring.latest()?.t).toBe(5000);
  });

  it('drops a sample not newer than the newest (clock stepped back)', () => {
    const ring = new HistoryRing(3);
    ring.add(sample(2000));
    ring.add(sample(2000, 99));
    ring.add(sample(1000));
    expect(ring.read(undefined, ['rps'])).toEqual({ t: [2000], rps: [2] });
  });

  it('reads from `since` inclusive, only the named fields', () => {
    const ring = new HistoryRing(10);
    for (let i = 1; i <= 5; i++) ring.add(sample(i * 1000));
    expect(ring.read(3000, ['desired'])).toEqual({ t: [3000, 4000, 5000], desired: [2, 2, 2] });
    expect(ring.read(99_000, ['rps'])).toEqual({ t: [], rps: [] });
  });

  it('has a fixed size whatever is added', () => {
    const ring = new HistoryRing(720);
    const bytes = ring.byteLength();
    for (let i = 1; i <= 2000; i++) ring.add(sample(i));
    expect(ring.byteLength()).toBe(bytes);
    expect(bytes).toBe(720 * (8 + 4 * HISTORY_FIELDS.length));
  });

  it('behaves like "the last N samples with increasing times, filtered by since" (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.array(fc.record({ t: fc.integer({ min: 0, max: 500 }), v: fc.float({ noNaN: true, min: -1e6, max: 1e6 }) }), { maxLength: 80 }),
        fc.integer({ min: -1, max: 520 }),
        (capacity, adds, since) => {
          const ring = new HistoryRing(capacity);
          const model: { t: number; v: number }[] = [];
          for (const { t, v } of adds) {
            ring.add({ ...sample(t), rps: v });
            if (model.length === 0 || t > model[model.length - 1]!.t) model.push({ t, v: Math.fround(v) });
          }
          const kept = model.slice(-capacity).filter((s) => s.t >= since);
          const read = ring.read(since, ['rps']);
          expect(read.t).toEqual(kept.map((s) => s.t));
          expect(read.rps).toEqual(kept.map((s) => s.v));
        },
      ),
    );
  });
});

describe('MetricHistory', () => {
  it('keeps one ring per app and drops the rings of apps that are gone', () => {
    const history = new MetricHistory(5_000, 10);
    history.record('web', sample(5_000));
    history.record('api', sample(10_000));
    expect(history.apps()).toEqual(['api', 'web']);
    expect(history.lastRecordedAt).toBe(10_000);
    history.retain(new Set(['web']));
    expect(history.apps()).toEqual(['web']);
    expect(history.read('api', undefined, ['rps'])).toEqual({ t: [], rps: [] });
    expect(history.latest('web')?.rps).toBe(5);
  });
});
