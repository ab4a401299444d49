// Turns each configured metric's windows into the signals the decision combines: what it asks for
// now, whether its scale-out gate held for the window, what its panic window asks for, and what it
// asked for over time (for scale-in stabilization). Pure: reads the windows, never mutates them.

import type { ScalingPolicy } from '../../manifest/types.js';
import {
  DEFAULT_PANIC_THRESHOLD_PCT,
  DEFAULT_PANIC_WINDOW_SECONDS,
  DEFAULT_RECURRING_STABILIZATION_SECONDS,
  DEFAULT_SCALE_IN_THRESHOLD_PCT,
  DEFAULT_SCALE_OUT_THRESHOLD_PCT,
  DEFAULT_STABILIZATION_SECONDS,
  DEFAULT_WINDOW_SECONDS,
} from '../../manifest/scaling-defaults.js';
import { coversWindow, DEFAULT_MAX_SAMPLE_GAP_MS, type Sample, type SampleWindow } from './metric-window.js';
import { formulaReplicas, TOLERANCE } from './sizing.js';
import { combineHistories } from './stabilization.js';
import type { MetricReading, ReplicaSeries, ScalingInput } from './types.js';

export { DEFAULT_SCALE_IN_THRESHOLD_PCT, DEFAULT_SCALE_OUT_THRESHOLD_PCT, DEFAULT_WINDOW_SECONDS, formulaReplicas, TOLERANCE };

/** New replicas' CPU is ignored this long after they start: boot, JIT and cache warm-up are not load. */
export const CPU_WARMUP_MS = 30_000;
/** The "observed" value used for sizing is the mean of this most recent span, not one noisy sample. */
export const RECENT_SPAN_MS = 5_000;
/** A step sized from latency at most doubles the count (the HPA's default scale-up limit). */
export const MAX_LATENCY_STEP_FACTOR = 2;

/**
 * Recurrence is remembered over 4 recurring windows (20 min by default): long enough to see a dip
 * and a return of load that repeats every 10 minutes, plus the window the dip must outlast.
 */
export const RECURRENCE_MEMORY_FACTOR = 4;

export interface Thresholds {
  outPct: number;
  inPct: number;
  windowSeconds: number;
  windowMs: number;
  panicWindowMs: number;
  /** The panic threshold as a ratio (2 = 200 %). */
  panicRatio: number;
  stabilizationMs: number;
  recurringStabilizationMs: number;
  /** How far back a dip and a return of the load count as recurring (RECURRENCE_MEMORY_FACTOR x the recurring window). */
  recurrenceMemoryMs: number;
}

/** The policy's thresholds and windows: the manifest's, or the defaults for a policy built in code. */
export function resolveThresholds(policy: ScalingPolicy): Thresholds {
  const windowSeconds = policy.http?.windowSeconds ?? DEFAULT_WINDOW_SECONDS;
  const scaleIn = policy.behavior?.scaleIn;
  const panic = policy.behavior?.panic;
  const recurringStabilizationMs = (scaleIn?.recurringStabilizationSeconds ?? DEFAULT_RECURRING_STABILIZATION_SECONDS) * 1000;
  return {
    outPct: policy.http?.scaleOutThresholdPct ?? DEFAULT_SCALE_OUT_THRESHOLD_PCT,
    inPct: policy.http?.scaleInThresholdPct ?? DEFAULT_SCALE_IN_THRESHOLD_PCT,
    windowSeconds,
    windowMs: windowSeconds * 1000,
    panicWindowMs: (panic?.windowSeconds ?? DEFAULT_PANIC_WINDOW_SECONDS) * 1000,
    panicRatio: (panic?.thresholdPct ?? DEFAULT_PANIC_THRESHOLD_PCT) / 100,
    stabilizationMs: (scaleIn?.stabilizationSeconds ?? DEFAULT_STABILIZATION_SECONDS) * 1000,
    recurringStabilizationMs,
    recurrenceMemoryMs: RECURRENCE_MEMORY_FACTOR * recurringStabilizationMs,
  };
}

/** Whether a metric's data allows a scale in, and if not, why. */
export type DataState = 'ok' | 'missing' | 'partial' | 'warmup';

export interface MetricSignal {
  key: string;
  /** For reasons: "rps/replica 62.0 (target 50)". */
  label: string;
  /** load: sizes both ways; latency: scales out on breach, holds near the objective; guard (memory): scale out only. */
  role: 'load' | 'latency' | 'guard';
  reading: MetricReading;
  /** What the metric asks for now (rate metrics: ceil(load / target)); null without data. */
  wants: number | null;
  /** The scale-out gate: the window is full and every sample in it is past the scale-out line. */
  outGate: boolean;
  /** How long the newest run of samples has stayed past the scale-out line (ms), for "window" holds. */
  aboveForMs: number;
  /** The count asked for once the gate holds (or in panic); `current` when within tolerance. */
  outReplicas: number;
  /** The fast path: what the panic window asks for and whether that crosses the panic threshold. */
  panic: PanicAsk | null;
  /** Latency only: why a breach does not size a scale out now (the queue drains, or the count is not measured yet). */
  outBlocked?: string;
  /** What the metric asked for over time, for stabilization (empty for guards). */
  history: Sample[];
  /** Latency only: a count scale in must stay above, and why (see latencyFloor). */
  floor?: { replicas: number; why: string };
  data: DataState;
}

export interface PanicAsk {
  replicas: number;
  crossed: boolean;
  /** Rates only: requests queued beyond what the objective allows, which the ask also drains (see queuedBeyondObjective). */
  queued?: number;
}

interface Context {
  input: ScalingInput;
  th: Thresholds;
  /** The oldest time any rule reads (history for recurrence, plus one sample before it). */
  lookbackMs: number;
}

export function evaluateMetrics(input: ScalingInput, th: Thresholds): MetricSignal[] {
  const ctx: Context = { input, th, lookbackMs: input.now - Math.max(th.recurrenceMemoryMs, th.windowMs) - DEFAULT_MAX_SAMPLE_GAP_MS };
  const { policy } = input.policy;
  const out: MetricSignal[] = [];
  const http = policy.http;
  if (http?.targetRPSPerReplica !== undefined) {
    out.push(evaluateRate(ctx, 'rpsPerReplica', 'rps/replica', input.windows.rps, http.targetRPSPerReplica, http.maxP95LatencyMs));
  }
  if (policy.connections) {
    out.push(evaluateRate(ctx, 'connectionsPerReplica', 'connections/replica', input.windows.concurrency, policy.connections.targetPerReplica));
  }
  if (policy.cpu) {
    out.push(evaluateUtilization(ctx, 'cpuPct', 'cpu %', 'load', input.windows.cpu, policy.cpu.targetUtilizationPct, input.cpuWarmupMs ?? CPU_WARMUP_MS));
  }
  if (http?.maxP95LatencyMs !== undefined) {
    out.push(evaluateLatency(ctx, http.maxP95LatencyMs, out, combineHistories(out.map((s) => s.history))));
  }
  if (policy.memory) {
    out.push(evaluateUtilization(ctx, 'memoryPct', 'memory %', 'guard', input.windows.memory, policy.memory.targetUtilizationPct, 0));
  }
  return out;
}

// ---- app totals divided per replica (rps, connections) -------------------------------------------

/**
 * `objectiveMs` (request rates with a latency objective): the panic path also drains the requests
 * queued beyond what the objective allows (queuedBeyondObjective) within one panic window.
 */
function evaluateRate(ctx: Context, key: string, label: string, window: SampleWindow | undefined, target: number, objectiveMs?: number): MetricSignal {
  const { input, th } = ctx;
  const current = Math.max(input.current, 1);
  const read = window?.samplesBetween(ctx.lookbackMs, input.now) ?? [];
  // Request metrics arrive late (the complete seconds of a buffered access log, 2-4 s behind). A
  // window of a few seconds ending now would hold no sample and never open its gate, so the window
  // ends at most half its length after the newest fresh sample: at least half of it holds data.
  // Windows longer than twice the lag (the default 20 s) end now, as they always did.
  const newest = read[read.length - 1];
  const end = newest !== undefined && input.now - newest.t <= DEFAULT_MAX_SAMPLE_GAP_MS ? Math.min(input.now, newest.t + th.windowMs / 2) : input.now;
  const inWindow = read.filter((s) => s.t >= end - th.windowMs);
  const recentTotal = recentMean(read, input.now);
  const value = recentTotal === null ? null : recentTotal / current;
  const outLine = (target * th.outPct) / 100;
  const perReplica = inWindow.map((s) => ({ t: s.t, v: s.v / current }));
  const full = coversWindow(read.filter((s) => s.t >= end - th.windowMs - DEFAULT_MAX_SAMPLE_GAP_MS), end, th.windowSeconds);
  const rate = panicLoad(read, input.now, th.panicWindowMs, true);
  const queued = rate === null || objectiveMs === undefined ? 0 : queuedBeyondObjective(input.windows.concurrency, read, input.now, objectiveMs);
  const panicDemand = rate === null ? null : rate + queued / (th.panicWindowMs / 1000);
  return {
    key,
    label: `${label} ${fmt(value)} (target ${fmt(target)})`,
    role: 'load',
    reading: { value, target },
    wants: recentTotal === null ? null : formulaReplicas(recentTotal, target),
    outGate: full && perReplica.every((s) => s.v > outLine),
    aboveForMs: aboveForMs(perReplica, end, outLine),
    outReplicas: sizeOut(recentTotal ?? 0, target, input.current),
    panic: panicDemand === null ? null : { ...panicOf(panicDemand, target, input, th), ...(queued > 0 ? { queued } : {}) },
    history: trailingMeans(read, RECENT_SPAN_MS).map((s) => ({ t: s.t, v: formulaReplicas(s.v, target) })),
    data: dataState(read, input.now, th),
  };
}

/** The formula's count when it is above current (the load is past the target by more than the tolerance), else current. */
function sizeOut(load: number, target: number, current: number): number {
  return Math.max(current, formulaReplicas(load, target));
}

// ---- per-replica utilization (cpu, memory) ---------------------------------------------------------

interface UtilizationPoint extends Sample {
  /** Replicas that contributed to this point (warmed up, with a fresh sample). */
  n: number;
}

/**
 * The app's utilization series: at each sample time, the mean of every replica's latest sample
 * (carried forward at most DEFAULT_MAX_SAMPLE_GAP_MS), ignoring samples a replica took during its
 * first `warmupMs`. `n` counts the replicas behind each point.
 */
export function aggregateUtilization(replicas: readonly ReplicaSeries[], fromMs: number, toMs: number, warmupMs: number): UtilizationPoint[] {
  const series = replicas.map((r) => r.samples.samplesBetween(Math.max(fromMs - DEFAULT_MAX_SAMPLE_GAP_MS, r.startedAtMs + warmupMs), toMs));
  const times = [...new Set(series.flatMap((s) => s.filter((x) => x.t >= fromMs).map((x) => x.t)))].sort((a, b) => a - b);
  const cursors = series.map(() => -1);
  const points: UtilizationPoint[] = [];
  for (const t of times) {
    let sum = 0;
    let n = 0;
    series.forEach((s, i) => {
      let c = cursors[i] ?? -1;
      while (c + 1 < s.length && (s[c + 1]?.t ?? Infinity) <= t) c++;
      cursors[i] = c;
      const sample = s[c];
      if (sample !== undefined && t - sample.t <= DEFAULT_MAX_SAMPLE_GAP_MS) {
        sum += sample.v;
        n++;
      }
    });
    if (n > 0) points.push({ t, v: sum / n, n });
  }
  return points;
}

function evaluateUtilization(
  ctx: Context,
  key: string,
  label: string,
  role: 'load' | 'guard',
  replicas: readonly ReplicaSeries[] | undefined,
  targetPct: number,
  warmupMs: number,
): MetricSignal {
  const { input, th } = ctx;
  const points = aggregateUtilization(replicas ?? [], ctx.lookbackMs, input.now, warmupMs);
  const inWindow = points.filter((p) => p.t >= input.now - th.windowMs);
  const recentPct = recentMean(points.map((p) => ({ t: p.t, v: p.v * 100 })), input.now);
  // Sizing counts replicas without a warmed-up sample as idle (as the HPA does): right after a
  // scale out the old replicas are still hot and would otherwise ask for the same step again.
  // `load` is utilization x contributing replicas, in percent: busy "replica-percent".
  const loads = points.map((p) => ({ t: p.t, v: p.v * p.n * 100 }));
  const recentLoad = recentMean(loads, input.now);
  const full = coversWindow(points.filter((p) => p.t >= input.now - th.windowMs - DEFAULT_MAX_SAMPLE_GAP_MS), input.now, th.windowSeconds);
  const outLine = (targetPct * th.outPct) / 100;
  const pct = inWindow.map((p) => ({ t: p.t, v: p.v * 100 }));
  const panicUtilization = panicLoad(loads, input.now, th.panicWindowMs);
  let data = dataState(points, input.now, th);
  if (data === 'ok' && points.some((p) => p.t >= input.now - th.stabilizationMs && p.n < input.current)) {
    const warming = (replicas ?? []).some((r) => r.startedAtMs + warmupMs > input.now - th.stabilizationMs);
    data = warming ? 'warmup' : 'partial';
  }
  return {
    key,
    label: `${label} ${fmt(recentPct)} (target ${targetPct})`,
    role,
    reading: { value: recentPct, target: targetPct },
    wants: recentLoad === null ? null : formulaReplicas(recentLoad, targetPct),
    outGate: full && pct.every((p) => p.v > outLine),
    aboveForMs: aboveForMs(pct, input.now, outLine),
    outReplicas: sizeOut(recentLoad ?? 0, targetPct, input.current),
    panic: role === 'guard' || panicUtilization === null ? null : panicOf(panicUtilization, targetPct, input, th),
    history: role === 'guard' ? [] : trailingMeans(loads, RECENT_SPAN_MS).map((s) => ({ t: s.t, v: formulaReplicas(s.v, targetPct) })),
    data,
  };
}

// ---- latency ---------------------------------------------------------------------------------------

/**
 * Latency describes the replicas that served the requests, so only samples taken while every
 * replica of the current count was ready count for a scale out. As a sizing signal it uses
 * Little's law: in-flight = rate x mean latency. A replica count n holding `inFlight` requests at
 * the current rate would hold them at the objective with n x meanLatency / objective replicas;
 * the step is at least one replica and at most doubles the count (an overload's queue inflates the
 * latency without bound). Beside a load metric it never sizes a scale in, but a recent p95 near
 * the objective holds the count the app runs (its history asks for that count).
 *
 * A p95 near or over the objective asks for something in the history (what scale in is stabilized
 * on: the count it ran at, or the step) only when it was the count's own: not while the count was
 * changing (the latency describes another count), not while the load asked for more than ran (the
 * load's history asks for that), and not while the queue drained (a surge's backlog that the count
 * already outruns, see queuedBeyondObjective). Those samples ask for nothing beside a load metric
 * (alone, they hold the count), so a surge's backlog does not hold replicas for a stabilization
 * window after it has drained, nor for the recurring window while its p95 passes the objective.
 */
function evaluateLatency(ctx: Context, maxMs: number, others: readonly MetricSignal[], loadHistory: readonly Sample[]): MetricSignal {
  const { input, th } = ctx;
  const only = others.length === 0;
  const windows = input.windows;
  const read = windows.p95LatencyMs?.samplesBetween(ctx.lookbackMs, input.now) ?? [];
  const readyAt = readyCountAt(windows.readyReplicas, input);
  const settled = read.filter((s) => readyAt(s.t) >= input.current && input.starting === 0);
  const recent = recentMean(read, input.now);
  const meanLatency = meanLatencyAt(windows.rps, windows.concurrency, ctx.lookbackMs, input.now);
  const step = (n: number, t: number, p95: number) => {
    const mean = meanLatency(t) ?? p95;
    return Math.min(Math.ceil(n * MAX_LATENCY_STEP_FACTOR), Math.max(n + 1, Math.ceil((n * mean) / maxMs - 1e-9)));
  };
  const nearLine = (maxMs * Math.min(th.outPct, 100)) / 100;
  const inLine = (maxMs * th.inPct) / 100;
  const inFlightMeans = trailingMeans(windows.concurrency?.samplesBetween(ctx.lookbackMs, input.now) ?? [], RECENT_SPAN_MS);
  const drainingAt = (t: number) => (latestAt(inFlightMeans, t)?.v ?? 0) < (latestAt(inFlightMeans, t - RECENT_SPAN_MS)?.v ?? 0);
  // The load's asks are trailing means: a load that rose at t shows in them over the next RECENT_SPAN_MS.
  const loadAskedMore = (t: number, n: number) => loadHistory.some((s) => s.t >= t && s.t <= t + RECENT_SPAN_MS && s.v > n);
  const ownBreach = (t: number, n: number) => readyAt(t - RECENT_SPAN_MS) === readyAt(t) && !loadAskedMore(t, n) && !drainingAt(t);
  const askAt = (s: Sample): number => {
    const n = Math.max(1, readyAt(s.t));
    if (s.v >= nearLine && !ownBreach(s.t, n)) return only ? n : 0;
    if (s.v > maxMs) return step(n, s.t, s.v);
    if (!only) return s.v >= nearLine ? n : 0;
    return s.v < inLine ? n - 1 : n; // as the only metric: one replica at a time
  };
  const lastOwn = read.findLast((s) => s.v > maxMs && ownBreach(s.t, Math.max(1, readyAt(s.t))));
  const floor = lastOwn === undefined ? undefined : latencyFloor(lastOwn, Math.max(1, readyAt(lastOwn.t)), read, meanLatency, input.now, th);
  const full = coversWindow(settled.filter((s) => s.t >= input.now - th.windowMs - DEFAULT_MAX_SAMPLE_GAP_MS), input.now, th.windowSeconds);
  const settledInWindow = settled.filter((s) => s.t >= input.now - th.windowMs);
  const settledRecent = recentMean(settled, input.now);
  const current = Math.max(input.current, 1);
  // A queue that drains (fewer requests in flight than a moment ago) already has the capacity it
  // needs: its latency comes down on its own, so it asks for no more replicas. Latency panics only
  // while the queue keeps growing over the panic window: a burst's queue that drains is no emergency.
  const inFlight = windows.concurrency?.samplesBetween(input.now - Math.max(2 * RECENT_SPAN_MS, th.panicWindowMs), input.now) ?? [];
  const draining = trend(inFlight, input.now, RECENT_SPAN_MS) < 0;
  const growing = windows.concurrency === undefined || trend(inFlight, input.now, th.panicWindowMs / 2) > 0;
  // A relative step compounds, so it needs a whole panic window measured at the current count.
  const panicCovered = coversWindow(settled.filter((s) => s.t >= input.now - th.panicWindowMs - DEFAULT_MAX_SAMPLE_GAP_MS), input.now, th.panicWindowMs / 1000);
  const panicMean = draining || !growing || !panicCovered ? null : panicWindowMean(settled, input.now, th.panicWindowMs);
  return {
    key: 'p95LatencyMs',
    label: `p95 ${fmt(recent)} ms (max ${fmt(maxMs)})`,
    role: 'latency',
    reading: { value: recent, target: maxMs },
    wants: recent === null ? null : recent > maxMs ? step(current, input.now, recent) : null,
    outGate: !draining && full && settledInWindow.every((s) => s.v > maxMs),
    aboveForMs: aboveForMs(read.filter((s) => s.t >= input.now - th.windowMs), input.now, maxMs),
    outReplicas: settledRecent === null ? input.current : step(current, input.now, settledRecent),
    panic: panicMean === null ? null : { replicas: step(current, input.now, panicMean), crossed: panicMean >= th.panicRatio * maxMs },
    ...(draining ? { outBlocked: 'the queue drains' } : !full ? { outBlocked: 'not measured at the current count for a whole window yet' } : {}),
    history: read.map((s) => ({ t: s.t, v: askAt(s) })),
    ...(floor ? { floor } : {}),
    data: only ? dataState(read, input.now, th) : 'ok',
  };
}

/**
 * Latency's memory: a count whose own breach of the objective was seen (the load did not ask for
 * more, the count was settled, the queue was not draining) is too few for requests that slow, so
 * scale in stays above it for as long as the requests are no faster: while the mean latency by
 * Little's law is within 2 x the tolerance of the lowest it was in the stabilization window after the
 * breach (the requests' own time once the step landed, without the queue). Requests that became
 * faster end it; so does the recurrence memory.
 */
function latencyFloor(
  breach: Sample,
  breachedAt: number,
  read: readonly Sample[],
  meanLatency: (t: number) => number | undefined,
  now: number,
  th: Thresholds,
): { replicas: number; why: string } | undefined {
  const after = read
    .filter((s) => s.t > breach.t && s.t <= breach.t + th.stabilizationMs)
    .map((s) => meanLatency(s.t))
    .filter((w): w is number => w !== undefined);
  const slowest = after.length === 0 ? undefined : Math.min(...after);
  const latest = meanLatency(now);
  if (slowest === undefined || latest === undefined || latest < slowest * (1 - 2 * TOLERANCE)) return undefined;
  return {
    replicas: breachedAt + 1,
    why: `p95 ${fmt(breach.v)} ms breached the objective at ${breachedAt} replica(s) ${seconds(now - breach.t)} s ago and requests are no faster now (mean ${fmt(Math.round(latest))} ms, ${fmt(Math.round(slowest))} ms after the breach)`,
  };
}

/** The ready count at time t: from the readyReplicas series when collected, else the current ready count. */
function readyCountAt(series: SampleWindow | undefined, input: ScalingInput): (t: number) => number {
  const samples = series?.samplesBetween(-Infinity, input.now) ?? [];
  if (samples.length === 0) {
    const after = input.lastScaleAtMs;
    // Without a series: samples from before the last change describe another count.
    return (t) => (after !== undefined && t <= after ? -1 : input.ready);
  }
  return (t) => latestAt(samples, t)?.v ?? -1;
}

/** Mean latency (ms) at time t by Little's law (in flight / rate), from both series' recent means. */
function meanLatencyAt(rps: SampleWindow | undefined, concurrency: SampleWindow | undefined, fromMs: number, now: number): (t: number) => number | undefined {
  const rate = trailingMeans(rps?.samplesBetween(fromMs, now) ?? [], RECENT_SPAN_MS);
  const inFlight = trailingMeans(concurrency?.samplesBetween(fromMs, now) ?? [], RECENT_SPAN_MS);
  return (t) => {
    const r = latestAt(rate, t);
    const c = latestAt(inFlight, t);
    if (r === undefined || c === undefined || r.v <= 0 || t - r.t > DEFAULT_MAX_SAMPLE_GAP_MS || t - c.t > DEFAULT_MAX_SAMPLE_GAP_MS) return undefined;
    return (c.v / r.v) * 1000;
  };
}

/** The newest sample at or before t (binary search; samples sorted by time). */
function latestAt(samples: readonly Sample[], t: number): Sample | undefined {
  let lo = 0;
  let hi = samples.length - 1;
  let found: Sample | undefined;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const s = samples[mid] as Sample;
    if (s.t <= t) {
      found = s;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

// ---- helpers ---------------------------------------------------------------------------------------

/** The mean of the last `spanMs` minus the mean of the span before it (0 when either is empty). */
function trend(samples: readonly Sample[], now: number, spanMs: number): number {
  const newer = samples.filter((s) => s.t > now - spanMs);
  const older = samples.filter((s) => s.t <= now - spanMs && s.t > now - 2 * spanMs);
  if (newer.length === 0 || older.length === 0) return 0;
  const mean = (xs: readonly Sample[]) => xs.reduce((a, s) => a + s.v, 0) / xs.length;
  return mean(newer) - mean(older);
}

/**
 * Knative's panic rule: panic when the panic window's load, at the target, asks for at least
 * panicRatio x the ready replicas. The count it scales to is the one formula's (with the
 * tolerance), so a count reached in panic is one the stable path keeps (no panic, scale in, panic
 * again).
 */
function panicOf(load: number, target: number, input: ScalingInput, th: Thresholds): { replicas: number; crossed: boolean } {
  const atTarget = Math.ceil(load / target - 1e-9);
  return { replicas: formulaReplicas(load, target), crossed: atTarget >= th.panicRatio * Math.max(input.ready, 1) };
}

/**
 * What the panic path reads: the panic window's mean, or the newest sample when it is higher. A
 * step shows whole in the newest sample while the window's mean dilutes it for a whole window (a
 * 4x step reads as 1.6x one tick in); the threshold (200 % of the ready replicas) keeps noise out,
 * and a panic only ever adds replicas. Null without a fresh sample.
 *
 * `counted` samples (requests a second) carry their own noise: arrivals from independent clients
 * are Poisson, so a one-second sample of a steady rate r varies by sqrt(r). At 14 requests/s one
 * second in 75 reads 23 or more, which is 200 % of one replica with a target of 20. Such a newest
 * sample counts only when it stands above the mean by more than two of its deviations; a real step
 * (say 14 -> 56) clears that in its first second, a lucky second does not.
 */
function panicLoad(samples: readonly Sample[], now: number, windowMs: number, counted = false): number | null {
  const recent = samples.filter((s) => s.t > now - windowMs);
  const newest = recent[recent.length - 1];
  if (newest === undefined || now - newest.t > DEFAULT_MAX_SAMPLE_GAP_MS) return null;
  const mean = recent.reduce((sum, s) => sum + s.v, 0) / recent.length;
  if (!counted) return Math.max(newest.v, mean);
  const previous = recent[recent.length - 2];
  const seconds = previous === undefined ? 1 : Math.min(Math.max((newest.t - previous.t) / 1000, 1), DEFAULT_MAX_SAMPLE_GAP_MS / 1000);
  const noise = Math.sqrt(Math.max(newest.v, 0) / seconds);
  return newest.v - 2 * noise > mean ? newest.v : mean;
}

/** A backlog counts once it shows in this many consecutive seconds of the access log. */
export const QUEUE_PERSIST_SAMPLES = 3;

/**
 * Requests in flight beyond what the request rate holds at the objective (Little's law:
 * rate x objective): a backlog the replicas did not keep up with. Its requests wait whatever count
 * serves the arrivals; only capacity beyond the arrivals drains them, so the panic path sizes for
 * the arrivals plus this backlog drained within one panic window.
 *
 * The log counts a request's wait in the second it ends, so a stall of a second or two (a pause on
 * a busy host) shows as one second of many long requests, after the queue is already gone. Only a
 * backlog seen in each of the last QUEUE_PERSIST_SAMPLES seconds counts, and the smallest of them:
 * a queue that keeps being there. 0 without that many fresh samples of both.
 */
export function queuedBeyondObjective(inFlight: SampleWindow | undefined, rates: readonly Sample[], now: number, objectiveMs: number): number {
  const since = now - DEFAULT_MAX_SAMPLE_GAP_MS - (QUEUE_PERSIST_SAMPLES - 1) * 1000;
  const queues = (inFlight?.samplesBetween(since, now) ?? []).slice(-QUEUE_PERSIST_SAMPLES);
  const newest = queues[queues.length - 1];
  if (queues.length < QUEUE_PERSIST_SAMPLES || newest === undefined || now - newest.t > DEFAULT_MAX_SAMPLE_GAP_MS) return 0;
  const rateAt = new Map(rates.filter((r) => r.t >= since).map((r) => [r.t, r.v]));
  let backlog = Infinity;
  for (const q of queues) {
    const rate = rateAt.get(q.t);
    if (rate === undefined) return 0;
    backlog = Math.min(backlog, q.v - (rate * objectiveMs) / 1000);
  }
  return Math.max(0, backlog);
}

/** The mean over the panic window, once it holds two samples and the newest is fresh; else null. */
function panicWindowMean(samples: readonly Sample[], now: number, windowMs: number): number | null {
  const recent = samples.filter((s) => s.t > now - windowMs);
  const newest = recent[recent.length - 1];
  if (recent.length < 2 || newest === undefined || now - newest.t > DEFAULT_MAX_SAMPLE_GAP_MS) return null;
  return recent.reduce((sum, s) => sum + s.v, 0) / recent.length;
}

/** Missing: nothing fresh; partial: the data does not cover the stabilization window; else ok. */
function dataState(samples: readonly Sample[], now: number, th: Thresholds): DataState {
  const newest = samples[samples.length - 1];
  if (newest === undefined || now - newest.t > DEFAULT_MAX_SAMPLE_GAP_MS) return 'missing';
  const spanSeconds = Math.max(th.windowMs, th.stabilizationMs) / 1000;
  return coversWindow(samples.filter((s) => s.t >= now - spanSeconds * 1000 - DEFAULT_MAX_SAMPLE_GAP_MS), now, spanSeconds) ? 'ok' : 'partial';
}

/** Each sample replaced by the mean of the samples in (t - spanMs, t]. */
function trailingMeans(samples: readonly Sample[], spanMs: number): Sample[] {
  const out: Sample[] = [];
  let start = 0;
  let sum = 0;
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i] as Sample;
    sum += s.v;
    while ((samples[start]?.t ?? Infinity) <= s.t - spanMs) sum -= (samples[start++] as Sample).v;
    out.push({ t: s.t, v: sum / (i - start + 1) });
  }
  return out;
}

function recentMean(samples: readonly Sample[], now: number): number | null {
  const recent = samples.filter((s) => s.t > now - RECENT_SPAN_MS && s.t <= now);
  const used = recent.length > 0 ? recent : samples.slice(-1);
  if (used.length === 0) return null;
  return used.reduce((sum, s) => sum + s.v, 0) / used.length;
}

function aboveForMs(samples: readonly Sample[], now: number, line: number): number {
  let start: number | undefined;
  for (let i = samples.length - 1; i >= 0; i--) {
    const s = samples[i];
    if (s === undefined || s.v <= line) break;
    start = s.t;
  }
  return start === undefined ? 0 : now - start;
}

function seconds(ms: number): string {
  return fmt(Math.round(ms / 1000));
}

export function fmt(value: number | null): string {
  if (value === null) return 'n/a';
  return Number.isInteger(value) ? String(value) : value.toFixed(1);
}
