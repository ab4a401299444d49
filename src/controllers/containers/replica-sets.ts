import type { ContainerShape, ObservedReplica, ReplicaFacts, ReplicaHealth } from '../../core/replica.js';
import type { AppSpec, LoadedApp } from '../../manifest/types.js';
import type { AppStatus, StableRevision } from '../../store/status-model.js';
import type { ValueSource } from '../../secrets/value-source.js';
import { desiredReplicaCount } from './desired-replicas.js';
import type { DesiredReplicaSet } from './plan-containers.js';
import { resolveEnv } from './resolve-env.js';
import { containerShapeOf, revisionOf } from './revision.js';

/**
 * The planner's desired side of one app, from its manifest and what the store remembers (the
 * autoscaler's count, a halted rollout, the rollout's clock, the last revision that converged).
 * Shared by the controller and `autoserve plan`, so both plan from the same input. Throws
 * EnvMissingError when a `valueFrom` variable of the manifest is missing. `shapes` holds what a
 * create of each plannable revision needs: the desired one, and the fallback of a halted rollout.
 */
export function desiredReplicaSetOf(
  loaded: LoadedApp,
  stored: Pick<AppStatus, 'autoscaledReplicas' | 'haltedRevision' | 'rollout' | 'stable'> | undefined,
  values: ValueSource,
  live?: readonly Pick<ReplicaFacts, 'revision' | 'running'>[],
): { desired: DesiredReplicaSet; shape: ContainerShape; shapes: Map<string, ContainerShape> } {
  const app = loaded.manifest.metadata.name;
  const spec = loaded.manifest.spec;
  const { shape, revision } = shapeOf(app, spec, values);
  const shapes = new Map([[revision, shape]]);
  const halted = stored?.haltedRevision === revision;
  const fallback = halted && stored?.stable ? stableShape(app, stored.stable, values) : undefined;
  if (fallback) shapes.set(fallback.revision, fallback.shape);
  return {
    shape,
    shapes,
    desired: {
      app,
      revision,
      replicas: desiredReplicaCount(spec, stored?.autoscaledReplicas, live),
      maxSurge: spec.rollout.maxSurge,
      progressDeadlineMs: spec.rollout.progressDeadlineSeconds * 1000,
      minReadyMs: minReadySecondsOf(spec) * 1000,
      haltedRevision: halted ? revision : undefined,
      ...(fallback ? { fallbackRevision: fallback.revision } : {}),
      ...(stored?.rollout?.revision === revision ? { rollout: stored.rollout } : {}),
    },
  };
}

/**
 * The shape of the last revision that converged, when it can be made again: its env resolves
 * today to what it was (the same revision hash). Otherwise its replicas are kept, never re-made.
 */
function stableShape(app: string, stable: StableRevision, values: ValueSource): { revision: string; shape: ContainerShape } | undefined {
  try {
    const made = shapeOf(app, stable.spec, values);
    return made.revision === stable.revision ? made : undefined;
  } catch {
    return undefined; // a valueFrom it needs is gone
  }
}

/** What a replica of this spec looks like, and its revision (opened values enter it keyed, never as themselves). */
function shapeOf(app: string, spec: AppSpec, values: ValueSource): { shape: ContainerShape; revision: string } {
  const env = resolveEnv(app, spec.env, values);
  const shape = containerShapeOf(spec, env.values);
  return { shape, revision: revisionOf({ ...shape, env: env.revisionInput }) };
}

/**
 * rollout.minReadySeconds, or its default: as long as the health check needs to notice a failure
 * (failureThreshold x intervalSeconds), so a revision that passes once and then fails does not
 * retire the old one. Without a health block: 0.
 */
export function minReadySecondsOf(spec: AppSpec): number {
  return spec.rollout.minReadySeconds ?? (spec.health ? spec.health.failureThreshold * spec.health.intervalSeconds : 0);
}

/** The planner's view of one container: Docker's facts plus health and drain state. */
export function observedReplicaOf(f: ReplicaFacts, health: ReplicaHealth, draining: boolean, readySinceMs?: number): ObservedReplica {
  return {
    ...(f.running && health === 'ready' && readySinceMs !== undefined ? { readySinceMs } : {}),
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
