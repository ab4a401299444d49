import { scaleToZeroOf } from '../../manifest/scale-to-zero.js';
import type { AppSpec } from '../../manifest/types.js';
import type { AppStatus } from '../../store/status-model.js';

/** What the store remembers that sets an app's count: the autoscaler's choice and sleep. */
export type StoredCount = Pick<AppStatus, 'autoscaledReplicas' | 'zero'>;

/**
 * How many replicas an app should run now: 0 when down or asleep (scaled to zero, while its
 * manifest still allows it); the autoscaler's choice (clamped to the policy's bounds) in auto
 * mode; `spec.replicas` otherwise.
 */
export function desiredReplicaCount(spec: AppSpec, stored?: StoredCount): number {
  if (spec.state === 'down') return 0;
  if (stored?.zero?.asleepSince !== undefined && scaleToZeroOf(spec)) return 0;
  const scaling = spec.scaling;
  if (!scaling || scaling.policy.mode === 'manual') return spec.replicas;
  const wanted = stored?.autoscaledReplicas ?? spec.replicas;
  return Math.min(scaling.maxReplicas, Math.max(scaling.minReplicas, wanted));
}
