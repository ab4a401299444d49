// A bounded sliding window of (time, value) samples for one metric: a ring buffer whose memory is
// fixed by `maxSamples` however much traffic there is. Collectors add one sample per scrape; the
// decision reads it through the query methods and never mutates it.

/** One observation. `t` is epoch milliseconds, `v` the metric's value at that time. */
export interface Sample {
  readonly t: number;
  readonly v: number;
}

/** Samples kept per window when the caller names no bound: an hour at one sample a second. */
export const DEFAULT_MAX_SAMPLES = 3600;

/**
 * The largest gap between two samples (or between the window's edges and the nearest sample) for the
 * data to still count as covering the window. The real collectors sample every 1-2 s; a longer gap
 * means a scrape failed and the window is not trusted.
 */
export const DEFAULT_MAX_SAMPLE_GAP_MS = 5_000;

/** Read-only view of a window: what the decision needs. `MetricWindow` implements it. */
export interface SampleWindow {
  /** Samples with `fromMs <= t <= toMs`, oldest first. */
  samplesBetween(fromMs: number, toMs: number): Sample[];
  /** The newest sample, if any. */
  latest(): Sample | undefined;
  readonly size: number;
}

export class MetricWindow implements SampleWindow {
  readonly #times: Float64Array;
  readonly #values: Float64Array;
  #start = 0; // index of the oldest sample
  #size = 0;

  constructor(readonly maxSamples: number = DEFAULT_MAX_SAMPLES) {
    if (!Number.isInteger(maxSamples) || maxSamples < 1) throw new RangeError(`maxSamples must be a positive integer, got ${maxSamples}`);
    this.#times = new Float64Array(maxSamples);
    this.#values = new Float64Array(maxSamples);
  }

  /** A window holding `samples` (sorted by time on the way in); handy for tests and replays. */
  static of(samples: Iterable<Sample | readonly [number, number]>, maxSamples = DEFAULT_MAX_SAMPLES): MetricWindow {
    const list = [...samples].map((s) => ('t' in s ? s : { t: s[0], v: s[1] }));
    list.sort((a, b) => a.t - b.t);
    const window = new MetricWindow(maxSamples);
    for (const s of list) window.add(s.t, s.v);
    return window;
  }

  get size(): number {
    return this.#size;
  }

  /**
   * Appends a sample. Samples must arrive in time order: one older than the newest is dropped (a
   * late scrape says nothing about now), one with the newest's time replaces it. Non-finite values
   * are dropped. When full, the oldest sample is overwritten.
   */
  add(t: number, v: number): void {
    if (!Number.isFinite(t) || !Number.isFinite(v)) return;
    const newest = this.latest();
    if (newest !== undefined) {
      if (t < newest.t) return;
      if (t === newest.t) {
        this.#values[this.#index(this.#size - 1)] = v;
        return;
      }
    }
    if (this.#size === this.maxSamples) {
      this.#start = (this.#start + 1) % this.maxSamples;
      this.#size--;
    }
    const at = this.#index(this.#size);
    this.#times[at] = t;
    this.#values[at] = v;
    this.#size++;
  }

  /** Drops samples older than `now - maxAgeMs`. */
  prune(now: number, maxAgeMs: number): void {
    const cutoff = now - maxAgeMs;
    while (this.#size > 0 && (this.#times[this.#start] ?? Infinity) < cutoff) {
      this.#start = (this.#start + 1) % this.maxSamples;
      this.#size--;
    }
  }

  latest(): Sample | undefined {
    return this.#size === 0 ? undefined : this.#at(this.#size - 1);
  }

  oldest(): Sample | undefined {
    return this.#size === 0 ? undefined : this.#at(0);
  }

  samplesBetween(fromMs: number, toMs: number): Sample[] {
    const out: Sample[] = [];
    for (let i = 0; i < this.#size; i++) {
      const s = this.#at(i);
      if (s.t > toMs) break;
      if (s.t >= fromMs) out.push(s);
    }
    return out;
  }

  /** Every sample, oldest first. */
  toArray(): Sample[] {
    return this.samplesBetween(-Infinity, Infinity);
  }

  /** True when the samples cover `[now - seconds, now]` with no gap over `maxGapMs` (see coversWindow). */
  covers(now: number, seconds: number, maxGapMs = DEFAULT_MAX_SAMPLE_GAP_MS): boolean {
    return coversWindow(this.samplesBetween(now - seconds * 1000 - maxGapMs, now), now, seconds, maxGapMs);
  }

  /** True when the window is covered and every sample inside it is strictly above `threshold`. */
  allAbove(now: number, seconds: number, threshold: number, maxGapMs = DEFAULT_MAX_SAMPLE_GAP_MS): boolean {
    return this.covers(now, seconds, maxGapMs) && this.samplesBetween(now - seconds * 1000, now).every((s) => s.v > threshold);
  }

  /** True when the window is covered and every sample inside it is strictly below `threshold`. */
  allBelow(now: number, seconds: number, threshold: number, maxGapMs = DEFAULT_MAX_SAMPLE_GAP_MS): boolean {
    return this.covers(now, seconds, maxGapMs) && this.samplesBetween(now - seconds * 1000, now).every((s) => s.v < threshold);
  }

  #index(i: number): number {
    return (this.#start + i) % this.maxSamples;
  }

  #at(i: number): Sample {
    const at = this.#index(i);
    return { t: this.#times[at] ?? 0, v: this.#values[at] ?? 0 };
  }
}

/**
 * Whether `samples` (sorted by time) cover the window `[now - seconds, now]`: some sample is at or
 * before the window's start (so the data reaches back the whole window, not just most of it), the
 * newest is within `maxGapMs` of now, and no two consecutive samples from there on are further apart.
 * Pass samples from `now - seconds - maxGapMs` on. The gap allowed never exceeds the window itself.
 */
export function coversWindow(samples: readonly Sample[], now: number, seconds: number, maxGapMs = DEFAULT_MAX_SAMPLE_GAP_MS): boolean {
  const start = now - seconds * 1000;
  const gap = Math.min(maxGapMs, seconds * 1000);
  let first = -1;
  for (let i = samples.length - 1; i >= 0; i--) {
    if ((samples[i]?.t ?? Infinity) <= start) {
      first = i;
      break;
    }
  }
  const last = samples[samples.length - 1];
  if (first < 0 || last === undefined || now - last.t > gap || start - (samples[first]?.t ?? -Infinity) > gap) return false;
  for (let i = first + 1; i < samples.length; i++) {
    if ((samples[i]?.t ?? 0) - (samples[i - 1]?.t ?? 0) > gap) return false;
  }
  return true;
}

/** The time covered so far (ms) by the newest unbroken run of samples ending near `now`; 0 if stale. */
export function coveredMs(samples: readonly Sample[], now: number, maxGapMs = DEFAULT_MAX_SAMPLE_GAP_MS): number {
  const last = samples[samples.length - 1];
  if (last === undefined || now - last.t > maxGapMs) return 0;
  let start = last.t;
  for (let i = samples.length - 2; i >= 0; i--) {
    const t = samples[i]?.t ?? 0;
    if (start - t > maxGapMs) break;
    start = t;
  }
  return now - start;
}
