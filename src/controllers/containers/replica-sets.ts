import type { ContainerShape, ObservedReplica, ReplicaFacts, ReplicaHealth } from '../../core/replica.js';
import type { LoadedApp } from '../../manifest/types.js';
import type { AppStatus } from '../../store/status-model.js';
import { desiredReplicaCount } from './desired-replicas.js';
import type { DesiredReplicaSet } from './plan-containers.js';
import type { ValueSource } from '../../secrets/value-source.js';
import { resolveEnv } from './resolve-env.js';
import { containerShapeOf, revisionOf } from './revision.js';

/**
 * The planner's desired side of one app, from its manifest and what the store remembers (the
 * autoscaler's count, a halted rollout). Shared by the controller and `autoserve plan`, so both
 * plan from the same input. Throws EnvMissingError when a `valueFrom` value is not opened or not set.
 */
export function desiredReplicaSetOf(
  loaded: LoadedApp,
  stored: Pick<AppStatus, 'autoscaledReplicas' | 'haltedRevision'> | undefined,
  values: ValueSource,
): { desired: DesiredReplicaSet; shape: ContainerShape } {
  const app = loaded.manifest.metadata.name;
  const spec = loaded.manifest.spec;
  const env = resolveEnv(app, spec.env, values);
  const shape = containerShapeOf(spec, env.values);
  const revision = revisionOf({ ...shape, env: env.revisionInput });
  return {
    shape,
    desired: {
      app,
      revision,
      replicas: desiredReplicaCount(spec, stored?.autoscaledReplicas),
      maxSurge: spec.rollout.maxSurge,
      progressDeadlineMs: spec.rollout.progressDeadlineSeconds * 1000,
      haltedRevision: stored?.haltedRevision === revision ? revision : undefined,
    },
  };
}

/** The planner's view of one container: Docker's facts plus health and drain state. */
export function observedReplicaOf(f: ReplicaFacts, health: ReplicaHealth, draining: boolean): ObservedReplica {
  return {
    id: f.id,
    name: f.name,
    revision: f.revision,
    slot: f.slot,
    running: f.running,
    createdAtMs: f.createdAtMs,
    health: f.running ? health : 'starting',
    draining,
  };
}
