// Turns each configured metric's window into a verdict the decision can combine: does it ask for a
// scale out (and to how many), does it allow a scale in (and to how many), or what is missing.
// Pure: reads the windows, never prunes or mutates them.

import type { ScalingPolicy } from '../../manifest/types.js';
import { coversWindow, DEFAULT_MAX_SAMPLE_GAP_MS, type Sample, type SampleWindow } from './metric-window.js';
import type { MetricReading, ReplicaSeries, ScalingInput } from './types.js';

/** New replicas' CPU is ignored this long after they start: boot, JIT and cache warm-up are not load. */
export const CPU_WARMUP_MS = 30_000;
/** Thresholds and window for cpu/memory/connections when the policy has no `http` block (the schema's http defaults). */
export const DEFAULT_SCALE_OUT_THRESHOLD_PCT = 80;
export const DEFAULT_SCALE_IN_THRESHOLD_PCT = 30;
export const DEFAULT_WINDOW_SECONDS = 20;
/** The "observed" value used for sizing is the mean of this most recent span, not one noisy sample. */
export const RECENT_SPAN_MS = 5_000;
/** A latency breach adds replicas in proportion to the breach, at most this many times current (1 = doubling). */
export const MAX_LATENCY_STEP_FACTOR = 1;

export interface Thresholds {
  outPct: number;
  inPct: number;
  windowSeconds: number;
  windowMs: number;
}

/** The policy's thresholds: http's when set, else the schema's defaults. They apply to every metric. */
export function resolveThresholds(policy: ScalingPolicy): Thresholds {
  const windowSeconds = policy.http?.windowSeconds ?? DEFAULT_WINDOW_SECONDS;
  return {
    outPct: policy.http?.scaleOutThresholdPct ?? DEFAULT_SCALE_OUT_THRESHOLD_PCT,
    inPct: policy.http?.scaleInThresholdPct ?? DEFAULT_SCALE_IN_THRESHOLD_PCT,
    windowSeconds,
    windowMs: windowSeconds * 1000,
  };
}

/** Whether a metric allows a scale in, and if not, why. */
export type InState = 'below' | 'not-below' | 'filling' | 'missing' | 'warmup';

export interface MetricEvaluation {
  key: string;
  /** For reasons: "rps/replica 62.0 (target 50)". */
  label: string;
  /** load: may scale out and in; latency: scales out on breach; guard (memory): scale out only. */
  role: 'load' | 'latency' | 'guard';
  reading: MetricReading;
  /** Window full and every sample above the scale-out threshold (for latency: above the limit). */
  triggersOut: boolean;
  /** Replicas asked for when `triggersOut`. */
  outReplicas: number;
  inState: InState;
  /** Replicas the metric can live with when `inState` is "below". */
  inReplicas: number;
  /** ceil(current x observed / target), for the recommendation; null without data. */
  plain: number | null;
  /** Latency only: a sample in the window is near the limit, so no scale in. */
  vetoesIn: boolean;
  /** How long the newest run of samples has stayed above the scale-out threshold (ms), for "window" holds. */
  aboveForMs: number;
}

interface Context {
  input: ScalingInput;
  th: Thresholds;
  /** The window's start. */
  fromMs: number;
  /** Where to read from so coverage can see the sample just before the window. */
  lookbackMs: number;
}

export function evaluateMetrics(input: ScalingInput, th: Thresholds): MetricEvaluation[] {
  const ctx: Context = { input, th, fromMs: input.now - th.windowMs, lookbackMs: input.now - th.windowMs - DEFAULT_MAX_SAMPLE_GAP_MS };
  const { policy } = input.policy;
  const out: MetricEvaluation[] = [];
  const http = policy.http;
  if (http?.targetRPSPerReplica !== undefined) {
    out.push(evaluateTotal(ctx, 'rpsPerReplica', 'rps/replica', input.windows.rps, http.targetRPSPerReplica));
  }
  if (policy.connections) {
    out.push(evaluateTotal(ctx, 'connectionsPerReplica', 'connections/replica', input.windows.concurrency, policy.connections.targetPerReplica));
  }
  if (policy.cpu) {
    const warmupMs = input.cpuWarmupMs ?? CPU_WARMUP_MS;
    out.push(evaluateUtilization(ctx, 'cpuPct', 'cpu %', 'load', input.windows.cpu, policy.cpu.targetUtilizationPct, warmupMs));
  }
  if (http?.maxP95LatencyMs !== undefined) {
    out.push(evaluateLatency(ctx, input.windows.p95LatencyMs, http.maxP95LatencyMs, out.length === 0));
  }
  if (policy.memory) {
    out.push(evaluateUtilization(ctx, 'memoryPct', 'memory %', 'guard', input.windows.memory, policy.memory.targetUtilizationPct, 0));
  }
  return out;
}

/**
 * The formula: ceil(current x observed / target). `load` is current x observed (the app
 * total for rps/connections, utilization x replicas for cpu/memory), so this is ceil(load / target).
 * A tiny epsilon keeps float noise (e.g. 4 x 0.6 x 100 / 60) from adding a replica.
 */
export function formulaReplicas(load: number, target: number): number {
  return Math.max(0, Math.ceil(load / target - 1e-9));
}

/**
 * Scale out once the gate (every sample above outPct % of target for a full window) has held:
 * the formula gives the size, and a held gate adds at least one replica, because with an 80 % gate
 * a load between 80 % and 100 % of target gives ceil(...) == current.
 */
function outReplicas(current: number, load: number, target: number): number {
  return Math.max(current + 1, formulaReplicas(load, target));
}

/**
 * Scale in (the gate: every sample below inPct % of target for a full window) to the formula applied
 * to the window's highest sample, but never below the count at which that load would re-cross the
 * scale-out gate (hysteresis guard: ceil(load / (target x outPct %))), so a scale in cannot flap.
 */
function inReplicas(maxLoad: number, target: number, th: Thresholds): number {
  return Math.max(formulaReplicas(maxLoad, target), formulaReplicas(maxLoad, (target * th.outPct) / 100));
}

// ---- app totals divided per replica (rps, connections) -----------------------------------------

function evaluateTotal(ctx: Context, key: string, label: string, window: SampleWindow | undefined, target: number): MetricEvaluation {
  const { input, th } = ctx;
  const current = input.current;
  const read = window?.samplesBetween(ctx.lookbackMs, input.now) ?? [];
  const full = coversWindow(read, input.now, th.windowSeconds);
  const totals = read.filter((s) => s.t >= ctx.fromMs);
  const perReplica = totals.map((s) => ({ t: s.t, v: s.v / Math.max(current, 1) }));
  const recentTotal = recentMean(totals, input.now);
  const outLine = (target * th.outPct) / 100;
  const inLine = (target * th.inPct) / 100;
  const value = recentTotal === null ? null : recentTotal / Math.max(current, 1);
  const maxTotal = Math.max(0, ...totals.map((s) => s.v));
  return {
    key,
    label: `${label} ${fmt(value)} (target ${fmt(target)})`,
    role: 'load',
    reading: { value, target },
    triggersOut: full && perReplica.every((s) => s.v > outLine),
    outReplicas: outReplicas(current, recentTotal ?? 0, target),
    inState: inStateOf(perReplica, full, inLine),
    inReplicas: inReplicas(maxTotal, target, th),
    plain: recentTotal === null ? null : formulaReplicas(recentTotal, target),
    vetoesIn: false,
    aboveForMs: aboveForMs(perReplica, input.now, outLine),
  };
}

// ---- per-replica utilization (cpu, memory) --------------------------------------------------------

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
): MetricEvaluation {
  const { input, th } = ctx;
  const current = input.current;
  const read = aggregateUtilization(replicas ?? [], ctx.lookbackMs, input.now, warmupMs).map((p) => ({ ...p, v: p.v * 100 }));
  const full = coversWindow(read, input.now, th.windowSeconds);
  const points = read.filter((p) => p.t >= ctx.fromMs);
  const recent = recentMean(points, input.now);
  const contributors = points[points.length - 1]?.n ?? 0;
  const outLine = (targetPct * th.outPct) / 100;
  const inLine = (targetPct * th.inPct) / 100;
  // Sizing counts replicas without a warmed-up sample as idle (as Kubernetes' HPA does): right after a
  // scale out, the old replicas are still hot and would otherwise ask for the same step again.
  const loadUnits = (recent ?? 0) * contributors;
  let inState = inStateOf(points, full, inLine);
  if (inState === 'below' && (points.some((p) => p.n < current) || contributors < current)) {
    const warming = (replicas ?? []).some((r) => r.startedAtMs + warmupMs > ctx.fromMs);
    inState = warming ? 'warmup' : 'missing';
  }
  return {
    key,
    label: `${label} ${fmt(recent)} (target ${targetPct})`,
    role,
    reading: { value: recent, target: targetPct },
    triggersOut: full && points.every((p) => p.v > outLine),
    outReplicas: outReplicas(current, loadUnits, targetPct),
    inState,
    inReplicas: inReplicas(Math.max(0, ...points.map((p) => p.v)) * current, targetPct, th),
    plain: recent === null ? null : formulaReplicas(loadUnits, targetPct),
    vetoesIn: false,
    aboveForMs: aboveForMs(points, input.now, outLine),
  };
}

// ---- latency ------------------------------------------------------------------------------------------

function evaluateLatency(ctx: Context, window: SampleWindow | undefined, maxMs: number, only: boolean): MetricEvaluation {
  const { input, th } = ctx;
  const current = input.current;
  const read = window?.samplesBetween(ctx.lookbackMs, input.now) ?? [];
  const full = coversWindow(read, input.now, th.windowSeconds);
  const samples = read.filter((s) => s.t >= ctx.fromMs);
  const recent = recentMean(samples, input.now);
  const breach = recent === null ? 0 : recent / maxMs - 1;
  const step = Math.min(Math.max(1, Math.ceil(current * breach)), Math.max(1, Math.ceil(current * MAX_LATENCY_STEP_FACTOR)));
  // As the only metric, latency also scales in (one replica at a time: latency says nothing about
  // how many replicas the load needs). Beside a load metric it only vetoes a scale in.
  const inState: InState = only ? inStateOf(samples, full, (maxMs * th.inPct) / 100) : 'below';
  return {
    key: 'p95LatencyMs',
    label: `p95 ${fmt(recent)} ms (max ${fmt(maxMs)})`,
    role: 'latency',
    reading: { value: recent, target: maxMs },
    triggersOut: full && samples.every((s) => s.v > maxMs),
    outReplicas: current + step,
    inState,
    inReplicas: Math.max(0, current - 1),
    plain: recent === null ? null : recent > maxMs ? current + step : null,
    vetoesIn: !only && samples.some((s) => s.v >= (maxMs * Math.min(th.outPct, 100)) / 100),
    aboveForMs: aboveForMs(samples, input.now, maxMs),
  };
}

// ---- helpers ----------------------------------------------------------------------------------------------

function inStateOf(samples: readonly Sample[], full: boolean, inLine: number): InState {
  if (samples.length === 0) return 'missing';
  if (!samples.every((s) => s.v < inLine)) return 'not-below';
  return full ? 'below' : 'filling';
}

function recentMean(samples: readonly Sample[], now: number): number | null {
  const recent = samples.filter((s) => s.t > now - RECENT_SPAN_MS);
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

export function fmt(value: number | null): string {
  if (value === null) return 'n/a';
  return Number.isInteger(value) ? String(value) : value.toFixed(1);
}
