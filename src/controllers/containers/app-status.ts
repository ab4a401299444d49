// An app's status after one container pass, as data: a pure function of the status before, what
// the pass observed and what it did. The controller writes the result once per pass, with the pass's
// events beside it (controller-runtime's way), so table tests check status and events directly.
import { stableJson } from '../../core/stable-json.js';
import { ReconcileError, errorMessage } from '../../errors.js';
import type { LoadedApp } from '../../manifest/types.js';
import { conditionIsTrue, removeCondition, setCondition } from '../../store/conditions.js';
import type { AppStatus, InstanceStatus, ScalingRecord } from '../../store/status-model.js';
import type { EventInput } from '../../store/store.js';
import type { ExecuteResult } from './container-executor.js';
import type { ContainerPlan } from './plan-containers.js';

/** A replica whose task was still running on a node that is now down (Swarm). */
export interface LostReplica {
  replica: string;
  node: string;
  nodeId: string;
  taskId: string;
}

/**
 * Why a replica could not be created, each also the type of a condition that holds until one is:
 * its image cannot be had, its network cannot be had, or the runtime cannot do what the shape asks.
 */
const CREATE_BLOCKED = new Set(['ImagePullFailed', 'NetworkUnavailable', 'UnsupportedByRuntime']);

/** What a pass saw of the app's replicas. */
export interface ObservedCounts {
  instances: InstanceStatus[];
  /** Replicas running and not draining (core/readiness isLive). */
  live: number;
  /** Of those, serving (core/readiness isServing). */
  serving: number;
  /** Of those, on the desired revision (0 when it is not known: a stalled pass). */
  updated: number;
}

/** What one pass saw and did. */
export type PassOutcome =
  | ({
      kind: 'stalled';
      loaded: LoadedApp;
      /** Why nothing can be planned until the input changes (e.g. a missing env value). */
      error: ReconcileError;
    } & ObservedCounts)
  | ({
      kind: 'executed';
      loaded: LoadedApp;
      revision: string;
      /** Desired replica count. */
      replicas: number;
      plan: ContainerPlan;
      result: ExecuteResult;
      /** The revision whose rollout is halted after this pass, if any. */
      halted?: string;
      /** Replicas were changed outside AutoServe since the app last converged. */
      drift?: { created: number; removed: number };
      /** A standby's pass: it planned but acted on nothing; the leader acts. */
      following?: boolean;
      /** Replicas that lost their task with a node that is down. */
      lost?: LostReplica[];
      /** Of those, the ones not reported by an earlier pass. */
      newlyLost?: LostReplica[];
    } & ObservedCounts);

/** The status after the pass. `before` is not changed. */
export function statusAfterPass(before: AppStatus, outcome: PassOutcome, now = new Date()): AppStatus {
  const status = structuredClone(before);
  adoptSpec(status, outcome.loaded);
  status.observedGeneration = status.generation;
  if (outcome.kind === 'stalled') {
    // Nothing is planned, nothing is touched: what runs keeps serving, and the status says so.
    const { error, serving, instances } = outcome;
    setCondition(status.conditions, { type: error.reason, status: 'True', reason: error.reason, message: error.message }, now);
    setCondition(status.conditions, { type: 'Ready', status: 'False', reason: error.reason, message: `${error.message}; ${serving} replica(s) of the last good revision still serve` }, now);
    status.replicas = { desired: status.replicas.desired, ready: serving, updated: 0 };
    status.instances = instances;
    status.phase = serving > 0 ? 'Degraded' : 'Failed';
    return status;
  }

  const { plan, result, revision, replicas, serving: ready, updated, live } = outcome;
  const spec = outcome.loaded.manifest.spec;
  status.containerRevision = revision;
  const haltedNow = result.haltedRevision ?? outcome.halted ?? (status.haltedRevision === revision ? revision : undefined);
  if (haltedNow) status.haltedRevision = haltedNow;
  else delete status.haltedRevision;
  if (plan.rollout) status.rollout = plan.rollout;
  else delete status.rollout;
  if (plan.converged && status.haltedRevision !== revision && replicas > 0) status.stable = { revision, spec };
  // The autoscaler's count lives only while the app is autoscaled: back in auto mode after manual,
  // it starts from the count that runs (never from a stale one), and a count lost with the store is
  // taken from what runs.
  if (spec.scaling?.policy.mode === 'auto') {
    if (status.autoscaledReplicas === undefined && spec.state === 'up') status.autoscaledReplicas = replicas;
  } else {
    delete status.autoscaledReplicas;
  }
  status.replicas = { desired: replicas, ready, updated };
  status.instances = outcome.instances;
  // A standby remembers the count the leader runs, so a takeover goes on from it instead of from
  // the manifest's (too many rather than too few: a surge or a drain counts in).
  if (outcome.following && outcome.loaded.manifest.spec.scaling?.policy.mode === 'auto') status.autoscaledReplicas = live;
  const lost = outcome.lost ?? [];
  if (lost.length > 0) {
    setCondition(status.conditions, { type: 'NodeLost', status: 'True', reason: 'NodeDown', message: lostMessage(lost) }, now);
  } else {
    removeCondition(status.conditions, 'NodeLost');
  }

  // Each reason a replica could not be created is a condition of its own, until one is created.
  const createErrors = new Map<string, ReconcileError>();
  for (const e of result.errors) if (e instanceof ReconcileError && CREATE_BLOCKED.has(e.reason) && !createErrors.has(e.reason)) createErrors.set(e.reason, e);
  for (const reason of CREATE_BLOCKED) {
    const error = createErrors.get(reason);
    if (error) setCondition(status.conditions, { type: reason, status: 'True', reason, message: error.message }, now);
    else if (result.created.length > 0 || plan.converged) removeCondition(status.conditions, reason);
  }
  const createError = [...createErrors.values()][0];
  removeCondition(status.conditions, 'EnvValueMissing');
  const halted = status.haltedRevision === revision;
  const haltAction = plan.actions.find((a) => a.kind === 'haltRollout');
  if (haltAction) {
    setCondition(status.conditions, { type: 'RolloutFailed', status: 'True', reason: 'ProgressDeadlineExceeded', message: haltAction.reason }, now);
  } else if (halted && !conditionIsTrue(status.conditions, 'RolloutFailed')) {
    // A halt the store forgot (it was rebuilt) and the runtime's marker remembers.
    setCondition(status.conditions, { type: 'RolloutFailed', status: 'True', reason: 'ProgressDeadlineExceeded', message: `the rollout to revision ${revision} was halted earlier (recorded in the runtime); it is not retried until the spec changes` }, now);
  } else if (!halted) {
    removeCondition(status.conditions, 'RolloutFailed'); // a new revision resumes
  }
  const progressing = !plan.converged && !halted;
  const pulling = result.pullingImage;
  setCondition(
    status.conditions,
    {
      type: 'Progressing',
      status: progressing ? 'True' : 'False',
      reason: pulling ? 'PullingImage' : progressing ? 'ReplicasChanging' : halted ? 'RolloutHalted' : 'Converged',
      message: pulling
        ? `pulling image ${pulling.image} since ${new Date(pulling.sinceMs).toISOString()}; ${ready}/${replicas} replicas ready`
        : `${updated}/${replicas} replicas on revision ${revision}, ${ready} ready`,
    },
    now,
  );
  const isReady = ready >= replicas && (replicas > 0 || live === 0);
  setCondition(
    status.conditions,
    {
      type: 'Ready',
      status: isReady ? 'True' : 'False',
      reason: isReady ? 'ReplicasReady' : (createError?.reason ?? (pulling ? 'PullingImage' : 'ReplicasNotReady')),
      message: `${ready}/${replicas} replicas ready`,
    },
    now,
  );
  const serving = plan.converged && ready >= replicas;
  status.phase = phaseOf(status, { ready, wanted: replicas, converged: serving, halted, failed: !!createError, live });
  return status;
}

/** The events of a pass, in the order they happened. */
export function passEvents(app: string, outcome: PassOutcome): EventInput[] {
  if (outcome.kind === 'stalled') return [{ app, type: 'Warning', reason: outcome.error.reason, message: outcome.error.message }];
  const events: EventInput[] = [];
  for (const group of byNode(outcome.newlyLost ?? [])) {
    events.push({ app, type: 'Warning', reason: 'ReplicasLostWithNode', message: `${lostMessage(group)}; Swarm runs them elsewhere` });
  }
  const { drift, plan, result } = outcome;
  if (drift) {
    const what = drift.created ? `recreating ${drift.created} missing` : `removing ${drift.removed} extra`;
    events.push({ app, type: 'Warning', reason: 'DriftCorrected', message: `replicas were changed outside AutoServe; ${what} to match the manifest` });
  }
  for (const action of plan.actions) {
    if (action.kind === 'create') continue; // reported below, once per pass
    events.push({
      app,
      type: action.kind === 'haltRollout' ? 'Warning' : 'Normal',
      reason: action.kind === 'haltRollout' ? 'RolloutFailed' : action.drain ? 'Draining' : 'Removed',
      message: action.kind === 'haltRollout' ? action.reason : `${action.name}: ${action.reason}`,
    });
  }
  if (result.pullingImage) {
    events.push({ app, type: 'Normal', reason: 'PullingImage', message: `image ${result.pullingImage.image} is not present; pulling it (replicas are created once it is)` });
  }
  if (result.created.length > 0) {
    const reason = plan.actions.find((a) => a.kind === 'create')?.reason ?? 'create';
    events.push({ app, type: 'Normal', reason: 'Created', message: `${reason}: started ${result.created.join(', ')}` });
  }
  for (const err of result.errors) {
    events.push({ app, type: 'Warning', reason: err instanceof ReconcileError ? err.reason : 'ActionFailed', message: errorMessage(err) });
  }
  return events;
}

/** "node n1 is down: replica(s) a, b ran there", one clause per node. */
function lostMessage(lost: readonly LostReplica[]): string {
  return byNode(lost)
    .map((group) => `node ${group[0]!.node} (${group[0]!.nodeId.slice(0, 12)}) is down: ${group.map((l) => l.replica).join(', ')} ran there`)
    .join('; ');
}

function byNode(lost: readonly LostReplica[]): LostReplica[][] {
  const groups = new Map<string, LostReplica[]>();
  for (const l of lost) groups.set(l.nodeId, [...(groups.get(l.nodeId) ?? []), l]);
  return [...groups.values()];
}

/**
 * The scaling record of a pass that gave an app running replicas its autoscaled count (back in auto
 * mode after manual, or a store that lost the count): a change of who sets the count, so the
 * autoscaler's cooldown runs from it. A new app (nothing runs yet) starts without one.
 */
export function autoscalingStart(app: string, before: number | undefined, after: number | undefined, live: number, now = new Date()): ScalingRecord | undefined {
  if (before !== undefined || after === undefined || live === 0) return undefined;
  return { time: now.toISOString(), app, from: after, to: after, reason: `autoscaling starts from the ${after} replica(s) that run`, metrics: {} };
}

/** Takes the loaded spec as the applied one, bumping the generation when it changed. */
function adoptSpec(status: AppStatus, loaded: LoadedApp): void {
  if (stableJson(status.spec) !== stableJson(loaded.manifest.spec)) {
    status.spec = loaded.manifest.spec;
    status.generation += 1;
  }
  status.file = loaded.file;
}

function phaseOf(
  status: AppStatus,
  s: { ready: number; wanted: number; converged: boolean; halted: boolean; failed: boolean; live: number },
): AppStatus['phase'] {
  if (status.spec?.state === 'down') return s.live === 0 ? 'Stopped' : 'Progressing';
  if (s.failed) return s.ready > 0 ? 'Degraded' : 'Failed';
  // RouteConflict counts for the app that lost the route, not for the one holding it.
  const lostRoute = status.conditions.some((c) => c.type === 'RouteConflict' && c.status === 'True' && c.reason === 'HostPathClaimed');
  if (s.halted || lostRoute || conditionIsTrue(status.conditions, 'ManifestInvalid') || conditionIsTrue(status.conditions, 'RouteDegraded')) {
    return s.ready > 0 ? 'Degraded' : 'Failed';
  }
  // Scale to zero: asleep once the last replica is gone; waking until one serves.
  if (status.zero?.asleepSince !== undefined && s.wanted === 0) return s.live === 0 ? 'ScaledToZero' : 'Progressing';
  if (status.zero?.wakingSince !== undefined && s.ready === 0) return 'Waking';
  if (s.converged) return 'Running';
  return 'Progressing';
}
