// One app's requests over the last minute, in 1-second buckets of fixed size: count, 5xx count,
// upstream time (sum, and a latency histogram for percentiles). Memory is fixed at construction
// (~60 KiB for 60 s) however many requests arrive.
import { LATENCY_BUCKETS, latencyBucket, percentileOfBuckets } from './latency-buckets.js';

export const DEFAULT_WINDOW_SECONDS = 60;

export type RequestMetric = 'rps' | 'p95' | 'concurrency' | 'errorRate';

export interface SeriesPoint {
  /** Start of the 1-second bucket, ms since the epoch. */
  t: number;
  /** null where the metric is undefined for that second (p95 or errorRate without requests). */
  value: number | null;
}

/**
 * A ring of `seconds + 2` one-second slots (the window, the second being filled, and one of slack
 * for lines that arrive late). A slot is reused for a new second by zeroing it; a line for a second
 * that has already left the ring is dropped.
 */
export class RequestWindow {
  readonly seconds: number;
  private readonly slots: number;
  private readonly second: Float64Array;
  private readonly count: Uint32Array;
  private readonly errors: Uint32Array;
  private readonly timed: Uint32Array;
  private readonly upstreamMs: Float64Array;
  private readonly hist: Uint32Array;
  /** Latest second recorded: a line older than latest - slots + 1 is dropped. */
  private latest = -Infinity;

  constructor(seconds = DEFAULT_WINDOW_SECONDS) {
    if (!Number.isInteger(seconds) || seconds < 1) throw new Error(`window must be a whole number of seconds >= 1, got ${seconds}`);
    this.seconds = seconds;
    this.slots = seconds + 2;
    this.second = new Float64Array(this.slots).fill(-1);
    this.count = new Uint32Array(this.slots);
    this.errors = new Uint32Array(this.slots);
    this.timed = new Uint32Array(this.slots);
    this.upstreamMs = new Float64Array(this.slots);
    this.hist = new Uint32Array(this.slots * LATENCY_BUCKETS);
  }

  /**
   * One completed request. `timeMs`: when nginx logged it (completion); `upstreamMs`: time spent in
   * upstreams (all attempts), undefined when nginx answered itself (no upstream).
   * Returns false when the line is too old for the ring.
   */
  record(timeMs: number, status: number, upstreamMs: number | undefined): boolean {
    const sec = Math.floor(timeMs / 1000);
    if (!Number.isFinite(sec) || sec <= this.latest - this.slots) return false;
    const slot = this.slotOf(sec);
    if (this.second[slot] !== sec) {
      if (this.second[slot]! > sec) return false;
      this.reset(slot, sec);
    }
    if (sec > this.latest) this.latest = sec;
    this.count[slot]!++;
    if (status >= 500) this.errors[slot]!++;
    if (upstreamMs !== undefined && upstreamMs >= 0) {
      this.timed[slot]!++;
      this.upstreamMs[slot]! += upstreamMs;
      this.hist[slot * LATENCY_BUCKETS + latencyBucket(upstreamMs)]!++;
    }
    return true;
  }

  /** Requests per second over the `windowSeconds` seconds ending with `lastSecond` (inclusive). */
  rps(lastSecond: number, windowSeconds: number): number {
    const n = this.clampWindow(windowSeconds);
    return this.sum(this.count, lastSecond, n) / n;
  }

  /** Share of requests answered 5xx; 0 without requests. */
  errorRate(lastSecond: number, windowSeconds: number): number {
    const n = this.clampWindow(windowSeconds);
    const total = this.sum(this.count, lastSecond, n);
    return total === 0 ? 0 : this.sum(this.errors, lastSecond, n) / total;
  }

  /**
   * Mean requests in flight at the upstreams, by Little's law: L = λ·W = (Σ upstream time) / window.
   * Requests are logged at completion, so a long request counts in full in the second it ended.
   */
  concurrency(lastSecond: number, windowSeconds: number): number {
    const n = this.clampWindow(windowSeconds);
    return this.sum(this.upstreamMs, lastSecond, n) / 1000 / n;
  }

  /** 95th percentile of upstream time in ms (±2.5 %); null without upstream requests. */
  p95Ms(lastSecond: number, windowSeconds: number): number | null {
    return this.percentileMs(lastSecond, windowSeconds, 0.95);
  }

  percentileMs(lastSecond: number, windowSeconds: number, q: number): number | null {
    const n = this.clampWindow(windowSeconds);
    // Summing 60 slots x 242 buckets (~15k adds) per query keeps recording O(1).
    const merged = new Float64Array(LATENCY_BUCKETS);
    let total = 0;
    for (let s = lastSecond - n + 1; s <= lastSecond; s++) {
      const slot = this.slotOf(s);
      if (this.second[slot] !== s) continue;
      total += this.timed[slot]!;
      const base = slot * LATENCY_BUCKETS;
      for (let b = 0; b < LATENCY_BUCKETS; b++) merged[b]! += this.hist[base + b]!;
    }
    return percentileOfBuckets(merged, 0, total, q);
  }

  /** Number of requests in the window (not divided by its length). */
  requests(lastSecond: number, windowSeconds: number): number {
    return this.sum(this.count, lastSecond, this.clampWindow(windowSeconds));
  }

  /** One point per second from `fromSecond` to `lastSecond` (inclusive, at most the window), zeros included. */
  series(metric: RequestMetric, fromSecond: number, lastSecond: number): SeriesPoint[] {
    const out: SeriesPoint[] = [];
    const first = Math.max(fromSecond, lastSecond - this.seconds + 1);
    for (let s = first; s <= lastSecond; s++) {
      const slot = this.slotOf(s);
      const live = this.second[slot] === s;
      const count = live ? this.count[slot]! : 0;
      let value: number | null;
      switch (metric) {
        case 'rps':
          value = count;
          break;
        case 'errorRate':
          value = count === 0 ? null : this.errors[slot]! / count;
          break;
        case 'concurrency':
          value = live ? this.upstreamMs[slot]! / 1000 : 0;
          break;
        case 'p95':
          value = live ? percentileOfBuckets(this.hist, slot * LATENCY_BUCKETS, this.timed[slot]!, 0.95) : null;
          break;
      }
      out.push({ t: s * 1000, value });
    }
    return out;
  }

  /** The latest second with a recorded request, or undefined. */
  latestSecond(): number | undefined {
    return Number.isFinite(this.latest) ? this.latest : undefined;
  }

  /** Bytes held by the ring (constant for the window's life). */
  byteLength(): number {
    return [this.second, this.count, this.errors, this.timed, this.upstreamMs, this.hist].reduce((n, a) => n + a.byteLength, 0);
  }

  private sum(values: Uint32Array | Float64Array, lastSecond: number, n: number): number {
    let total = 0;
    for (let s = lastSecond - n + 1; s <= lastSecond; s++) {
      const slot = this.slotOf(s);
      if (this.second[slot] === s) total += values[slot]!;
    }
    return total;
  }

  private clampWindow(windowSeconds: number): number {
    return Math.max(1, Math.min(this.seconds, Math.floor(windowSeconds)));
  }

  private slotOf(sec: number): number {
    const m = sec % this.slots;
    return m < 0 ? m + this.slots : m;
  }

  private reset(slot: number, sec: number): void {
    this.second[slot] = sec;
    this.count[slot] = 0;
    this.errors[slot] = 0;
    this.timed[slot] = 0;
    this.upstreamMs[slot] = 0;
    this.hist.fill(0, slot * LATENCY_BUCKETS, (slot + 1) * LATENCY_BUCKETS);
  }
}
