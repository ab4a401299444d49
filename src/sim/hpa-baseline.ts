// A baseline modelled on the Kubernetes HorizontalPodAutoscaler (autoscaling/v2) defaults, to
// compare AutoServe's policy against in `autoserve simulate --baseline hpa`:
//  - a sync every 15 s; the metric is its mean over the last sync period;
//  - desired = ceil(current x observed / target), skipped within a 10 % tolerance;
//  - CPU: on scale up, replicas without a sample count as idle (HPA's unready-pod rule);
//  - scale down: the max of the recommendations of the last 300 s (stabilization window);
//  - scale up: at most max(100 % of current, +4 pods) per 15 s; clamp to min/max.
// It uses the same target as the manifest: targetRPSPerReplica, else cpu, else connections.

import type { ScalingSpec } from '../manifest/types.js';
import { aggregateUtilization } from '../controllers/scaler/evaluate-metrics.js';
import type { MetricWindows } from '../controllers/scaler/types.js';
import type { SimScaler, SimView } from './sim-scaler.js';

export const HPA_SYNC_PERIOD_MS = 15_000;
export const HPA_TOLERANCE = 0.1;
export const HPA_SCALE_DOWN_STABILIZATION_MS = 300_000;
export const HPA_SCALE_UP_PERCENT = 100;
export const HPA_SCALE_UP_PODS = 4;

type HpaMetric = { kind: 'rps' | 'connections'; target: number } | { kind: 'cpu'; targetPct: number };

export function hpaMetricOf(spec: ScalingSpec): HpaMetric {
  const { policy } = spec;
  if (policy.http?.targetRPSPerReplica !== undefined) return { kind: 'rps', target: policy.http.targetRPSPerReplica };
  if (policy.cpu) return { kind: 'cpu', targetPct: policy.cpu.targetUtilizationPct };
  if (policy.connections) return { kind: 'connections', target: policy.connections.targetPerReplica };
  throw new Error('the HPA baseline needs http.targetRPSPerReplica, cpu or connections in the scaling policy');
}

export function createHpaBaseline(spec: ScalingSpec): SimScaler {
  const metric = hpaMetricOf(spec);
  const recommendations: { t: number; replicas: number }[] = [];
  return {
    name: 'hpa',
    intervalMs: HPA_SYNC_PERIOD_MS,
    decide(view: SimView) {
      const { now, current } = view;
      const proposal = propose(metric, view.windows, now, current);
      const raw = proposal.replicas ?? current;
      recommendations.push({ t: now, replicas: raw });
      while ((recommendations[0]?.t ?? now) < now - HPA_SCALE_DOWN_STABILIZATION_MS) recommendations.shift();
      let desired = raw;
      let why = proposal.why;
      if (raw < current) {
        const stabilized = Math.max(...recommendations.map((r) => r.replicas));
        if (stabilized > raw) why += `, stabilized at ${Math.min(stabilized, current)}`;
        desired = Math.min(current, stabilized);
      }
      const upLimit = Math.max(Math.ceil((current * (100 + HPA_SCALE_UP_PERCENT)) / 100), current + HPA_SCALE_UP_PODS);
      if (desired > upLimit) {
        why += `, scale-up limited to ${upLimit}`;
        desired = upLimit;
      }
      desired = Math.min(spec.maxReplicas, Math.max(spec.minReplicas, desired));
      return { replicas: desired, reason: `hpa: ${why}` };
    },
  };
}

function propose(metric: HpaMetric, windows: MetricWindows, now: number, current: number): { replicas?: number; why: string } {
  const from = now - HPA_SYNC_PERIOD_MS;
  if (metric.kind === 'cpu') {
    const points = aggregateUtilization(windows.cpu ?? [], from, now, 0);
    if (points.length === 0) return { why: 'no cpu samples' };
    const mean = points.reduce((s, p) => s + p.v, 0) / points.length;
    const withMetrics = points[points.length - 1]?.n ?? 0;
    let ratio = (mean * 100) / metric.targetPct;
    if (ratio > 1) ratio = (mean * withMetrics * 100) / (Math.max(current, 1) * metric.targetPct);
    return decideRatio(ratio, current, `cpu ${(mean * 100).toFixed(1)}% (target ${metric.targetPct})`);
  }
  const window = metric.kind === 'rps' ? windows.rps : windows.concurrency;
  const samples = window?.samplesBetween(from, now) ?? [];
  if (samples.length === 0) return { why: `no ${metric.kind} samples` };
  const total = samples.reduce((s, x) => s + x.v, 0) / samples.length;
  const perReplica = total / Math.max(current, 1);
  return decideRatio(perReplica / metric.target, current, `${metric.kind}/replica ${perReplica.toFixed(1)} (target ${metric.target})`);
}

function decideRatio(ratio: number, current: number, what: string): { replicas: number; why: string } {
  if (Math.abs(ratio - 1) <= HPA_TOLERANCE) return { replicas: current, why: `${what} within tolerance` };
  return { replicas: Math.ceil(Math.max(current, 1) * ratio), why: what };
}
