// The container planner: (desired, observed, now) -> actions. Pure: no I/O, no clock of its own.
// It decides from scratch on every pass (level-triggered); the executor carries the actions out.
//
// What a plan never does (checked by properties in test/unit/controllers/plan-properties.test.ts):
// - create beyond `replicas + maxSurge` live replicas;
// - remove the last ready replica while `replicas > 0`, nor (outside a halted revision) let the
//   ready count fall below what it was or `replicas`, whichever is less;
// - undo itself: applied to a healthy world and planned again, it converges without removing a
//   replica it created.
import type { ObservedReplica } from '../../core/replica.js';
import type { RolloutProgress } from '../../store/status-model.js';

export type { RolloutProgress };

export interface DesiredReplicaSet {
  app: string;
  revision: string;
  /** 0 when the app is down or its manifest is gone. */
  replicas: number;
  maxSurge: number;
  progressDeadlineMs: number;
  /** A new replica counts as available (it may retire an old one; it is progress) once ready this long. */
  minReadyMs: number;
  /** A rollout to this revision failed: it is not retried until the spec changes again. */
  haltedRevision?: string;
  /**
   * The revision that serves while a rollout is halted, when replicas of it can be created (its
   * spec is remembered): dead ones are replaced and the count follows `replicas`.
   */
  fallbackRevision?: string;
  /** The rollout under way, as the last pass left it (the store keeps it across restarts). */
  rollout?: RolloutProgress;
}

/** Replicas of the revision being created that died young, for crash-loop backoff. */
export interface CrashRecord {
  failures: number;
  lastFailureAtMs: number;
}

export type ContainerAction =
  | { kind: 'create'; revision: string; slot: number; reason: string }
  /**
   * drain: leave the upstream first (then wait drainSeconds, SIGTERM, remove); skipDrainWait: leave
   * the upstream, but do not wait out drainSeconds (a replica failing its checks).
   */
  | { kind: 'remove'; id: string; name: string; drain: boolean; skipDrainWait?: boolean; reason: string }
  | { kind: 'haltRollout'; revision: string; reason: string };

export interface ContainerPlan {
  actions: ContainerAction[];
  /** Nothing to do and nothing pending: every wanted replica is ready on the revision that should serve. */
  converged: boolean;
  /** Look again after this long even without an event (health or a backoff is pending). */
  requeueAfterMs?: number;
  /** The rollout under way after this plan (undefined: none), for the next pass. */
  rollout?: RolloutProgress;
}

export const CRASH_BACKOFF_BASE_MS = 1_000;
export const CRASH_BACKOFF_MAX_MS = 60_000;
const WAITING_REQUEUE_MS = 1_000;

export function crashBackoffMs(failures: number): number {
  if (failures <= 0) return 0;
  return Math.min(CRASH_BACKOFF_MAX_MS, CRASH_BACKOFF_BASE_MS * 2 ** (failures - 1));
}

const isReady = (r: ObservedReplica) => r.health === 'ready';

/** Which replicas go first when there are too many: not-ready ones, then the highest slots. */
function removalOrder(a: ObservedReplica, b: ObservedReplica): number {
  const readyA = isReady(a) ? 1 : 0;
  const readyB = isReady(b) ? 1 : 0;
  if (readyA !== readyB) return readyA - readyB;
  return b.slot - a.slot;
}

function freeSlots(taken: Iterable<number>, count: number): number[] {
  const used = new Set(taken);
  const slots: number[] = [];
  for (let slot = 0; slots.length < count; slot++) if (!used.has(slot)) slots.push(slot);
  return slots;
}

type RemoveAction = Extract<ContainerAction, { kind: 'remove' }>;

function remove(replica: ObservedReplica, reason: string): RemoveAction {
  // Only a replica that may be in the upstream needs to drain.
  return { kind: 'remove', id: replica.id, name: replica.name, drain: isReady(replica), reason };
}

export function planContainers(
  desired: DesiredReplicaSet,
  observed: ObservedReplica[],
  now: number,
  crash?: CrashRecord,
): ContainerPlan {
  const actions: ContainerAction[] = [];
  const live = observed.filter((r) => !r.draining);

  for (const r of live.filter((r) => !r.running)) actions.push({ ...remove(r, 'replica exited'), drain: false });
  const running = live.filter((r) => r.running);
  for (const r of running.filter((r) => r.health === 'unhealthy')) {
    // It may still be in nginx until the route sync lands: leave the upstream first, without waiting.
    actions.push({ ...remove(r, 'replica kept failing its health checks (liveness)'), drain: true, skipDrainWait: true });
  }
  const healthy = running.filter((r) => r.health !== 'unhealthy');
  const current = healthy.filter((r) => r.revision === desired.revision);
  const old = healthy.filter((r) => r.revision !== desired.revision);
  const wanted = desired.replicas;
  const ready = (rs: ObservedReplica[]) => rs.filter(isReady);
  const available = (r: ObservedReplica) => isReady(r) && now - (r.readySinceMs ?? now) >= desired.minReadyMs;

  const backoffLeft = crash ? crash.lastFailureAtMs + crashBackoffMs(crash.failures) - now : 0;
  const slotsTaken = observed.map((r) => r.slot);
  const create = (count: number, reason: string, revision = desired.revision): boolean => {
    if (count <= 0) return false;
    if (backoffLeft > 0) return true; // wanted, but held back by the crash-loop backoff
    for (const slot of freeSlots(slotsTaken, count)) {
      actions.push({ kind: 'create', revision, slot, reason });
      slotsTaken.push(slot);
    }
    return false;
  };
  /**
   * Removes the replicas of a failed revision, but while nothing else is ready to serve (and some
   * replica is wanted) keeps one ready one of it, the lowest slot. Returns how many stay for now.
   */
  const removeHalted = (serving: ObservedReplica[], reason: string): number => {
    const keepOne = ready(serving).length === 0 && wanted > 0;
    const kept = keepOne ? ready(current).sort((a, b) => a.slot - b.slot)[0] : undefined;
    for (const r of current) if (r !== kept) actions.push(remove(r, reason));
    return kept ? 1 : 0;
  };

  const fallback = desired.fallbackRevision !== desired.revision ? desired.fallbackRevision : undefined;
  const halted = desired.haltedRevision === desired.revision && (old.length > 0 || fallback !== undefined);
  let heldBack = false;
  let rollout: RolloutProgress | undefined;
  if (halted) {
    // The new revision failed: the others serve at the wanted count, its leftovers go.
    const staying = removeHalted(old, `rollout to ${desired.revision} was halted`);
    if (fallback !== undefined) {
      const room = Math.min(wanted - old.length, wanted + desired.maxSurge - (old.length + staying));
      heldBack = create(room, `keep revision ${fallback} at ${wanted} while the rollout to ${desired.revision} is halted`, fallback);
    }
    // Not-ready ones first, then those of neither the fallback nor the halted revision.
    const surplus = [...old].sort((a, b) => Number(isReady(a)) - Number(isReady(b)) || Number(a.revision === fallback) - Number(b.revision === fallback) || removalOrder(a, b));
    for (const r of surplus.slice(0, Math.max(0, old.length - wanted))) actions.push(remove(r, `scale down to ${wanted}`));
  } else if (old.length === 0 || wanted === 0) {
    heldBack = create(wanted - current.length, `scale up to ${wanted}`);
    const surplus = [...current].sort(removalOrder).slice(0, Math.max(0, current.length - wanted));
    for (const r of surplus) actions.push(remove(r, `scale down to ${wanted}`));
    for (const r of old) actions.push(remove(r, 'scale down to 0'));
  } else {
    const previous = desired.rollout?.revision === desired.revision ? desired.rollout : undefined;
    rollout = previous ?? { revision: desired.revision, startedAtMs: now, progressAtMs: now, available: 0 };
    const availableNow = current.filter(available).length;
    if (availableNow > rollout.available) rollout = { ...rollout, available: availableNow, progressAtMs: now };
    const overdue = now - rollout.progressAtMs > desired.progressDeadlineMs;
    if (overdue && (ready(old).length > 0 || fallback !== undefined)) {
      const seconds = Math.round(desired.progressDeadlineMs / 1000);
      actions.push({
        kind: 'haltRollout',
        revision: desired.revision,
        reason: `rollout to revision ${desired.revision} made no progress for ${seconds}s (${rollout.available}/${wanted} replicas available at best)`,
      });
      removeHalted(old, 'rollout halted');
      return { actions, converged: false, requeueAfterMs: WAITING_REQUEUE_MS };
    }
    // Surge: never more than wanted + maxSurge live replicas, never more than wanted new ones.
    const room = Math.min(wanted - current.length, wanted + desired.maxSurge - (current.length + old.length));
    heldBack = create(room, `roll out revision ${desired.revision}`);
    // Old replicas out of rotation (starting or failing: it may only be that their first check is
    // still to come, or that they are busy) go once `wanted` serve without them; a ready old one
    // goes only when enough new ones are available to keep `wanted` serving.
    const serving = availableNow + ready(old).length;
    if (serving >= wanted) for (const r of old.filter((r) => !isReady(r))) actions.push(remove(r, `outdated revision, not ready`));
    const retirable = ready(old).sort(removalOrder);
    for (const r of retirable.slice(0, Math.max(0, serving - wanted))) actions.push(remove(r, `replaced by revision ${desired.revision}`));
  }

  const draining = observed.some((r) => r.draining);
  const settled = halted
    ? current.length === 0 && old.length === wanted && ready(old).length === wanted
    : old.length === 0 && current.length === wanted && ready(current).length === wanted;
  const converged = actions.length === 0 && !heldBack && !draining && settled;
  if (converged) return { actions, converged };
  const requeueAfterMs = heldBack ? Math.max(backoffLeft, 50) : WAITING_REQUEUE_MS;
  return { actions, converged: false, requeueAfterMs, ...(rollout ? { rollout } : {}) };
}
