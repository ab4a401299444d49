// Scale to zero's two decisions, pure: when an awake app goes to sleep (no request arrived for
// idleSeconds, none in flight or held, nothing rolling out or draining) and when a sleeping app
// wakes (a request asked for it), and with how many replicas. The ZeroController acts on them.
import type { AppActivity } from '../../core/activity.js';
import type { ScaleToZero } from '../../manifest/scale-to-zero.js';
import type { AppSpec } from '../../manifest/types.js';

export interface ZeroInput {
  settings: ScaleToZero;
  /** The app is at zero (the store says it went to sleep). */
  asleep: boolean;
  /** What nginx recorded of the app's requests; undefined when it could not be read. */
  activity: AppActivity | undefined;
  /**
   * The idle clock never starts before this: when this controller first saw the app awake, or when
   * it woke it. A restarted controller (or nginx, whose records start empty) gives an app a whole
   * idleSeconds before it may sleep.
   */
  awakeSinceMs: number;
  /** A rollout is under way: replicas of another revision still serve. */
  rollingOut: boolean;
  /** A replica of the app is draining. */
  draining: boolean;
  /**
   * Whether the load balancer can hold a request for this app if it slept now: 'unknown' while it
   * starts, or while the app's route with the hold is not yet served.
   */
  canHold: 'yes' | 'no' | 'unknown';
  now: number;
}

/** What holds an awake app up. */
export type StayAwakeReason = 'activity' | 'in-flight' | 'held' | 'rollout' | 'drain' | 'no-data' | 'cannot-hold';

export type ZeroDecision =
  | { kind: 'sleep'; idleForMs: number; reason: string }
  | { kind: 'wake'; cause: 'request' | 'cannot-hold'; requestedAtMs?: number; reason: string }
  | { kind: 'stay'; asleep: boolean; heldBy?: StayAwakeReason; reason: string };

/**
 * Decides whether the app sleeps, wakes or stays as it is.
 *
 * Promises: never puts an app to sleep while a request is held or in flight, during a rollout or a
 * drain, without a reading of its activity, when the load balancer cannot hold requests, or before
 * idleSeconds have passed since the last arrival and since `awakeSinceMs`; always wakes a sleeping
 * app that a request asked for (or whose requests could no longer be held). Same input, same answer.
 */
export function decideZero(input: ZeroInput): ZeroDecision {
  const { activity, settings, now } = input;
  if (input.asleep) {
    if (input.canHold === 'no') return { kind: 'wake', cause: 'cannot-hold', reason: 'the load balancer can no longer hold requests: the app runs again' };
    if (activity?.wakeRequestedAtMs !== undefined || (activity?.held ?? 0) > 0) {
      const requestedAtMs = activity?.wakeRequestedAtMs;
      const held = activity?.held ?? 0;
      return { kind: 'wake', cause: 'request', ...(requestedAtMs !== undefined ? { requestedAtMs } : {}), reason: `woken by a request (${held} held)` };
    }
    return { kind: 'stay', asleep: true, reason: 'scaled to zero: the next request wakes it' };
  }

  const stay = (heldBy: StayAwakeReason, reason: string): ZeroDecision => ({ kind: 'stay', asleep: false, heldBy, reason });
  if (input.canHold !== 'yes') {
    return stay('cannot-hold', input.canHold === 'no' ? 'the load balancer cannot hold requests: the app never scales to zero' : 'waiting for nginx to hold the app\'s requests (starting, or its route change not served yet)');
  }
  if (!activity) return stay('no-data', 'no reading of the app\'s requests: it does not scale to zero on missing data');
  if (activity.held > 0) return stay('held', `${activity.held} request(s) held`);
  if (activity.inFlight > 0) return stay('in-flight', `${activity.inFlight} request(s) in flight`);
  if (input.rollingOut) return stay('rollout', 'no scale to zero during a rollout');
  if (input.draining) return stay('drain', 'no scale to zero while a replica drains');
  const lastActivityMs = Math.max(activity.lastArrivalMs ?? -Infinity, input.awakeSinceMs);
  const idleForMs = now - lastActivityMs;
  const idleMs = settings.idleSeconds * 1000;
  if (idleForMs < idleMs) return stay('activity', `idle for ${seconds(idleForMs)} s of ${settings.idleSeconds} s`);
  return { kind: 'sleep', idleForMs, reason: `scaled to zero after ${seconds(idleForMs)} s idle` };
}

/**
 * How many replicas a wake starts: manual mode runs spec.replicas; an autoscaled app starts what
 * its held requests need at the policy's per-replica target (connections, else requests per
 * second: the held requests arrived within the wake), at least one, at most maxReplicas. After
 * that the autoscaler's usual rules take over, from that count like from any other.
 */
export function wakeReplicas(spec: AppSpec, held: number): number {
  const scaling = spec.scaling;
  if (!scaling || scaling.policy.mode === 'manual') return Math.max(1, spec.replicas);
  const perReplica = scaling.policy.connections?.targetPerReplica ?? scaling.policy.http?.targetRPSPerReplica;
  const wanted = perReplica === undefined ? 1 : Math.ceil(held / perReplica);
  return Math.min(scaling.maxReplicas, Math.max(1, wanted));
}

function seconds(ms: number): string {
  return (Math.floor(ms / 100) / 10).toString();
}
