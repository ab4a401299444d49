// The autoscaling decision: a pure function from metric windows and the app's scaling state to a
// replica count and the reason for it. The daemon and `autoserve simulate` call the same function.
//
// Order of rules: manual mode, the min/max clamp, then scale out (any metric above its threshold for
// a full window; the largest ask wins), then scale in (every load metric below its threshold for a
// full window), otherwise hold and say what holds. docs/autoscaling.md explains each rule.

import type { ScalingRecord } from '../../store/status-model.js';
import { evaluateMetrics, resolveThresholds, fmt, type MetricEvaluation, type Thresholds } from './evaluate-metrics.js';
import { hostReplicaLimit } from './host-capacity.js';
import type { HoldReason, MetricReading, ScalingDecision, ScalingDirection, ScalingInput } from './types.js';

/** The status reason for a scale out cut short by the host's CPU or memory. */
export const SCALING_LIMITED = 'ScalingLimited';

/**
 * Decides how many replicas the app should run now.
 *
 * Promises: never returns a count outside [minReplicas, maxReplicas] in auto mode; never scales in
 * while replicas are starting, on missing data, within `windowSeconds` of the controller starting,
 * or within `cooldownSeconds` of the last change; never scales out within the cooldown either
 * (clamping to min/max is not subject to cooldown). Does not throw for any well-typed input.
 */
export function decideReplicas(input: ScalingInput): ScalingDecision {
  const { policy: spec, current, now } = input;
  if (spec.policy.mode === 'manual') {
    const replicas = input.specReplicas ?? current;
    return { replicas, direction: directionOf(current, replicas), reason: `manual: holding spec.replicas (${replicas})`, metrics: {}, recommendation: replicas };
  }

  const th = resolveThresholds(spec.policy);
  const evaluations = evaluateMetrics(input, th);
  const metrics: Record<string, MetricReading> = Object.fromEntries(evaluations.map((e) => [e.key, e.reading]));
  const plains = evaluations.map((e) => e.plain).filter((p): p is number => p !== null);
  const recommendation = clamp(plains.length > 0 ? Math.max(...plains) : current, spec.minReplicas, spec.maxReplicas);
  const base = { metrics, recommendation };

  if (current < spec.minReplicas) {
    return { ...base, replicas: spec.minReplicas, direction: 'out', reason: `below minReplicas: ${current} -> ${spec.minReplicas}` };
  }
  if (current > spec.maxReplicas) {
    return { ...base, replicas: spec.maxReplicas, direction: 'in', reason: `above maxReplicas: ${current} -> ${spec.maxReplicas}` };
  }
  if (evaluations.length === 0) {
    return { ...base, replicas: current, direction: 'none', reason: 'no scaling metric configured (set http, cpu, memory or connections)' };
  }

  const hold = (heldBy: HoldReason | undefined, reason: string): ScalingDecision => ({
    ...base,
    replicas: current,
    direction: 'none',
    reason,
    ...(heldBy !== undefined ? { heldBy } : {}),
  });
  const cooldownLeftMs = spec.policy.cooldownSeconds * 1000 - (now - (lastScaleAt(input) ?? -Infinity));

  // ---- scale out ----
  const triggered = evaluations.filter((e) => e.triggersOut);
  if (triggered.length > 0) {
    // Latency reflects the replicas serving now; while new ones start it is stale, rate metrics are not.
    // Its window must also start after the last change, or it still describes the old count.
    const lastAt = lastScaleAt(input);
    const latencyStale = lastAt !== undefined && lastAt > now - th.windowMs;
    const usable = input.starting > 0 || latencyStale ? triggered.filter((e) => e.role !== 'latency') : triggered;
    if (usable.length === 0) {
      if (input.starting > 0) {
        return hold('starting', `${describe(triggered)} above the limit, waiting for ${input.starting} starting replica(s) before adding more`);
      }
      return hold('window', `${describe(triggered)} above the limit, waiting for a full ${th.windowSeconds} s window after the last change`);
    }
    const driver = largest(usable, (e) => e.outReplicas);
    const wanted = driver.outReplicas;
    if (current >= spec.maxReplicas) {
      return hold('clamp', `at maxReplicas ${spec.maxReplicas}: ${driver.label} asks for ${wanted}`);
    }
    if (cooldownLeftMs > 0) {
      return hold('cooldown', `scale out to ${Math.min(wanted, spec.maxReplicas)} (${driver.label}) waits for cooldown: ${seconds(cooldownLeftMs)} s left`);
    }
    const target = Math.min(wanted, spec.maxReplicas);
    const limit = input.hostCapacity ? hostReplicaLimit(input.hostCapacity) : undefined;
    if (limit !== undefined && target > limit.replicas) {
      const limited = `${SCALING_LIMITED}: host ${limit.resource} holds ${limit.replicas} replica(s) of this app, ${driver.label} asks for ${target}`;
      if (limit.replicas <= current) return { ...hold('host-capacity', limited), limitedBy: limit.resource };
      return { ...base, replicas: limit.replicas, direction: 'out', reason: limited, heldBy: 'host-capacity', limitedBy: limit.resource };
    }
    return {
      ...base,
      replicas: target,
      direction: 'out',
      reason: `scale out ${current} -> ${target}: ${driver.label} above ${driver.role === 'latency' ? 'the limit' : `${th.outPct}% of target`} for ${th.windowSeconds} s${wanted > target ? ` (capped by maxReplicas ${spec.maxReplicas})` : ''}`,
      ...(wanted > target ? { heldBy: 'clamp' as const } : {}),
    };
  }

  // ---- scale in ----
  // The metrics that decide a scale in: the load metrics, or latency when it is the only one.
  // Memory never does (a guard cannot hold replicas up once the load is low).
  const hasLoad = evaluations.some((e) => e.role === 'load');
  const loads = evaluations.filter((e) => e.role === (hasLoad ? 'load' : 'latency'));
  const vetoing = evaluations.find((e) => e.vetoesIn);
  const waitingOut = evaluations.filter((e) => e.aboveForMs > 0 && !e.triggersOut && (e.reading.value ?? 0) > outLine(e, th));
  if (waitingOut.length > 0) {
    const e = largest(waitingOut, (x) => x.aboveForMs);
    return hold('window', `${e.label} above ${e.role === 'latency' ? 'the limit' : `${th.outPct}% of target`} for ${seconds(e.aboveForMs)} s of the ${th.windowSeconds} s window`);
  }
  if (loads.length === 0) {
    return hold(undefined, `holding ${current}: memory is a guard metric and cannot scale in; add a load metric (http, cpu, connections)`);
  }
  if (loads.some((e) => e.inState === 'not-below') || vetoing) {
    return hold(undefined, `holding ${current}: ${vetoing ? `${vetoing.label} too close to the limit to scale in` : `load within thresholds (${describe(evaluations)})`}`);
  }
  const missing = loads.find((e) => e.inState === 'missing');
  if (missing) return hold('missing-data', `no scale in on missing data: no ${missing.key} samples in the last ${th.windowSeconds} s`);
  const warming = loads.find((e) => e.inState === 'warmup');
  if (warming) return hold('warmup', `no scale in: some replicas are warming up or lack ${warming.key} samples for the full window`);
  const filling = loads.find((e) => e.inState === 'filling');
  if (filling) return hold('window', `${filling.label} below ${th.inPct}% of target, but the ${th.windowSeconds} s window is not full yet`);

  // Every load metric is below its scale-in threshold for a full window.
  const wanted = Math.max(spec.minReplicas, ...loads.map((e) => e.inReplicas));
  if (wanted >= current) {
    return hold(current <= spec.minReplicas ? 'clamp' : undefined, current <= spec.minReplicas ? `at minReplicas ${spec.minReplicas}` : `holding ${current}: load is low but ${current} replicas are still needed (${describe(loads)})`);
  }
  if (input.starting > 0 || input.ready < current) {
    return hold('starting', `no scale in while replicas are not ready (${input.ready} of ${current} ready, ${input.starting} starting)`);
  }
  const sinceStartMs = now - input.controllerStartedAtMs;
  if (sinceStartMs < th.windowMs) {
    return hold('window', `controller started ${seconds(sinceStartMs)} s ago: no scale in until a full ${th.windowSeconds} s window of fresh data`);
  }
  if (cooldownLeftMs > 0) {
    return hold('cooldown', `scale in to ${wanted} waits for cooldown: ${seconds(cooldownLeftMs)} s left`);
  }
  return {
    ...base,
    replicas: wanted,
    direction: 'in',
    reason: `scale in ${current} -> ${wanted}: ${describe(loads)} below ${th.inPct}% of target for ${th.windowSeconds} s`,
  };
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

function outLine(e: MetricEvaluation, th: Thresholds): number {
  return e.role === 'latency' ? e.reading.target : (e.reading.target * th.outPct) / 100;
}

function describe(evaluations: readonly MetricEvaluation[]): string {
  return evaluations.map((e) => e.label).join(', ');
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
