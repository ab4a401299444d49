// The autoscaling decision: a pure function from metric windows and the app's scaling state to a
// replica count, the reason for it, and why every other rule did not decide. The daemon and
// `autoserve simulate` call the same function.
//
// Rules, in order (docs/autoscaling.md explains each):
//  1. manual mode holds spec.replicas;
//  2. bounds: a count outside [minReplicas, maxReplicas] is corrected at once;
//  3. panic (the fast path): a metric's panic window (its mean, or its newest sample when higher;
//     for the request rate, plus the backlog beyond the objective drained within the window) asks
//     for >= panicThreshold of the ready replicas -> scale out at once to what it asks for, no
//     window, no cooldown;
//  4. scale out: a metric past its scale-out line for the whole window -> the count that carries
//     the load at its target (latency: Little's law, at most doubling); cooldown applies;
//  5. scale in: the highest recommendation over the stabilization window (60 s; 300 s once the
//     load has come back after a dip) is below the count, and so is latency's memory (one above a
//     count whose own breach was seen, while requests are as slow); never on missing or partial
//     data, while replicas start, or within the cooldown;
//  6. otherwise hold, and say why.

import type { ScalingRecord } from '../../store/status-model.js';
import { evaluateMetrics, fmt, MAX_LATENCY_STEP_FACTOR, RECENT_SPAN_MS, resolveThresholds, TOLERANCE, type MetricSignal, type Thresholds } from './evaluate-metrics.js';
import { hostReplicaLimit } from './host-capacity.js';
import { combineHistories, highestSince, loadRecurred } from './stabilization.js';
import type { HoldReason, MetricReading, RuleOutcome, ScalingDecision, ScalingDirection, ScalingInput, ScalingRule } from './types.js';

/** The status reason for a scale out cut short by the host's CPU or memory. */
export const SCALING_LIMITED = 'ScalingLimited';

/**
 * Decides how many replicas the app should run now.
 *
 * Promises: never returns a count outside [minReplicas, maxReplicas] in auto mode; never scales in
 * on missing, stale or partial data, while replicas are starting, within the controller's first
 * window, within `cooldownSeconds` of the last change, or below the highest recommendation of the
 * stabilization window; scales out within the cooldown only on the panic path. The same input
 * always gives the same decision. Does not throw for any well-typed input.
 */
export function decideReplicas(input: ScalingInput): ScalingDecision {
  const { policy: spec, current } = input;
  const explanation: RuleOutcome[] = [];
  const note = (rule: ScalingRule, fired: boolean, detail: string) => explanation.push({ rule, fired, detail });

  if (spec.policy.mode === 'manual') {
    const replicas = input.specReplicas ?? current;
    const reason = `manual: holding spec.replicas (${replicas})`;
    note('manual', true, reason);
    return { replicas, direction: directionOf(current, replicas), reason, explanation, metrics: {}, recommendation: replicas };
  }
  note('manual', false, 'mode is auto');

  const th = resolveThresholds(spec.policy);
  const signals = evaluateMetrics(input, th);
  const metrics: Record<string, MetricReading> = Object.fromEntries(signals.map((s) => [s.key, s.reading]));
  const asks = signals.map((s) => s.wants).filter((n): n is number => n !== null);
  const recommendation = clamp(asks.length > 0 ? Math.max(...asks) : current, spec.minReplicas, spec.maxReplicas);
  const decide = (rule: ScalingRule, replicas: number, reason: string, extra: Partial<ScalingDecision> = {}): ScalingDecision => {
    note(rule, true, reason);
    return { replicas, direction: directionOf(current, replicas), reason, explanation, metrics, recommendation, ...extra };
  };
  const hold = (heldBy: HoldReason | undefined, reason: string): ScalingDecision => ({
    replicas: current, direction: 'none', reason, explanation, metrics, recommendation, ...(heldBy !== undefined ? { heldBy } : {}),
  });

  if (current < spec.minReplicas) return decide('bounds', spec.minReplicas, `below minReplicas: ${current} -> ${spec.minReplicas}`);
  if (current > spec.maxReplicas) return decide('bounds', spec.maxReplicas, `above maxReplicas: ${current} -> ${spec.maxReplicas}`);
  note('bounds', false, `${current} is within [${spec.minReplicas}, ${spec.maxReplicas}]`);
  if (signals.length === 0) return hold(undefined, 'no scaling metric configured (set http, cpu, memory or connections)');

  const cooldownLeftMs = spec.policy.cooldownSeconds * 1000 - (input.now - (lastScaleAt(input) ?? -Infinity));
  const out = (rule: 'panic' | 'scale-out', driver: MetricSignal, wanted: number, why: string): ScalingDecision => {
    const target = Math.min(wanted, spec.maxReplicas);
    const capped = wanted > target ? ` (capped by maxReplicas ${spec.maxReplicas})` : '';
    const limit = input.hostCapacity ? hostReplicaLimit(input.hostCapacity) : undefined;
    if (limit !== undefined && target > limit.replicas) {
      const limited = `${SCALING_LIMITED}: host ${limit.resource} holds ${limit.replicas} replica(s) of this app, ${driver.label} asks for ${target}`;
      if (limit.replicas <= current) {
        note(rule, false, limited);
        return { ...hold('host-capacity', limited), limitedBy: limit.resource };
      }
      return decide(rule, limit.replicas, limited, { heldBy: 'host-capacity', limitedBy: limit.resource });
    }
    return decide(rule, target, `${rule === 'panic' ? 'panic: ' : ''}scale out ${current} -> ${target}: ${why}${capped}`, wanted > target ? { heldBy: 'clamp' } : {});
  };

  // ---- saturation: every replica out of the rotation while requests arrive ----
  // A busy replica fails its checks and leaves the rotation (readiness); when that is every
  // replica, the app serves nothing and no metric of its replicas can be trusted: scale out.
  const failing = input.notReady ?? 0;
  const arriving = recentRequests(input);
  if (input.ready === 0 && input.starting === 0 && failing > 0 && arriving > 0 && current < spec.maxReplicas) {
    const wanted = Math.max(current + 1, Math.ceil(current * MAX_LATENCY_STEP_FACTOR));
    const reason = `${failing} replica(s) failing their checks and none ready while ${fmt(arriving)} requests/s arrive`;
    const target = Math.min(wanted, spec.maxReplicas);
    return decide('panic', target, `panic: scale out ${current} -> ${target}: ${reason}`);
  }

  // ---- panic: the fast path ----
  // Latency sizes only what the rate cannot see (slower requests): while a load metric asks for more
  // replicas than run, the overload is the load's, and its own rules size it.
  const loadAsksMore = signals.some((s) => s.role === 'load' && (s.wants ?? 0) > current);
  const latencyUsable = input.starting === 0 && !loadAsksMore;
  const panicking = signals.filter((s) => s.panic?.crossed && (s.role !== 'latency' || latencyUsable));
  if (panicking.length > 0) {
    const driver = largest(panicking, (s) => s.panic?.replicas ?? 0);
    const wanted = driver.panic?.replicas ?? current;
    const queued = driver.panic?.queued === undefined ? '' : ` (with ${fmt(Math.round(driver.panic.queued))} requests queued beyond the objective, drained within it)`;
    const why = `${driver.label} over the last ${th.panicWindowMs / 1000} s asks for ${wanted}${queued}, at least ${fmt(th.panicRatio * 100)}% of ${input.ready} ready`;
    if (wanted > current && current < spec.maxReplicas) return out('panic', driver, wanted, why);
    const reason = `${why}; ${current >= spec.maxReplicas ? `at maxReplicas ${spec.maxReplicas}` : `${current} already asked for, ${input.starting} starting`}`;
    note('panic', false, reason);
    // Waiting for what it asked for holds; a panic whose count is already running lets the other rules speak.
    if (current >= spec.maxReplicas || input.starting > 0) return hold(current >= spec.maxReplicas ? 'clamp' : 'starting', reason);
  } else {
    note('panic', false, `no metric's ${th.panicWindowMs / 1000} s mean asks for ${fmt(th.panicRatio * 100)}% of the ${input.ready} ready replica(s)`);
  }

  // ---- scale out over the window ----
  const gated = signals.filter((s) => s.outGate && s.outReplicas > current);
  const latencyWaits = gated.some((s) => s.role === 'latency') && input.starting > 0;
  const usable = gated.filter((s) => s.role !== 'latency' || latencyUsable);
  if (usable.length > 0) {
    const driver = largest(usable, (s) => s.outReplicas);
    const line = driver.role === 'latency' ? 'the limit' : `${th.outPct}% of target`;
    if (current >= spec.maxReplicas) {
      note('scale-out', false, `at maxReplicas ${spec.maxReplicas}: ${driver.label} asks for ${driver.outReplicas}`);
      return hold('clamp', `at maxReplicas ${spec.maxReplicas}: ${driver.label} asks for ${driver.outReplicas}`);
    }
    if (cooldownLeftMs > 0) {
      const reason = `scale out to ${Math.min(driver.outReplicas, spec.maxReplicas)} (${driver.label}) waits for cooldown: ${seconds(cooldownLeftMs)} s left`;
      note('scale-out', false, reason);
      return hold('cooldown', reason);
    }
    return out('scale-out', driver, driver.outReplicas, `${driver.label} above ${line} for ${th.windowSeconds} s`);
  }
  if (latencyWaits) {
    const reason = `p95 above the limit, waiting for ${input.starting} starting replica(s) before adding more`;
    note('scale-out', false, reason);
    return hold('starting', reason);
  }
  const rising = signals.filter((s) => s.aboveForMs > 0 && !s.outGate);
  const withinTarget = signals.filter((s) => s.outGate && s.outReplicas <= current);
  if (rising.length > 0) {
    const s = largest(rising, (x) => x.aboveForMs);
    const latencyStarting = s.role === 'latency' && input.starting > 0;
    const why = s.role === 'latency' && s.outBlocked ? `: ${s.outBlocked}` : '';
    const reason = latencyStarting
      ? `${s.label} above the limit, waiting for ${input.starting} starting replica(s) before adding more`
      : `${s.label} above ${s.role === 'latency' ? 'the limit' : `${th.outPct}% of target`} for ${seconds(s.aboveForMs)} s of the ${th.windowSeconds} s window${why}`;
    note('scale-out', false, reason);
    return hold(latencyStarting ? 'starting' : 'window', reason);
  }
  note('scale-out', false, withinTarget.length > 0
    ? `${describe(withinTarget)} above ${th.outPct}% of target for the window, but ${current} carry it within ${fmt(100 * (1 + TOLERANCE))}% of target`
    : `no metric above its scale-out line (${describe(signals)})`);
  if (withinTarget.length > 0) return hold(undefined, `holding ${current}: ${describe(withinTarget)} is within target`);

  // ---- scale in ----
  return scaleIn(input, th, signals, cooldownLeftMs, note, decide, hold);
}

function scaleIn(
  input: ScalingInput,
  th: Thresholds,
  signals: readonly MetricSignal[],
  cooldownLeftMs: number,
  note: (rule: ScalingRule, fired: boolean, detail: string) => void,
  decide: (rule: ScalingRule, replicas: number, reason: string) => ScalingDecision,
  hold: (heldBy: HoldReason | undefined, reason: string) => ScalingDecision,
): ScalingDecision {
  const { policy: spec, current, now } = input;
  const refuse = (heldBy: HoldReason | undefined, reason: string) => {
    note('scale-in', false, reason);
    return hold(heldBy, reason);
  };
  // The metrics that size a scale in: the load metrics, or latency when it is the only one.
  // Memory never does (a guard cannot hold replicas up once the load is low).
  const hasLoad = signals.some((s) => s.role === 'load');
  const sizing = signals.filter((s) => s.role === (hasLoad ? 'load' : 'latency'));
  if (sizing.length === 0) return refuse(undefined, `holding ${current}: memory is a guard metric and cannot scale in; add a load metric (http, cpu, connections)`);
  if (current <= spec.minReplicas) return refuse('clamp', `at minReplicas ${spec.minReplicas}`);
  const missing = sizing.find((s) => s.data === 'missing');
  if (missing) return refuse('missing-data', `no scale in on missing data: no fresh ${missing.key} samples`);
  const warming = sizing.find((s) => s.data === 'warmup');
  if (warming) return refuse('warmup', `no scale in: some replicas are warming up or lack ${warming.key} samples for the window`);
  const partial = sizing.find((s) => s.data === 'partial');
  if (partial) return refuse('missing-data', `no scale in: ${partial.key} samples do not cover the last ${Math.max(th.windowMs, th.stabilizationMs) / 1000} s`);

  // Latency near the objective holds the count too (its history asks for it), so it joins the histories.
  const history = combineHistories(signals.filter((s) => s.role !== 'guard').map((s) => s.history));
  const shortMs = th.stabilizationMs;
  const recurrence = loadRecurred(history, now, shortMs, th.recurrenceMemoryMs);
  const recurring = recurrence !== null;
  // Recurring load: hold at least over the recurring window, and over the longest dip it came back from.
  const windowMs = recurrence === null
    ? th.stabilizationMs
    : Math.min(th.recurrenceMemoryMs, Math.max(th.recurringStabilizationMs, Math.ceil((recurrence.longestDipMs + shortMs) / 1000) * 1000));
  const windowName = `${windowMs / 1000} s ${recurring ? `window (the load came back after a dip within the last ${th.recurrenceMemoryMs / 60_000} min)` : 'window'}`;
  const stabilized = highestSince(history, now, windowMs) ?? current;
  const floor = largestFloor(signals);
  if (floor !== undefined && floor.replicas >= current && stabilized < current) {
    return refuse('stabilization', `holding ${current}: ${floor.why}`);
  }
  const wanted = Math.max(spec.minReplicas, stabilized, floor?.replicas ?? 0);
  if (wanted >= current) {
    const lowNow = Math.max(...sizing.map((s) => s.wants ?? current)) < current;
    return refuse(lowNow ? 'stabilization' : undefined, `holding ${current}: the highest recommendation over the ${windowName} is ${stabilized} (${describe(sizing)})`);
  }
  if (input.starting > 0 || input.ready < current) {
    return refuse('starting', `no scale in while replicas are not ready (${input.ready} of ${current} ready, ${input.starting} starting)`);
  }
  const sinceStartMs = now - input.controllerStartedAtMs;
  const settleMs = Math.max(th.windowMs, th.stabilizationMs);
  if (sinceStartMs < settleMs) {
    return refuse('window', `controller started ${seconds(sinceStartMs)} s ago: no scale in until ${settleMs / 1000} s of fresh data`);
  }
  if (cooldownLeftMs > 0) return refuse('cooldown', `scale in to ${wanted} waits for cooldown: ${seconds(cooldownLeftMs)} s left`);
  const above = floor !== undefined && floor.replicas > stabilized ? `, held at ${floor.replicas}: ${floor.why}` : '';
  return decide('scale-in', wanted, `scale in ${current} -> ${wanted}: the highest recommendation over the ${windowName} is ${stabilized}${above}`);
}

function largestFloor(signals: readonly MetricSignal[]): MetricSignal['floor'] {
  let best: MetricSignal['floor'];
  for (const s of signals) if (s.floor && (best === undefined || s.floor.replicas > best.replicas)) best = s.floor;
  return best;
}

/** Mean requests per second over the last RECENT_SPAN_MS, from the rps window (collected whatever the policy); 0 without data. */
function recentRequests(input: ScalingInput): number {
  const samples = input.windows.rps?.samplesBetween(input.now - RECENT_SPAN_MS, input.now) ?? [];
  return samples.length === 0 ? 0 : samples.reduce((sum, s) => sum + s.v, 0) / samples.length;
}

/** The time of the last change: `lastScaleAtMs`, else the newest history record. */
export function lastScaleAt(input: Pick<ScalingInput, 'lastScaleAtMs' | 'history'>): number | undefined {
  if (input.lastScaleAtMs !== undefined) return input.lastScaleAtMs;
  let newest: number | undefined;
  for (const record of input.history ?? ([] as readonly ScalingRecord[])) {
    const t = Date.parse(record.time);
    if (Number.isFinite(t) && (newest === undefined || t > newest)) newest = t;
  }
  return newest;
}

function describe(signals: readonly MetricSignal[]): string {
  return signals.map((s) => s.label).join(', ');
}

function largest<T>(items: readonly T[], by: (item: T) => number): T {
  let best = items[0] as T;
  for (const item of items) if (by(item) > by(best)) best = item;
  return best;
}

function clamp(n: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, n));
}

function directionOf(from: number, to: number): ScalingDirection {
  return to > from ? 'out' : to < from ? 'in' : 'none';
}

function seconds(ms: number): string {
  return fmt(Math.ceil(ms / 100) / 10);
}
