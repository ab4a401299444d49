// Scale to zero, acted on: reads what nginx records of each app's requests (a long poll that ends
// as soon as a request asks for a wake), asks the pure decideZero, and puts idle apps to sleep or
// wakes them: the store's zero state and count, a scaling record, an event, a reconcile. It also
// tells held requests what to expect (why the app is not ready yet, or that it is stopped) and
// records each wake's duration once a replica serves.
import type { Logger } from 'pino';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ActivitySnapshot, AppActivity, HoldState, HoldSupport } from '../../core/activity.js';
import { isLive } from '../../core/readiness.js';
import type { LiveReplica } from '../../core/replica.js';
import { stableJson } from '../../core/stable-json.js';
import { errorMessage } from '../../errors.js';
import { routeHoldOf, scaleToZeroOf, stoppedReason } from '../../manifest/scale-to-zero.js';
import type { LoadedApp } from '../../manifest/types.js';
import { conditionIsTrue, removeCondition, setCondition } from '../../store/conditions.js';
import type { AppStatus, EventRecord } from '../../store/status-model.js';
import type { Store } from '../../store/store.js';
import { desiredReplicaCount } from '../containers/desired-replicas.js';
import { decideZero, wakeReplicas, type ZeroDecision } from './decide-zero.js';

/** The newest events of an app searched for why it does not serve. */
const REASON_EVENTS = 20;
const NO_REQUESTS: AppActivity = { inFlight: 0, held: 0, heldTotal: 0, timeouts: 0 };

/** A long poll's wait: the idle checks run at least this often. */
export const ACTIVITY_POLL_MS = 1_000;
/** Pause after a failed read, or while the load balancer cannot hold requests. */
const RETRY_MS = 1_000;
/** Hold states are sent again this often even unchanged: a restarted nginx starts without them. */
const REPUBLISH_MS = 10_000;

export interface ZeroMetrics {
  wake(app: string): void;
  wakeCompleted(app: string, durationMs: number): void;
  heldRequests(app: string, held: number, timedOut: number): void;
}

export interface ZeroControllerDeps {
  store: Store;
  logger: Logger;
  /** Every declared app at its last good spec. */
  apps: () => LoadedApp[];
  /** An app's replicas with their health and drain state now. */
  replicasOf: (app: string) => LiveReplica[];
  /** How many of the app's replicas nginx serves now. */
  servedCount: (app: string) => number;
  /**
   * Whether the live nginx config holds the app's requests (its route change is served). Until it
   * does, nginx does not record the app's arrivals: it must not sleep on that silence.
   */
  routeHolds: (app: string) => boolean;
  holdSupport: () => HoldSupport;
  /** An app went to sleep or woke: reconcile it now. */
  onChanged: (app: string) => void;
  metrics?: ZeroMetrics;
  pollWaitMs?: number;
}

export class ZeroController {
  private closed = false;
  private readonly aborter = new AbortController();
  private loop: Promise<void> | undefined;
  private seq: number | undefined;
  /** Per app: when this controller first saw it awake, or woke it (the idle clock starts no earlier). */
  private readonly awakeSince = new Map<string, number>();
  /** nginx's running totals per app, to turn them into counter increments. */
  private readonly totals = new Map<string, { heldTotal: number; timeouts: number }>();
  private last: ActivitySnapshot | undefined;
  private published: { body: string; atMs: number } | undefined;

  constructor(private readonly deps: ZeroControllerDeps) {}

  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.closed = true;
    this.aborter.abort();
    await this.loop;
  }

  /** Requests held now per app, as last read (the Prometheus gauge). */
  heldNow(): Record<string, number> {
    return Object.fromEntries(Object.entries(this.last?.apps ?? {}).filter(([, a]) => a.held > 0).map(([app, a]) => [app, a.held]));
  }

  /** nginx serves other replicas of the app now: a wake may be complete. */
  servedChanged(app: string): void {
    this.completeWake(app, Date.now());
  }

  private async run(): Promise<void> {
    while (!this.closed) {
      const support = this.deps.holdSupport();
      let snapshot: ActivitySnapshot | undefined;
      // No app asks for scale to zero: nothing to read (evaluate still forgets old sleeps).
      const wanted = this.deps.apps().some((a) => a.manifest.spec.scaling?.minReplicas === 0);
      if (support.kind === 'yes' && wanted) {
        const waitMs = this.deps.pollWaitMs ?? ACTIVITY_POLL_MS;
        // Only an app without a replica needs its wake noticed at once: nginx's side of a long poll
        // costs a timer every 25 ms, so without one a plain read a second does.
        snapshot = await support.channel.read(this.anyWithoutReplicas() ? this.seq : undefined, waitMs).catch(() => undefined);
        // A restarted nginx counts from 0 again and has forgotten every arrival: follow its count
        // down (or every poll would wait its whole time), and give every awake app a whole
        // idleSeconds from now, as if it had just started.
        if (snapshot && this.seq !== undefined && snapshot.seq < this.seq) this.restartIdleClocks(Date.now());
        this.seq = snapshot?.seq;
      }
      if (this.closed) break;
      try {
        await this.evaluate(snapshot, support, Date.now());
      } catch (err) {
        this.deps.logger.warn({ err: errorMessage(err) }, 'scale to zero: evaluation failed');
      }
      if (!wanted) await this.pause(this.deps.pollWaitMs ?? ACTIVITY_POLL_MS);
      else if (!snapshot) await this.pause(RETRY_MS);
      else if (!this.anyWithoutReplicas()) await this.pause(this.deps.pollWaitMs ?? ACTIVITY_POLL_MS);
    }
  }

  /** Every awake app counts its idle time from `now` (nginx restarted: its arrivals are gone). */
  restartIdleClocks(now: number): void {
    for (const name of this.awakeSince.keys()) this.awakeSince.set(name, now);
  }

  private pause(ms: number): Promise<void> {
    return sleep(ms, undefined, { signal: this.aborter.signal }).catch(() => undefined);
  }

  /** Whether some app that scales to zero is asleep or waking (a request may be waiting for it). */
  private anyWithoutReplicas(): boolean {
    return this.deps.apps().some((a) => {
      const zero = this.deps.store.app(a.manifest.metadata.name)?.zero;
      return scaleToZeroOf(a.manifest.spec) !== undefined && (zero?.asleepSince !== undefined || zero?.wakingSince !== undefined);
    });
  }

  /** One look at every app that scales to zero (exposed for tests). */
  async evaluate(snapshot: ActivitySnapshot | undefined, support: HoldSupport, now: number): Promise<void> {
    this.last = snapshot;
    const clears: Record<string, number> = {};
    const states: Record<string, HoldState> = {};
    for (const app of this.deps.apps()) {
      const name = app.manifest.metadata.name;
      // Read, but no record of the app: no request reached it since nginx started.
      const activity = snapshot ? (snapshot.apps[name] ?? NO_REQUESTS) : undefined;
      if (activity) this.countHeld(name, activity);
      const zero = scaleToZeroOf(app.manifest.spec);
      if (!zero) {
        this.awakeSince.delete(name);
        const stopped = stoppedReason(app.manifest.spec);
        // Told to nginx only where requests may be held for it: it scaled to zero, or its route holds.
        const mayHold = app.manifest.spec.scaling?.minReplicas === 0 || this.deps.store.app(name)?.zero !== undefined || this.deps.routeHolds(name);
        if (stopped && mayHold) states[name] = { kind: 'stop', reason: stopped };
        // Left scale to zero while asleep or waking: its requests are held until a replica serves.
        if (!stopped) this.completeWake(name, now);
        if (!stopped && support.kind === 'yes' && this.handOver(app, now)) states[name] = { kind: 'hold', reason: this.reasonOf(name) };
        else this.forgetSleep(name);
        continue;
      }
      this.recordSupport(name, support);
      // A wake's end is noted before the next decision: one that timed out may go back to sleep now.
      this.completeWake(name, now);
      this.noteWakeTimeout(app, now);
      const status = this.deps.store.app(name);
      const asleep = status?.zero?.asleepSince !== undefined;
      // nginx records an app's arrivals only once its route holds: until then its idle clock does not run.
      const routeHolds = this.deps.routeHolds(name);
      if (!asleep && (!this.awakeSince.has(name) || !routeHolds)) this.awakeSince.set(name, now);
      const replicas = this.deps.replicasOf(name);
      const decision = decideZero({
        settings: zero,
        asleep,
        activity,
        awakeSinceMs: this.awakeSince.get(name) ?? now,
        rollingOut: rollingOut(replicas, status?.containerRevision),
        draining: replicas.some((r) => r.running && r.draining),
        canHold: support.kind === 'yes' && !asleep && !routeHolds ? 'unknown' : support.kind,
        now,
      });
      this.act(app, decision, activity, now, clears);
      states[name] = { kind: 'hold', reason: this.reasonOf(name) };
    }
    if (support.kind === 'yes') await this.publish(support, states, clears, now);
  }

  private act(app: LoadedApp, decision: ZeroDecision, activity: AppActivity | undefined, now: number, clears: Record<string, number>): void {
    const { store, logger } = this.deps;
    const name = app.manifest.metadata.name;
    const spec = app.manifest.spec;
    if (decision.kind === 'stay') return;
    const from = desiredReplicaCount(spec, store.app(name));
    if (decision.kind === 'sleep') {
      store.updateApp(name, (s) => {
        s.zero = { asleepSince: new Date(now).toISOString() };
        setCondition(s.conditions, { type: 'ScaledToZero', status: 'True', reason: 'Idle', message: `${decision.reason}; the next request wakes it` });
      });
      // A wake asked for before this look (a request that timed out earlier) must not wake it again.
      clears[name] = now;
      this.awakeSince.delete(name);
      store.addScaling({ time: new Date(now).toISOString(), app: name, from, to: 0, reason: decision.reason, metrics: {} });
      store.addEvent({ app: name, type: 'Normal', reason: 'ScaledToZero', message: decision.reason });
      logger.info({ app: name, idleForMs: decision.idleForMs }, 'scaled to zero');
      this.deps.onChanged(name);
      return;
    }
    const to = wakeReplicas(spec, activity?.held ?? 0);
    const requestedAt = decision.requestedAtMs ?? now;
    store.updateApp(name, (s) => {
      if (decision.cause === 'request') s.zero = { wakingSince: new Date(Math.min(requestedAt, now)).toISOString() };
      else delete s.zero;
      if (spec.scaling?.policy.mode === 'auto') s.autoscaledReplicas = to;
      setCondition(s.conditions, { type: 'ScaledToZero', status: 'False', reason: decision.cause === 'request' ? 'WokenByRequest' : 'CannotHold', message: decision.reason });
    });
    this.awakeSince.set(name, now);
    store.addScaling({ time: new Date(now).toISOString(), app: name, from, to, reason: decision.reason, metrics: {} });
    store.addEvent({ app: name, type: decision.cause === 'request' ? 'Normal' : 'Warning', reason: decision.cause === 'request' ? 'WokenByRequest' : 'ScaleToZeroUnavailable', message: `${decision.reason}: starting ${to} replica(s)` });
    if (decision.cause === 'request') this.deps.metrics?.wake(name);
    logger.info({ app: name, to, held: activity?.held ?? 0 }, 'woken');
    this.deps.onChanged(name);
  }

  /** A waking app that nginx serves a replica of: the wake is done, and how long it took is recorded. */
  private completeWake(app: string, now: number): void {
    const waking = this.deps.store.app(app)?.zero?.wakingSince;
    if (waking === undefined || this.deps.servedCount(app) === 0) return;
    const durationMs = Math.max(0, now - Date.parse(waking));
    this.deps.store.updateApp(app, (s) => {
      delete s.zero;
      setCondition(s.conditions, { type: 'ScaledToZero', status: 'False', reason: 'Awake', message: `woken by a request; serving ${(durationMs / 1000).toFixed(2)} s after it arrived` });
    });
    this.deps.store.addEvent({ app, type: 'Normal', reason: 'WakeCompleted', message: `serving ${(durationMs / 1000).toFixed(2)} s after the first held request` });
    this.deps.metrics?.wakeCompleted(app, durationMs);
    this.deps.onChanged(app); // the phase leaves Waking
  }

  private noteWakeTimeout(app: LoadedApp, now: number): void {
    const name = app.manifest.metadata.name;
    const status = this.deps.store.app(name);
    const waking = status?.zero?.wakingSince;
    const zero = scaleToZeroOf(app.manifest.spec);
    if (waking === undefined || !zero || status?.zero?.wakeTimedOut || now - Date.parse(waking) < zero.wakeTimeoutSeconds * 1000) return;
    this.deps.store.updateApp(name, (s) => {
      if (s.zero) s.zero.wakeTimedOut = true;
    });
    this.deps.store.addEvent({ app: name, type: 'Warning', reason: 'WakeTimedOut', message: `no replica served within ${zero.wakeTimeoutSeconds} s; held requests got 503: ${this.reasonOf(name)}` });
  }

  private reasonOf(app: string): string {
    return notReadyReason(this.deps.store.app(app), this.deps.store.events({ app, limit: REASON_EVENTS }));
  }

  /**
   * An app whose manifest no longer scales to zero, still asleep or waking with no replica served:
   * it wakes like a requested wake (its route keeps holding, see routeHoldOf) and the wake
   * completes once a replica serves. False once one serves, or when it was awake.
   */
  private handOver(loaded: LoadedApp, now: number): boolean {
    const app = loaded.manifest.metadata.name;
    const zero = this.deps.store.app(app)?.zero;
    const hold = routeHoldOf(loaded.manifest.spec, true);
    if (zero === undefined || hold === undefined || this.deps.servedCount(app) > 0) return false;
    if (zero.asleepSince === undefined) {
      if (zero.wakingSince === undefined) return false;
      // No replica served within the hold's time: held requests got their 503; new ones are not held.
      if (now - Date.parse(zero.wakingSince) < hold.wakeTimeoutSeconds * 1000) return true;
      this.deps.store.addEvent({ app, type: 'Warning', reason: 'WakeTimedOut', message: `no replica served within ${hold.wakeTimeoutSeconds} s; held requests got 503: ${this.reasonOf(app)}` });
      return false;
    }
    const reason = 'scale to zero was turned off while asleep';
    this.deps.store.updateApp(app, (s) => {
      s.zero = { wakingSince: new Date(now).toISOString() };
      setCondition(s.conditions, { type: 'ScaledToZero', status: 'False', reason: 'Disabled', message: `${reason}: requests are held until a replica serves` });
    });
    this.deps.store.addEvent({ app, type: 'Normal', reason: 'WokenByChange', message: `${reason}: starting its replicas, holding requests until one serves` });
    this.deps.metrics?.wake(app);
    this.deps.logger.info({ app }, 'woken: scale to zero turned off');
    this.deps.onChanged(app);
    return true;
  }

  /** The app no longer scales to zero (manifest changed, or down): it does not stay asleep. */
  private forgetSleep(app: string): void {
    const status = this.deps.store.app(app);
    if (!status?.zero && !status?.conditions.some((c) => c.type === 'ScaledToZero' || c.type === 'ScaleToZeroUnavailable')) return;
    // Asleep: its count comes back; waking: its route lets go of the hold.
    const atZero = status.zero?.asleepSince !== undefined || status.zero?.wakingSince !== undefined;
    this.deps.store.updateApp(app, (s) => {
      delete s.zero;
      removeCondition(s.conditions, 'ScaledToZero');
      removeCondition(s.conditions, 'ScaleToZeroUnavailable');
    });
    if (atZero) this.deps.onChanged(app);
  }

  /** minReplicas 0 that the load balancer cannot hold requests for acts as 1, and says so. */
  private recordSupport(app: string, support: HoldSupport): void {
    const status = this.deps.store.app(app);
    const unavailable = support.kind === 'no';
    if (unavailable === conditionIsTrue(status?.conditions ?? [], 'ScaleToZeroUnavailable')) return;
    this.deps.store.updateApp(app, (s) => {
      if (support.kind === 'no') {
        setCondition(s.conditions, { type: 'ScaleToZeroUnavailable', status: 'True', reason: 'CannotHoldRequests', message: `${support.reason}: minReplicas 0 acts as 1` });
      } else {
        removeCondition(s.conditions, 'ScaleToZeroUnavailable');
      }
    });
  }

  private countHeld(app: string, activity: AppActivity): void {
    const before = this.totals.get(app);
    const now = { heldTotal: activity.heldTotal, timeouts: activity.timeouts };
    this.totals.set(app, now);
    // nginx's totals start over when it restarts: then everything it reports is new.
    const delta = (k: 'heldTotal' | 'timeouts') => (before === undefined ? 0 : now[k] >= before[k] ? now[k] - before[k] : now[k]);
    this.deps.metrics?.heldRequests(app, delta('heldTotal'), delta('timeouts'));
  }

  private async publish(support: Extract<HoldSupport, { kind: 'yes' }>, states: Record<string, HoldState>, clears: Record<string, number>, now: number): Promise<void> {
    const body = stableJson(states);
    const same = this.published?.body === body;
    // Nothing to tell, and nginx was told so: even a restarted nginx knows nothing else.
    if (same && body === '{}' && Object.keys(clears).length === 0) return;
    if (same && now - this.published!.atMs < REPUBLISH_MS && Object.keys(clears).length === 0) return;
    try {
      if (await support.channel.publish(states, clears)) this.published = { body, atMs: now };
    } catch (err) {
      this.deps.logger.warn({ err: errorMessage(err) }, 'scale to zero: could not tell nginx the hold states');
    }
  }
}

/** A rollout: a live replica of another revision than the one the app should run. */
function rollingOut(replicas: readonly LiveReplica[], revision: string | undefined): boolean {
  return revision !== undefined && replicas.some((r) => isLive(r) && r.revision !== revision);
}

/** Events that say why replicas do not serve (a replica removed is one that exited or failed). */
const TROUBLE = new Set(['Removed', 'ReplicaNotReady', 'ReplicaUnhealthy', 'ImagePullFailed', 'ActionFailed', 'RolloutFailed', 'EnvValueMissing']);

/**
 * What a held request that times out is told: why no replica serves yet, in one line: the ready
 * count, the failing conditions (an image that cannot be pulled, a missing value), the replicas
 * that are not ready and the newest event that says why (a replica that exited, a failed check).
 */
export function notReadyReason(status: AppStatus | undefined, events: readonly EventRecord[] = []): string {
  if (!status) return 'the controller has not looked at the app yet';
  if (status.zero?.asleepSince !== undefined) return 'the app is at zero and the controller has not started it yet';
  const parts = [`${status.replicas.ready}/${status.replicas.desired} replicas ready`];
  for (const type of ['ImagePullFailed', 'EnvValueMissing', 'RolloutFailed']) {
    const c = status.conditions.find((x) => x.type === type && x.status === 'True');
    if (c) parts.push(`${type}: ${c.message}`);
  }
  for (const i of status.instances.filter((x) => x.health !== 'ready' || x.draining).slice(0, 3)) {
    parts.push(`${i.name} is ${i.state === 'running' ? i.health : i.state}`);
  }
  const trouble = [...events].reverse().find((e) => e.type === 'Warning' || TROUBLE.has(e.reason));
  if (trouble) parts.push(`last: ${trouble.reason}: ${trouble.message}${trouble.count > 1 ? ` (${trouble.count} times)` : ''}`);
  return parts.join('; ');
}
