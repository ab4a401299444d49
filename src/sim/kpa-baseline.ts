// A baseline modelled on Knative Serving's Pod Autoscaler (KPA) with its config-autoscaler
// defaults, for `autoserve simulate --baseline kpa`:
//  - a decision every 2 s (the autoscaler's tick);
//  - stable window 60 s, panic window 6 s (panic-window-percentage 10 % of it): the metric's mean
//    over each window;
//  - desired = ceil(window mean / target per replica), for both windows;
//  - panic when the panic count is >= 200 % of the ready replicas (panic-threshold-percentage
//    200); in panic the count only goes up (max of the panic counts), and panic ends once a whole
//    stable window passes without crossing the threshold again;
//  - rates: max-scale-up-rate 1000 (x ready), max-scale-down-rate 2 (at most halve per decision);
//  - scale-down-delay 0 s (Knative's default): a scale in happens as soon as it is desired;
//  - clamp to min/max.
// Metric: concurrency (connections.targetPerReplica) when set, else requests per second
// (http.targetRPSPerReplica): Knative's two KPA metrics. The target is the manifest's, used at
// 100 %: Knative's default target utilization (70 %) would only move the operating point, and every
// policy here is compared at the same per-replica target.

import type { ScalingSpec } from '../manifest/types.js';
import type { SimScaler, SimView } from './sim-scaler.js';

export const KPA_TICK_MS = 2_000;
export const KPA_STABLE_WINDOW_MS = 60_000;
export const KPA_PANIC_WINDOW_MS = 6_000;
export const KPA_PANIC_THRESHOLD = 2;
export const KPA_MAX_SCALE_UP_RATE = 1000;
export const KPA_MAX_SCALE_DOWN_RATE = 2;
export const KPA_SCALE_DOWN_DELAY_MS = 0;

type KpaMetric = { kind: 'concurrency' | 'rps'; target: number };

export function kpaMetricOf(spec: ScalingSpec): KpaMetric {
  const { policy } = spec;
  if (policy.connections) return { kind: 'concurrency', target: policy.connections.targetPerReplica };
  if (policy.http?.targetRPSPerReplica !== undefined) return { kind: 'rps', target: policy.http.targetRPSPerReplica };
  throw new Error('the KPA baseline needs connections.targetPerReplica or http.targetRPSPerReplica in the scaling policy (Knative scales cpu through the HPA)');
}

export function createKpaBaseline(spec: ScalingSpec): SimScaler {
  const metric = kpaMetricOf(spec);
  let panicSince: number | undefined;
  let lastPanicAt = -Infinity;
  let maxPanicPods = 0;
  const delayed: { t: number; replicas: number }[] = [];
  return {
    name: 'kpa',
    intervalMs: KPA_TICK_MS,
    decide(view: SimView) {
      const { now, current } = view;
      const window = metric.kind === 'rps' ? view.windows.rps : view.windows.concurrency;
      const stable = meanOver(window?.samplesBetween(now - KPA_STABLE_WINDOW_MS, now) ?? []);
      const panic = meanOver(window?.samplesBetween(now - KPA_PANIC_WINDOW_MS, now) ?? []);
      if (stable === null || panic === null) return { replicas: current, reason: `kpa: no ${metric.kind} samples` };
      const readyPods = Math.max(1, view.ready);
      const maxUp = Math.ceil(KPA_MAX_SCALE_UP_RATE * readyPods);
      const maxDown = Math.floor(readyPods / KPA_MAX_SCALE_DOWN_RATE);
      const limit = (n: number) => Math.min(maxUp, Math.max(maxDown, n));
      const stablePods = limit(Math.ceil(stable / metric.target));
      const panicPods = limit(Math.ceil(panic / metric.target));
      const overThreshold = panicPods / readyPods >= KPA_PANIC_THRESHOLD;
      if (overThreshold) {
        if (panicSince === undefined) panicSince = now;
        lastPanicAt = now;
      } else if (panicSince !== undefined && now - lastPanicAt >= KPA_STABLE_WINDOW_MS) {
        panicSince = undefined;
        maxPanicPods = 0;
      }
      let desired: number;
      let why: string;
      if (panicSince !== undefined) {
        // Never down in panic; the stable count wins when it is the larger (Knative's edge case).
        desired = Math.max(panicPods, stablePods, maxPanicPods, current);
        maxPanicPods = desired;
        why = `panic: ${metric.kind} ${panic.toFixed(1)} over 6 s (target ${metric.target}/replica)`;
      } else {
        desired = stablePods;
        why = `${metric.kind} ${stable.toFixed(1)} over 60 s (target ${metric.target}/replica)`;
      }
      delayed.push({ t: now, replicas: desired });
      while ((delayed[0]?.t ?? now) <= now - KPA_SCALE_DOWN_DELAY_MS && delayed.length > 1) delayed.shift();
      desired = Math.max(desired, ...delayed.map((d) => d.replicas));
      desired = Math.min(spec.maxReplicas, Math.max(spec.minReplicas, desired));
      return { replicas: desired, reason: `kpa: ${why}` };
    },
  };
}

function meanOver(samples: readonly { v: number }[]): number | null {
  if (samples.length === 0) return null;
  return samples.reduce((s, x) => s + x.v, 0) / samples.length;
}
