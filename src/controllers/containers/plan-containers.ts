// The container planner: (desired, observed, now) -> actions. Pure: no I/O, no clock of its own.
// It decides from scratch on every pass (level-triggered); the executor carries the actions out.
import type { ObservedReplica } from '../../core/replica.js';

export interface DesiredReplicaSet {
  app: string;
  revision: string;
  /** 0 when the app is down or its manifest is gone. */
  replicas: number;
  maxSurge: number;
  progressDeadlineMs: number;
  /** A rollout to this revision failed: it is not retried until the spec changes again. */
  haltedRevision?: string;
}

/** Replicas of the current revision that died young, for crash-loop backoff. */
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
  /** Nothing to do and nothing pending: every wanted replica is ready on the desired revision. */
  converged: boolean;
  /** Look again after this long even without an event (health or a backoff is pending). */
  requeueAfterMs?: number;
}

export const CRASH_BACKOFF_BASE_MS = 1_000;
export const CRASH_BACKOFF_MAX_MS = 60_000;
const WAITING_REQUEUE_MS = 1_000;

export function crashBackoffMs(failures: number): number {
  if (failures <= 0) return 0;
  return Math.min(CRASH_BACKOFF_MAX_MS, CRASH_BACKOFF_BASE_MS * 2 ** (failures - 1));
}

/** Which replicas go first when there are too many: not-ready ones, then the highest slots. */
function removalOrder(a: ObservedReplica, b: ObservedReplica): number {
  const readyA = a.health === 'ready' ? 1 : 0;
  const readyB = b.health === 'ready' ? 1 : 0;
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
  return { kind: 'remove', id: replica.id, name: replica.name, drain: replica.health === 'ready', reason };
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
    actions.push({ ...remove(r, 'replica failed its health checks'), drain: true, skipDrainWait: true });
  }
  const healthy = running.filter((r) => r.health !== 'unhealthy');
  const current = healthy.filter((r) => r.revision === desired.revision);
  const old = healthy.filter((r) => r.revision !== desired.revision);
  const wanted = desired.replicas;
  const ready = (rs: ObservedReplica[]) => rs.filter((r) => r.health === 'ready');

  const backoffLeft = crash ? crash.lastFailureAtMs + crashBackoffMs(crash.failures) - now : 0;
  const slotsTaken = observed.map((r) => r.slot);
  const create = (count: number, reason: string): boolean => {
    if (count <= 0) return false;
    if (backoffLeft > 0) return true; // wanted, but held back by the crash-loop backoff
    for (const slot of freeSlots(slotsTaken, count)) {
      actions.push({ kind: 'create', revision: desired.revision, slot, reason });
      slotsTaken.push(slot);
    }
    return false;
  };

  let heldBack = false;
  const halted = desired.haltedRevision === desired.revision && ready(old).length > 0;
  if (halted) {
    // The new revision failed: the old one keeps serving, leftovers of the new one go.
    for (const r of current) actions.push(remove(r, `rollout to ${desired.revision} was halted`));
  } else if (old.length === 0 || wanted === 0) {
    heldBack = create(wanted - current.length, `scale up to ${wanted}`);
    const surplus = [...current].sort(removalOrder).slice(0, Math.max(0, current.length - wanted));
    for (const r of surplus) actions.push(remove(r, `scale down to ${wanted}`));
    for (const r of old) actions.push(remove(r, wanted === 0 ? 'scale down to 0' : 'outdated revision'));
  } else {
    // Stuck: never passed a check. One that passed and is busy now (not-ready) is no failed rollout.
    const stuck = current.filter(
      (r) => r.health === 'starting' && now - r.createdAtMs > desired.progressDeadlineMs,
    );
    if (stuck.length > 0 && ready(old).length > 0) {
      const seconds = Math.round(desired.progressDeadlineMs / 1000);
      actions.push({
        kind: 'haltRollout',
        revision: desired.revision,
        reason: `${stuck.length} replica(s) of revision ${desired.revision} not ready within ${seconds}s`,
      });
      for (const r of current) actions.push(remove(r, 'rollout halted'));
      return { actions, converged: false };
    }
    // Surge: never more than wanted + maxSurge live replicas, never more than wanted new ones.
    const room = Math.min(wanted - current.length, wanted + desired.maxSurge - (current.length + old.length));
    heldBack = create(room, `roll out revision ${desired.revision}`);
    // An old replica goes only when enough new ones are ready to keep `wanted` serving.
    for (const r of old.filter((r) => r.health !== 'ready')) actions.push(remove(r, 'outdated revision, not ready'));
    const oldReady = ready(old).sort(removalOrder);
    const removable = Math.max(0, ready(current).length + oldReady.length - wanted);
    for (const r of oldReady.slice(0, removable)) actions.push(remove(r, `replaced by revision ${desired.revision}`));
  }

  const draining = observed.some((r) => r.draining);
  const settled = halted
    ? current.length === 0
    : old.length === 0 && current.length === wanted && ready(current).length === wanted;
  const converged = actions.length === 0 && !heldBack && !draining && settled;
  if (converged) return { actions, converged };
  const requeueAfterMs = heldBack ? Math.max(backoffLeft, 50) : WAITING_REQUEUE_MS;
  return { actions, converged: false, requeueAfterMs };
}
