import type { ReplicaFacts } from '../../core/replica.js';
import type { AppSpec } from '../../manifest/types.js';

/**
 * How many replicas an app should run now: 0 when down; `spec.replicas` without autoscaling (or in
 * manual mode); in auto mode the autoscaler's last count, clamped to the policy's bounds. An auto
 * app the store has no count for (a new store, or one rebuilt from the runtime) starts from what
 * runs: the largest revision's running replicas, so losing the store never scales anything in.
 */
export function desiredReplicaCount(
  spec: AppSpec,
  autoscaled?: number,
  live?: readonly Pick<ReplicaFacts, 'revision' | 'running'>[],
): number {
  if (spec.state === 'down') return 0;
  const scaling = spec.scaling;
  if (!scaling || scaling.policy.mode === 'manual') return spec.replicas;
  const wanted = autoscaled ?? runningCount(live) ?? spec.replicas;
  return Math.min(scaling.maxReplicas, Math.max(scaling.minReplicas, wanted));
}

/** The running replicas of the revision with the most of them (undefined when none run). */
function runningCount(live: readonly Pick<ReplicaFacts, 'revision' | 'running'>[] | undefined): number | undefined {
  const byRevision = new Map<string, number>();
  for (const r of live ?? []) if (r.running) byRevision.set(r.revision, (byRevision.get(r.revision) ?? 0) + 1);
  return byRevision.size > 0 ? Math.max(...byRevision.values()) : undefined;
}
