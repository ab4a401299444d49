import type { Logger } from 'pino';
import { addressKey, healthPort, isLive, isServing, trafficPort } from '../../core/readiness.js';
import type { Address, LiveReplica, ObservedReplica, ReplicaFacts, ReplicaHealth } from '../../core/replica.js';
import { stableJson } from '../../core/stable-json.js';
import { ReconcileError, errorMessage } from '../../errors.js';
import type { ValueSource } from '../../secrets/value-source.js';
import type { LoadedApp } from '../../manifest/types.js';
import type { ReconcileResult, Reconciler } from '../../reconcile/reconciler.js';
import type { AppStatus, InstanceStatus } from '../../store/status-model.js';
import type { Store } from '../../store/store.js';
import type { HealthChange, HealthProber, ProbeFailure } from '../../observe/health-prober.js';
import type { ContainerRuntime } from '../../runtime/runtime.js';
import { autoscalingStart, passEvents, statusAfterPass, type ObservedCounts, type PassOutcome } from './app-status.js';
import type { ContainerExecutor } from './container-executor.js';
import type { Drainer } from './drainer.js';
import { splitHaltMarkers, syncHaltMarker, withMarkedHalt } from './halt-marker.js';
import { planContainers, type ContainerPlan, type CrashRecord } from './plan-containers.js';
import { desiredReplicaSetOf, observedReplicaOf } from './replica-sets.js';

/** How long a whole-host listing taken at resync may stand in for each app's own listing. */
const SNAPSHOT_TTL_MS = 1_000;
/** How long a pass waits for a replica's first health check before planning without it. */
const FIRST_CHECK_WAIT_MS = 3_000;
/** A replica that dies sooner than this after creation counts toward crash-loop backoff. */
const CRASH_WINDOW_MS = 30_000;

export interface DesiredSource {
  get(name: string): LoadedApp | undefined;
  /** Whether replicas of an app the source does not hold may be removed now (manifest/desired-state). */
  mayPrune(name: string): boolean;
}

export interface ContainerControllerDeps {
  runtime: Pick<ContainerRuntime, 'list' | 'inspect' | 'remove' | 'create' | 'pruneNetworks'>;
  store: Store;
  desired: DesiredSource;
  prober: HealthProber;
  drainer: Drainer;
  executor: ContainerExecutor;
  /** Which controller instance's containers these are (label autoserve.instance). */
  instance: string;
  logger: Logger;
  /** Where `valueFrom` env values come from: what the operator opened to apps. */
  values: ValueSource;
  /** Extra labels on every container this controller creates (tests mark theirs). */
  labels?: Record<string, string>;
  /**
   * Whether this controller may act now. A controller that may not (a standby on a Swarm) still
   * observes, plans and records what it sees, and carries nothing out. Absent: always.
   */
  mayAct?: () => boolean;
  /** Called after every pass that may have changed who should receive traffic. */
  onReplicasChanged?: (app: string) => void;
  /**
   * Whether the load balancer already routes to this traffic address. Ready in the status means
   * "serving" (core/readiness). Absent: no load balancer, health alone decides.
   */
  isRouted?: (app: string, address: Address | undefined) => boolean;
}

/** The event of each health flip, by the health it flipped to. */
const HEALTH_EVENTS: Record<ReplicaHealth, { reason: string; type: 'Normal' | 'Warning'; what: string }> = {
  ready: { reason: 'ReplicaReady', type: 'Normal', what: 'in rotation' },
  'not-ready': { reason: 'ReplicaNotReady', type: 'Warning', what: 'out of rotation until it passes again' },
  unhealthy: { reason: 'ReplicaUnhealthy', type: 'Warning', what: 'replacing it' },
  starting: { reason: 'ReplicaStarting', type: 'Normal', what: 'waiting for its first pass' },
};

/**
 * Reconciles one app's containers: observe (runtime + health + drains), plan, execute, record status.
 * The latest observation of each app is kept for the routing table.
 */
export class ContainerController implements Reconciler {
  private readonly observed = new Map<string, ReplicaFacts[]>();
  private readonly crashes = new Map<string, CrashRecord>();

  /**
   * Per app, the ports and checks of its recent revisions, as each was declared when it was the
   * one asked for: a rollout's old replicas are checked and routed as their own revision says (a
   * new health path or port is the new revision's, not theirs). Kept for the revisions that run;
   * after a restart the store's last converged revision stands in (probeOf).
   */
  private readonly revisionProbes = new Map<string, Map<string, RevisionProbe>>();
  private snapshot: { takenAt: number; byApp: Map<string, ReplicaFacts[]> } | undefined;
  private epoch = 0;
  /** The whole-host listing in flight: a resync shares it rather than stacking another. */
  private listingAll: Promise<string[]> | undefined;
  /** Apps whose next pass sees replicas that died while the runtime was away: not crashes. */
  private readonly outageSeen = new Set<string>();
  /** What each app last converged to (spec, count, revision), to tell drift from a requested change. */
  private readonly convergedAt = new Map<string, string>();
  /** The revision at which each app's unused networks were last pruned (once per convergence). */
  private readonly networksPrunedAt = new Map<string, string>();
  /** Per app, the tasks already reported as lost with their node (one event each). */
  private readonly reportedLost = new Map<string, Set<string>>();

  constructor(private readonly deps: ContainerControllerDeps) {}

  /**
   * For a resync: lists every replica once and returns the apps the runtime runs. The listing then
   * stands in for each app's own, so a resync of N apps costs one runtime call, not N; it is used
   * only while fresh and until anything changes (a runtime event, or an action of ours), so each
   * pass still sees a whole, current observation. A failed listing is logged and names no app.
   */
  observeAll(): Promise<string[]> {
    // At most one whole-host listing at a time: a hung runtime never piles them up.
    this.listingAll ??= this.listAll().finally(() => (this.listingAll = undefined));
    return this.listingAll;
  }

  /**
   * The runtime was away and is back (its event stream reconnected): replicas that exited
   * meanwhile were most likely stopped by the engine's restart, so the next pass of each app
   * replaces them at once instead of counting them toward crash-loop backoff.
   */
  runtimeRecovered(): void {
    this.crashes.clear();
    for (const app of this.observed.keys()) this.outageSeen.add(app);
    this.invalidate();
  }

  private async listAll(): Promise<string[]> {
    const epoch = this.epoch;
    let all: ReplicaFacts[];
    try {
      all = await this.deps.runtime.list({ instance: this.deps.instance });
    } catch (err) {
      this.deps.logger.warn({ err: errorMessage(err) }, 'resync could not list containers');
      return [];
    }
    // A change since the listing started (an action, an event) makes it stale before it is used.
    if (epoch === this.epoch) {
      const byApp = new Map<string, ReplicaFacts[]>();
      for (const c of all) byApp.set(c.app, [...(byApp.get(c.app) ?? []), c]);
      this.snapshot = { takenAt: Date.now(), byApp };
    }
    return all.map((c) => c.app);
  }

  /** Something changed in the runtime (an event): the next pass lists afresh. */
  invalidate(): void {
    this.epoch += 1;
    this.snapshot = undefined;
  }

  /** A replica that is gone (drained and removed): out of the routing view at once, not at the next pass. */
  forget(app: string, id: string): void {
    this.deps.prober.forget(id);
    this.invalidate();
    const facts = this.observed.get(app);
    if (facts) this.observed.set(app, facts.filter((f) => f.id !== id));
  }

  private async observe(app: string, signal?: AbortSignal): Promise<ReplicaFacts[]> {
    const snapshot = this.snapshot;
    if (snapshot && Date.now() - snapshot.takenAt < SNAPSHOT_TTL_MS) return snapshot.byApp.get(app) ?? [];
    return this.deps.runtime.list({ instance: this.deps.instance, app }, { signal });
  }

  /**
   * Whether every one of these apps has been observed since start and each of its running replicas
   * has had its first probe: until then, "starting" may only mean "not probed yet" (routes warm-up).
   */
  healthKnown(apps: readonly string[]): boolean {
    return apps.every((app) => this.observed.has(app) && this.containersOf(app).every((c) => !c.running || this.deps.prober.hasResult(c.id)));
  }

  /** A replica's health flipped: recorded as an event, and who receives traffic may change now. */
  healthChanged(change: HealthChange): void {
    const { app, name } = change.target;
    const { reason, type, what } = HEALTH_EVENTS[change.to];
    this.deps.store.addEvent({ app, type, reason, message: `${name}: ${change.from} -> ${change.to} (${change.detail}); ${what}` });
    this.deps.onReplicasChanged?.(app); // in or out of the upstream at once, not at the next pass
  }

  /** A failed check, reported at once with the probe's result (repeats collapse into a count). */
  probeFailed(failure: ProbeFailure): void {
    const { app, name } = failure.target;
    this.deps.store.addEvent({ app, type: 'Warning', reason: 'ProbeFailed', message: `${name}: health check failed: ${failure.detail}` });
  }

  /** The containers last seen for an app (for routes and the status endpoint). */
  containersOf(app: string): ReplicaFacts[] {
    return this.observed.get(app) ?? [];
  }

  /** The replicas last seen for an app with their health and drain state as of now (routes, autoscaler). */
  replicasOf(app: string): LiveReplica[] {
    const spec = this.deps.desired.get(app)?.manifest.spec;
    return this.containersOf(app).map((f) => ({
      ...f,
      health: this.deps.prober.health(f.id),
      draining: this.deps.drainer.isDraining(f.id),
      ...(spec ? { trafficPort: this.probeOf(app, f.revision, spec).trafficPort } : {}),
    }));
  }

  /**
   * A revision's own ports and checks: as remembered from when it was asked for, else as the store
   * keeps the last converged revision's spec (a controller restarted mid-rollout or halted), else
   * the current spec's.
   */
  private probeOf(app: string, revision: string, spec: LoadedApp['manifest']['spec']): RevisionProbe {
    const remembered = this.revisionProbes.get(app)?.get(revision);
    if (remembered) return remembered;
    const stable = this.deps.store.app(app)?.stable;
    return revisionProbeOf(stable?.revision === revision ? stable.spec : spec);
  }

  /** Remembers the asked-for revision's ports and checks; forgets revisions no replica runs any more. */
  private rememberRevision(app: string, revision: string, spec: LoadedApp['manifest']['spec'], facts: readonly ReplicaFacts[]): void {
    const probes = this.revisionProbes.get(app) ?? new Map<string, RevisionProbe>();
    probes.set(revision, revisionProbeOf(spec));
    const running = new Set(facts.map((f) => f.revision));
    for (const known of probes.keys()) if (known !== revision && !running.has(known)) probes.delete(known);
    this.revisionProbes.set(app, probes);
  }

  async reconcile(app: string, signal?: AbortSignal): Promise<ReconcileResult> {
    const { store, desired, logger } = this.deps;
    const started = Date.now();
    const log = logger.child({ controller: 'containers', app });
    const listed = await this.observe(app, signal);
    const { replicas: facts, markers } = splitHaltMarkers(listed);
    const before = this.observed.get(app);
    this.observed.set(app, facts);
    // A replica that stopped running leaves the upstream now, not after this pass's actions (a
    // replacement's create and start take hundreds of ms): new connections to a dead replica's
    // network address are not refused but time out.
    if (before && stoppedRunning(before, facts)) this.deps.onReplicasChanged?.(app);
    const loaded = desired.get(app);
    if (!loaded) {
      if (!desired.mayPrune(app) || (listed.length > 0 && !this.mayAct())) return {};
      return this.reconcileRemoved(app, listed, log);
    }

    const spec = loaded.manifest.spec;
    // Probed whatever happens next: replicas of a stalled app keep serving, also after a restart.
    this.syncProbes(app, loaded, facts);
    let desiredSet: ReturnType<typeof desiredReplicaSetOf>;
    try {
      desiredSet = desiredReplicaSetOf(loaded, withMarkedHalt(store.app(app), markers), this.deps.values, facts);
    } catch (err) {
      if (!(err instanceof ReconcileError)) throw err;
      this.record(app, { kind: 'stalled', loaded, error: err, ...this.counts(app, spec, facts) });
      this.deps.onReplicasChanged?.(app);
      return {};
    }
    const { shapes, desired: wanted } = desiredSet;
    const { revision, replicas } = wanted;
    this.rememberRevision(app, revision, spec, facts);
    this.syncProbes(app, loaded, facts); // a health-only change applies from this pass
    // Adopted after a restart, or just created: a replica whose first check has not answered is
    // not known to be "starting". Plan once it is (bounded: a check that hangs counts as failed).
    if (facts.some((f) => f.running && this.deps.prober.awaitingFirstResult(f.id, FIRST_CHECK_WAIT_MS))) return { requeueAfterMs: 100 };

    const observed = facts.map((f) => observedReplicaOf(f, this.deps.prober.health(f.id), this.deps.drainer.isDraining(f.id), this.deps.prober.readySince(f.id)));
    const now = Date.now();
    if (!this.outageSeen.delete(app)) this.noteCrashes(app, wanted.haltedRevision, facts, now);
    const planned = planContainers(wanted, observed, now, this.crashes.get(app));
    const acting = this.mayAct();
    // A follower's status says what it sees and what the leader is about; it carries nothing out.
    const plan = acting ? planned : { ...planned, actions: [] };
    const live = observed.filter(isLive);
    const result = await this.deps.executor.execute(plan.actions, {
      instance: this.deps.instance,
      app,
      shapes,
      drainSeconds: spec.termination.drainSeconds,
      stopTimeoutSeconds: spec.termination.stopTimeoutSeconds,
      labels: this.deps.labels,
      live: live.length,
      onStarted: (id) => void this.adoptStarted(app, loaded, id),
    }, signal);
    if (plan.converged) this.crashes.delete(app);
    if (plan.converged && acting && shapes.get(revision)!.network === 'shared') await this.pruneNetworks(app, revision, log);
    const halted = result.haltedRevision ?? wanted.haltedRevision;
    // Only the leader records a halt in the runtime; a follower reads the markers the leader wrote.
    const markerErrors = !acting ? [] : await syncHaltMarker(this.deps.runtime, markers, halted, { instance: this.deps.instance, app, image: shapes.get(revision)!.image, labels: this.deps.labels });
    for (const err of markerErrors) log.warn({ err: errorMessage(err) }, 'could not record the halted rollout in the runtime (the store still holds it)');
    if (plan.actions.length > 0) {
      this.invalidate();
      this.deps.onReplicasChanged?.(app);
    }

    this.record(app, {
      kind: 'executed',
      loaded,
      revision,
      replicas,
      plan,
      result,
      halted,
      ...this.counts(app, spec, facts, revision), // after the actions: drains just begun show
      drift: this.drift(app, `${stableJson(spec)}/${replicas}/${revision}`, plan),
      following: !acting,
      ...this.lostWithNodes(app, facts),
    });
    log.debug({ actions: plan.actions.length, converged: plan.converged, durationMs: Date.now() - started }, 'reconciled');

    const transient = result.errors.find((e) => !(e instanceof ReconcileError) || e.kind !== 'stalled');
    if (transient) {
      this.invalidate(); // the next try observes afresh
      throw transient; // backoff; the status above already says why
    }
    // Retrying won't help until the input changes (the runtime cannot do what the shape asks): wait for it.
    if (result.errors.length > 0) return {};
    // Waiting for an image: its pull's end (ImagePuller) or the resync looks again, not a spin.
    if (result.pullingImage) return {};
    if (plan.actions.length > 0) return { requeueAfterMs: 200 }; // look at what the actions did
    return plan.requeueAfterMs !== undefined ? { requeueAfterMs: plan.requeueAfterMs } : {};
  }

  private async reconcileRemoved(app: string, facts: ReplicaFacts[], log: Logger): Promise<ReconcileResult> {
    const { store } = this.deps;
    const remaining = facts.filter((f) => !this.deps.drainer.isDraining(f.id));
    if (facts.length === 0) {
      this.deps.prober.sync(app, []);
      this.observed.delete(app);
      this.revisionProbes.delete(app);
      this.crashes.delete(app);
      if (this.mayAct()) await this.pruneNetworks(app, undefined, log);
      // A record without a spec belongs to a manifest that never validated: its recorder owns it.
      if (store.app(app)?.spec) {
        store.removeApp(app);
        store.addEvent({ app, type: 'Normal', reason: 'Removed', message: 'manifest removed; every replica is gone' });
        log.info('app removed');
      }
      this.deps.onReplicasChanged?.(app);
      return {};
    }
    if (remaining.length > 0) this.invalidate();
    const status = store.app(app);
    const drainSeconds = status?.spec?.termination.drainSeconds ?? 0;
    const stopTimeoutSeconds = status?.spec?.termination.stopTimeoutSeconds ?? 10;
    for (const f of remaining) {
      // Any running replica may be in nginx (after a restart its health is not even known yet): drain it.
      if (f.running) {
        this.deps.drainer.start({ app, id: f.id, name: f.name, reason: 'manifest removed', drainSeconds, stopTimeoutSeconds });
      } else {
        await this.deps.runtime.remove(f.id).catch(() => undefined);
      }
    }
    if (remaining.length > 0) {
      store.addEvent({ app, type: 'Normal', reason: 'Pruning', message: `manifest removed; removing ${remaining.length} replica(s)` });
    }
    this.deps.onReplicasChanged?.(app);
    return { requeueAfterMs: 500 };
  }

  /**
   * A replica this pass just started: seen and probed now, not at the next pass, so that the
   * first replica of a pass that starts several is routed as soon as it is ready (after an
   * outage, every app serves again on its first replica).
   */
  private async adoptStarted(app: string, loaded: LoadedApp, id: string): Promise<void> {
    let started: ReplicaFacts | undefined;
    try {
      started = await this.deps.runtime.inspect(id);
    } catch (err) {
      this.deps.logger.debug({ app, id, err: errorMessage(err) }, 'could not look at a started replica; the next pass will');
    }
    if (!started) return;
    const facts = [...this.containersOf(app).filter((f) => f.id !== id), started];
    this.observed.set(app, facts);
    this.syncProbes(app, loaded, facts);
  }

  /**
   * Drift: the app had converged, nothing it asks for changed (spec, replica count, revision), no
   * replica exited or failed its checks, and yet the plan creates or removes replicas. Someone
   * changed the host by hand (removed a container, started an extra one with our labels).
   */
  private drift(app: string, wanted: string, plan: ContainerPlan): { created: number; removed: number } | undefined {
    const failure = plan.actions.some((a) => a.kind === 'remove' && !a.reason.startsWith('scale down'));
    const changes = plan.actions.filter((a) => a.kind === 'create' || (a.kind === 'remove' && a.reason.startsWith('scale down')));
    const drifted = this.convergedAt.get(app) === wanted && !failure && changes.length > 0;
    // Converged "as of now" only: a pass that asked for something else in between (a scale to zero
    // and a wake back while its drain ran) is not drift when it comes back.
    if (plan.converged) this.convergedAt.set(app, wanted);
    else if (this.convergedAt.get(app) !== wanted) this.convergedAt.delete(app);
    if (!drifted) return undefined;
    const created = changes.filter((a) => a.kind === 'create').length;
    return { created, removed: changes.length - created };
  }

  /**
   * An app that left its own network (now shared, or removed) leaves it behind: remove it once the
   * app has converged without it. Best effort: a failure is logged and tried at the next convergence.
   */
  private async pruneNetworks(app: string, revision: string | undefined, log: Logger): Promise<void> {
    const key = revision ?? '';
    if (revision !== undefined && this.networksPrunedAt.get(app) === key) return;
    try {
      const removed = await this.deps.runtime.pruneNetworks({ instance: this.deps.instance, app });
      if (removed.length > 0) log.info({ networks: removed }, 'removed the app\'s own network, no longer used');
      if (revision === undefined) this.networksPrunedAt.delete(app);
      else this.networksPrunedAt.set(app, key);
    } catch (err) {
      log.warn({ err: errorMessage(err) }, 'could not remove the app\'s unused network');
    }
  }

  private mayAct(): boolean {
    return this.deps.mayAct?.() ?? true;
  }

  /** Replicas whose task was lost with a node that is down, and which of them are new since the last pass. */
  private lostWithNodes(app: string, facts: ReplicaFacts[]): Pick<PassOutcome & { kind: 'executed' }, 'lost' | 'newlyLost'> {
    const lost = facts.flatMap((f) => (f.lostWith ? [{ replica: f.name, node: f.lostWith.node, nodeId: f.lostWith.nodeId, taskId: f.lostWith.taskId }] : []));
    const reported = this.reportedLost.get(app) ?? new Set<string>();
    const newlyLost = lost.filter((l) => !reported.has(l.taskId));
    this.reportedLost.set(app, new Set(lost.map((l) => l.taskId)));
    return { lost, newlyLost };
  }

  /** The one write of a pass: the status computed from what it saw and did, then its events. */
  private record(app: string, outcome: PassOutcome): void {
    const { store } = this.deps;
    const counted = store.app(app)?.autoscaledReplicas;
    const status = store.updateApp(app, (s) => replaceContents(s, statusAfterPass(s, outcome)));
    for (const event of passEvents(app, outcome)) store.addEvent(event);
    const start = autoscalingStart(app, counted, status.autoscaledReplicas, outcome.live);
    if (start) {
      store.addScaling(start);
      store.addEvent({ app, type: 'Normal', reason: 'AutoscalingResumed', message: `${start.reason}; the cooldown runs from now` });
    }
  }

  /** What a pass saw, for the status: each replica, and how many are live, serving, up to date. */
  private counts(app: string, spec: LoadedApp['manifest']['spec'], facts: ReplicaFacts[], revision?: string): ObservedCounts {
    const port = (f: ReplicaFacts) => this.probeOf(app, f.revision, spec).trafficPort;
    const live = facts
      .map((f) => ({ f, r: { running: f.running, health: this.deps.prober.health(f.id), draining: this.deps.drainer.isDraining(f.id) } }))
      .filter(({ r }) => isLive(r));
    return {
      instances: facts.map((f) => this.instanceOf(f, port(f))),
      live: live.length,
      serving: live.filter(({ f, r }) => isServing(r, this.deps.isRouted?.(app, f.addresses[port(f)]))).length,
      updated: live.filter(({ f }) => f.revision === revision).length,
    };
  }

  private syncProbes(app: string, loaded: LoadedApp, facts: ReplicaFacts[]): void {
    const spec = loaded.manifest.spec;
    this.deps.prober.sync(
      app,
      facts.flatMap((f) => {
        const probe = this.probeOf(app, f.revision, spec);
        const address = f.addresses[probe.healthPort];
        return f.running && address !== undefined ? [{ id: f.id, app, name: f.name, address, health: probe.health }] : [];
      }),
    );
  }

  /**
   * A replica that exited young is a crash: back off before replacing it. Replicas of a halted
   * revision are not replaced, so their deaths hold nothing back.
   */
  private noteCrashes(app: string, haltedRevision: string | undefined, facts: ReplicaFacts[], now: number): void {
    const young = facts.filter(
      (f) => !f.running && f.revision !== haltedRevision && !this.deps.drainer.isDraining(f.id) && now - f.createdAtMs < CRASH_WINDOW_MS,
    );
    if (young.length === 0) return;
    const record = this.crashes.get(app) ?? { failures: 0, lastFailureAtMs: 0 };
    this.crashes.set(app, { failures: record.failures + young.length, lastFailureAtMs: now });
  }

  private instanceOf(f: ReplicaFacts, port: number): InstanceStatus {
    const probe = this.deps.prober.lastResult(f.id);
    return {
      id: f.id.slice(0, 12),
      name: f.name,
      revision: f.revision,
      slot: f.slot,
      state: f.state,
      health: f.running ? this.deps.prober.health(f.id) : 'exited',
      draining: this.deps.drainer.isDraining(f.id),
      ...(f.addresses[port] ? { address: addressKey(f.addresses[port]) } : {}),
      ...(f.network ? { network: f.network } : {}),
      ...(f.published[port] ? { hostPort: f.published[port].port } : {}),
      ...(f.node ? { node: f.node.node } : {}),
      startedAt: new Date(f.createdAtMs).toISOString(),
      ...(probe && f.running ? { lastProbe: { ok: probe.ok, detail: probe.detail, at: new Date(probe.atMs).toISOString() } } : {}),
    };
  }
}

/** Whether a replica that ran in `before` is not running (or gone) in `after`. */
function stoppedRunning(before: readonly ReplicaFacts[], after: readonly ReplicaFacts[]): boolean {
  const running = new Set(after.filter((f) => f.running).map((f) => f.id));
  return before.some((f) => f.running && !running.has(f.id));
}

/** Makes `target` equal `next` in place (the store hands out its record to change). */
function replaceContents(target: AppStatus, next: AppStatus): void {
  for (const key of Object.keys(target) as (keyof AppStatus)[]) if (!(key in next)) delete target[key];
  Object.assign(target, next);
}

/** What a revision's replicas are checked and routed by. */
interface RevisionProbe {
  trafficPort: number;
  healthPort: number;
  health: LoadedApp['manifest']['spec']['health'];
}

function revisionProbeOf(spec: LoadedApp['manifest']['spec']): RevisionProbe {
  return { trafficPort: trafficPort(spec), healthPort: healthPort(spec), health: spec.health };
}
