// The metric history the dashboard's charts, `autoserve top` and the history endpoint read: per app
// a fixed-size ring of samples, one every HISTORY_INTERVAL_MS. Memory is fixed per app whatever the
// traffic: 720 slots x (8 float32 columns + a float64 time) = ~29 KiB, so 100 apps hold ~2.9 MiB.
//
// Why 5 s x 720 (one hour): the charts span an hour and are ~700 px wide, so 5 s is about one
// point per pixel; it is finer than the autoscaler's shortest useful window (20 s), so a scaling
// decision is visible against the load that caused it; and sampling 100 apps every 5 s costs the
// controller well under 1 % of a core (bench/dashboard.bench.ts).

export const HISTORY_INTERVAL_MS = 5_000;
export const HISTORY_POINTS = 720;

/** The columns of a sample. Each is null where it was not measured (no traffic, no replica). */
export const HISTORY_FIELDS = ['rps', 'p95Ms', 'cpu', 'cpuCores', 'memory', 'memoryBytes', 'desired', 'ready'] as const;
export type HistoryField = (typeof HISTORY_FIELDS)[number];

/**
 * One sample of one app:
 * - rps: requests per second over the interval (as nginx logged them);
 * - p95Ms: 95th percentile upstream time over the interval, ms;
 * - cpu, memory: mean over running replicas of the share of each one's limit in use (0..1);
 * - cpuCores, memoryBytes: the app's total (sum over replicas) in cores and bytes;
 * - desired, ready: the replica counts of the app's status.
 */
export type HistorySample = { t: number } & Record<HistoryField, number | null>;

/** Columns in the shape uPlot draws (one array per field, aligned with `t`), oldest first. */
export type HistoryColumns = { t: number[] } & Partial<Record<HistoryField, (number | null)[]>>;

export function isHistoryField(name: string): name is HistoryField {
  return (HISTORY_FIELDS as readonly string[]).includes(name);
}

function emptyColumns(fields: readonly HistoryField[]): HistoryColumns {
  const out: HistoryColumns = { t: [] };
  for (const field of fields) out[field] = [];
  return out;
}

/** A ring of samples of one app. NaN marks "not measured" in the typed arrays. */
export class HistoryRing {
  private readonly times: Float64Array;
  private readonly columns: Record<HistoryField, Float32Array>;
  private start = 0;
  private length = 0;

  constructor(readonly capacity = HISTORY_POINTS) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
    this.times = new Float64Array(capacity);
    this.columns = Object.fromEntries(HISTORY_FIELDS.map((f) => [f, new Float32Array(capacity)])) as Record<HistoryField, Float32Array>;
  }

  get size(): number {
    return this.length;
  }

  /**
   * Appends a sample. Samples arrive in time order: one not newer than the newest is dropped (a
   * clock stepped back must not reorder the chart). When full, the oldest is overwritten.
   */
  add(sample: HistorySample): void {
    if (!Number.isFinite(sample.t)) return;
    if (this.length > 0 && sample.t <= this.times[this.index(this.length - 1)]!) return;
    let slot: number;
    if (this.length < this.capacity) {
      slot = this.index(this.length);
      this.length++;
    } else {
      slot = this.start;
      this.start = (this.start + 1) % this.capacity;
    }
    this.times[slot] = sample.t;
    for (const field of HISTORY_FIELDS) {
      const value = sample[field];
      this.columns[field][slot] = value === null || !Number.isFinite(value) ? Number.NaN : value;
    }
  }

  /** The samples with t >= sinceMs, as columns of the named fields (all when omitted). */
  read(sinceMs = -Infinity, fields: readonly HistoryField[] = HISTORY_FIELDS): HistoryColumns {
    const first = this.firstAtOrAfter(sinceMs);
    const out = emptyColumns(fields);
    for (let i = first; i < this.length; i++) {
      const slot = this.index(i);
      out.t.push(this.times[slot]!);
      for (const field of fields) {
        const v = this.columns[field][slot]!;
        out[field]!.push(Number.isNaN(v) ? null : v);
      }
    }
    return out;
  }

  /** The newest sample, or undefined when empty. */
  latest(): HistorySample | undefined {
    if (this.length === 0) return undefined;
    const slot = this.index(this.length - 1);
    const sample = { t: this.times[slot]! } as HistorySample;
    for (const field of HISTORY_FIELDS) {
      const v = this.columns[field][slot]!;
      sample[field] = Number.isNaN(v) ? null : v;
    }
    return sample;
  }

  /** Bytes held (constant for the ring's life). */
  byteLength(): number {
    return this.times.byteLength + HISTORY_FIELDS.reduce((n, f) => n + this.columns[f].byteLength, 0);
  }

  private index(i: number): number {
    return (this.start + i) % this.capacity;
  }

  /** Binary search over the time-ordered ring: the logical index of the first sample at or after t. */
  private firstAtOrAfter(t: number): number {
    let lo = 0;
    let hi = this.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.times[this.index(mid)]! < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/** One ring per app; an app's ring goes when the app does. */
export class MetricHistory {
  private readonly rings = new Map<string, HistoryRing>();
  private newest = 0;

  constructor(
    readonly intervalMs = HISTORY_INTERVAL_MS,
    readonly capacity = HISTORY_POINTS,
  ) {}

  record(app: string, sample: HistorySample): void {
    let ring = this.rings.get(app);
    if (!ring) this.rings.set(app, (ring = new HistoryRing(this.capacity)));
    ring.add(sample);
    if (sample.t > this.newest) this.newest = sample.t;
  }

  /** Time of the newest sample of any app (0 before the first): a cheap "has anything new arrived". */
  get lastRecordedAt(): number {
    return this.newest;
  }

  /** Drops the rings of apps not in `keep`. */
  retain(keep: ReadonlySet<string>): void {
    for (const app of this.rings.keys()) if (!keep.has(app)) this.rings.delete(app);
  }

  apps(): string[] {
    return [...this.rings.keys()].sort();
  }

  /** An app's columns since `sinceMs`; empty columns for an app without samples. */
  read(app: string, sinceMs?: number, fields: readonly HistoryField[] = HISTORY_FIELDS): HistoryColumns {
    return this.rings.get(app)?.read(sinceMs, fields) ?? emptyColumns(fields);
  }

  latest(app: string): HistorySample | undefined {
    return this.rings.get(app)?.latest();
  }

  byteLength(): number {
    let n = 0;
    for (const ring of this.rings.values()) n += ring.byteLength();
    return n;
  }
}
