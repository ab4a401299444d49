import type { AppSpec } from '../../manifest/types.js';

/**
 * How many replicas an app should run now: 0 when down; the autoscaler's choice (clamped to the
 * policy's bounds) in auto mode; `spec.replicas` otherwise.
 */
export function desiredReplicaCount(spec: AppSpec, autoscaled?: number): number {
  if (spec.state === 'down') return 0;
  const scaling = spec.scaling;
  if (!scaling || scaling.policy.mode === 'manual') return spec.replicas;
  const wanted = autoscaled ?? spec.replicas;
  return Math.min(scaling.maxReplicas, Math.max(scaling.minReplicas, wanted));
}
