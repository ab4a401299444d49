import { describe, expect, it } from 'vitest';
import { LATENCY_BUCKETS, LATENCY_GROWTH, latencyBucket, latencyBucketValue } from '../../../src/observe/latency-buckets.js';
import { parseAccessLogLine } from '../../../src/observe/access-log.js';
import { RequestWindow } from '../../../src/observe/request-window.js';

const T0 = 1_700_000_000; // a whole second, in seconds

/** Deterministic pseudo-random numbers (xorshift32) in [0, 1). */
function rng(seed = 42): () => number {
  let x = seed;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

function exactP95(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.ceil(0.95 * sorted.length) - 1]!;
}

describe('latency buckets', () => {
  it('report every value within the bucket tolerance (±2.5 %), 0 ms as bucket 0', () => {
    expect(latencyBucket(0)).toBe(0);
    expect(latencyBucket(0.4)).toBe(0);
    expect(latencyBucket(Number.NaN)).toBe(0);
    for (const ms of [1, 1.5, 7, 42, 99.9, 250, 1234, 59_000]) {
      const reported = latencyBucketValue(latencyBucket(ms));
      expect(Math.abs(reported - ms) / ms).toBeLessThanOrEqual(Math.sqrt(LATENCY_GROWTH) - 1 + 1e-9);
    }
    expect(latencyBucket(10 * 60_000)).toBe(LATENCY_BUCKETS - 1);
  });
});

describe('RequestWindow', () => {
  it('counts requests per second, 5xx rate and concurrency (Little) over whole seconds', () => {
    const w = new RequestWindow(60);
    for (let s = 0; s < 10; s++) {
      for (let i = 0; i < 20; i++) w.record((T0 + s) * 1000 + i * 50, i < 2 ? 502 : 200, 100);
    }
    const last = T0 + 9;
    expect(w.rps(last, 10)).toBe(20);
    expect(w.rps(last, 20)).toBe(10); // half the window had no traffic
    expect(w.errorRate(last, 10)).toBeCloseTo(0.1, 9);
    // 20 rps x 0.1 s each = 2 in flight on average
    expect(w.concurrency(last, 10)).toBeCloseTo(2, 9);
    expect(w.requests(last, 5)).toBe(100);
  });

  it('p95 from the histogram matches the exact p95 within the bucket tolerance', () => {
    const rand = rng(7);
    for (const shape of ['uniform', 'lognormal', 'bimodal'] as const) {
      const w = new RequestWindow(60);
      const values: number[] = [];
      for (let i = 0; i < 20_000; i++) {
        let v: number;
        if (shape === 'uniform') v = 1 + rand() * 500;
        else if (shape === 'lognormal') v = Math.exp(3 + 1.2 * Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand()));
        else v = rand() < 0.9 ? 5 + rand() * 5 : 800 + rand() * 400;
        v = Math.round(v); // nginx logs whole ms
        values.push(v);
        w.record((T0 + (i % 30)) * 1000, 200, v);
      }
      const approx = w.p95Ms(T0 + 29, 30)!;
      const exact = exactP95(values);
      expect(Math.abs(approx - exact) / Math.max(exact, 1), shape).toBeLessThanOrEqual(Math.sqrt(LATENCY_GROWTH) - 1 + 1e-9);
    }
  });

  it('slides: old seconds leave the window, a slot is reused for a new second, too-old lines are dropped', () => {
    const w = new RequestWindow(10);
    w.record(T0 * 1000, 500, 10);
    expect(w.rps(T0, 1)).toBe(1);
    // 100 s later the same ring slot may be reused; the old second must not leak into it.
    w.record((T0 + 96) * 1000, 200, 10);
    expect(w.rps(T0 + 96, 10)).toBeCloseTo(0.1, 9);
    expect(w.errorRate(T0 + 96, 10)).toBe(0);
    expect(w.record(T0 * 1000, 200, 10)).toBe(false); // far behind the latest second
    expect(w.record((T0 + 90) * 1000, 200, 10)).toBe(true); // late but still inside the ring
    expect(w.rps(T0 + 96, 10)).toBeCloseTo(0.2, 9);
  });

  it('has no p95 without upstream times; nginx-answered requests still count in rps and errors', () => {
    const w = new RequestWindow(60);
    w.record(T0 * 1000, 503, undefined);
    expect(w.p95Ms(T0, 1)).toBeNull();
    expect(w.rps(T0, 1)).toBe(1);
    expect(w.errorRate(T0, 1)).toBe(1);
    expect(w.concurrency(T0, 1)).toBe(0);
  });

  it('gives per-second series with zeros for quiet seconds', () => {
    const w = new RequestWindow(60);
    w.record(T0 * 1000 + 10, 200, 40);
    w.record(T0 * 1000 + 20, 500, 60);
    w.record((T0 + 2) * 1000, 200, 1000);
    expect(w.series('rps', T0, T0 + 2)).toEqual([
      { t: T0 * 1000, value: 2 },
      { t: (T0 + 1) * 1000, value: 0 },
      { t: (T0 + 2) * 1000, value: 1 },
    ]);
    expect(w.series('errorRate', T0, T0 + 2).map((p) => p.value)).toEqual([0.5, null, 0]);
    expect(w.series('concurrency', T0, T0 + 2).map((p) => p.value)).toEqual([0.1, 0, 1]);
    const p95 = w.series('p95', T0, T0 + 2).map((p) => p.value);
    expect(p95[0]).toBeCloseTo(60, -0.5);
    expect(p95[1]).toBeNull();
    // never more than the window
    expect(w.series('rps', T0 - 1000, T0 + 2)).toHaveLength(60);
  });

  it('keeps fixed memory through a million parsed log lines', () => {
    const w = new RequestWindow(60);
    const bytes = w.byteLength();
    expect(bytes).toBeLessThan(128 * 1024);
    const rand = rng(3);
    const started = performance.now();
    for (let i = 0; i < 1_000_000; i++) {
      // ~10k rps over 100 s: the ring wraps
      const text = `{"time":${((T0 * 1000 + i / 10) / 1000).toFixed(3)},"app":"web","status":${rand() < 0.01 ? 500 : 200},"request_time":0.3,"upstream_addr":"127.0.0.1:1","upstream_status":"200","upstream_response_time":"${(rand() * 0.3).toFixed(3)}","connection":1}`;
      const e = parseAccessLogLine(text)!;
      w.record(e.timeMs, e.status, e.upstreamMs);
    }
    const elapsed = performance.now() - started;
    expect(w.byteLength()).toBe(bytes);
    expect(w.rps(T0 + 99, 60)).toBeCloseTo(10_000, -1);
    expect(w.errorRate(T0 + 99, 60)).toBeCloseTo(0.01, 2);
    expect(elapsed).toBeLessThan(20_000);
  });
});
