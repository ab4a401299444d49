import type Docker from 'dockerode';
import type { Logger } from 'pino';
import { ReconcileError, errorMessage } from '../../errors.js';
import type { ValueSource } from '../../secrets/value-source.js';
import type { LoadedApp } from '../../manifest/types.js';
import type { ReconcileResult, Reconciler } from '../../reconcile/reconciler.js';
import { conditionIsTrue, removeCondition, setCondition } from '../../store/conditions.js';
import type { AppStatus, InstanceStatus } from '../../store/status-model.js';
import type { Store } from '../../store/store.js';
import { listManagedContainers, type ContainerFacts } from '../../observe/docker-containers.js';
import type { HealthProber } from '../../observe/health-prober.js';
import type { ContainerExecutor, ExecuteResult } from './container-executor.js';
import type { Drainer } from './drainer.js';
import { planContainers, type ContainerPlan, type CrashRecord, type ObservedReplica } from './plan-containers.js';
import { desiredReplicaSetOf, observedReplicaOf } from './replica-sets.js';

/** How long a whole-host listing taken at resync may stand in for each app's own listing. */
const SNAPSHOT_TTL_MS = 1_000;
/** A replica that dies sooner than this after creation counts toward crash-loop backoff. */
const CRASH_WINDOW_MS = 30_000;

export interface DesiredSource {
  get(name: string): LoadedApp | undefined;
  /** False while the manifest source is empty or missing: undeclared apps are then left alone. */
  mayPrune(): boolean;
}

export interface ContainerControllerDeps {
  docker: Docker;
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
  /** Called after every pass that may have changed who should receive traffic. */
  onReplicasChanged?: (app: string) => void;
  /**
   * Whether nginx already routes to this replica. Ready in the status means "serving": a replica
   * that passed its checks but is not in the served upstream yet does not count. Absent: no load
   * balancer, health alone decides.
   */
  isRouted?: (app: string, replica: ContainerFacts) => boolean;
}

/**
 * Reconciles one app's containers: observe (Docker + health + drains), plan, execute, record status.
 * The latest observation of each app is kept for the routing table.
 */
export class ContainerController implements Reconciler {
  private readonly observed = new Map<string, ContainerFacts[]>();
  private readonly crashes = new Map<string, CrashRecord>();
  private snapshot: { takenAt: number; byApp: Map<string, ContainerFacts[]> } | undefined;
  private epoch = 0;
  /** What each app last converged to (spec, count, revision), to tell drift from a requested change. */
  private readonly convergedAt = new Map<string, string>();

  constructor(private readonly deps: ContainerControllerDeps) {}

  /**
   * A resync lists every container once and hands the listing over, so a resync of N apps costs one
   * Docker call, not N. It is used only while fresh and until anything changes (a Docker event, or
   * an action of ours): each pass still sees a whole, current observation.
   */
  prime(all: ContainerFacts[], listedAtEpoch: number): void {
    // A change since the listing started (an action, an event) makes it stale before it is used.
    if (listedAtEpoch !== this.epoch) return;
    const byApp = new Map<string, ContainerFacts[]>();
    for (const c of all) byApp.set(c.app, [...(byApp.get(c.app) ?? []), c]);
    this.snapshot = { takenAt: Date.now(), byApp };
  }

  /** Take before listing for `prime`: it counts invalidations. */
  listingEpoch(): number {
    return this.epoch;
  }

  invalidate(): void {
    this.epoch += 1;
    this.snapshot = undefined;
  }

  /** A replica that is gone (drained and removed): out of the routing view at once, not at the next pass. */
  forget(app: string, id: string): void {
    this.invalidate();
    const facts = this.observed.get(app);
    if (facts) this.observed.set(app, facts.filter((f) => f.id !== id));
  }

  private async observe(app: string): Promise<ContainerFacts[]> {
    const snapshot = this.snapshot;
    if (snapshot && Date.now() - snapshot.takenAt < SNAPSHOT_TTL_MS) return snapshot.byApp.get(app) ?? [];
    return listManagedContainers(this.deps.docker, this.deps.instance, app);
  }

  /** Whether a pass has observed this app since start. */
  hasObserved(app: string): boolean {
    return this.observed.has(app);
  }

  /** The containers last seen for an app (for routes and the status endpoint). */
  containersOf(app: string): ContainerFacts[] {
    return this.observed.get(app) ?? [];
  }

  async reconcile(app: string): Promise<ReconcileResult> {
    const { store, desired, logger } = this.deps;
    const started = Date.now();
    const log = logger.child({ controller: 'containers', app });
    const facts = await this.observe(app);
    this.observed.set(app, facts);
    const loaded = desired.get(app);
    if (!loaded) {
      if (!desired.mayPrune()) return {};
      return this.reconcileRemoved(app, facts, log);
    }

    const spec = loaded.manifest.spec;
    let desiredSet: ReturnType<typeof desiredReplicaSetOf>;
    try {
      desiredSet = desiredReplicaSetOf(loaded, store.app(app), this.deps.values);
    } catch (err) {
      if (!(err instanceof ReconcileError)) throw err;
      this.recordStalled(app, loaded, err);
      return {};
    }
    const { shape, desired: wanted } = desiredSet;
    const { revision, replicas, haltedRevision } = wanted;

    this.syncProbes(app, loaded, facts);
    const observed = facts.map((f) => observedReplicaOf(f, this.deps.prober.health(f.id), this.deps.drainer.isDraining(f.id)));
    const now = Date.now();
    this.noteCrashes(app, revision, facts, now);
    const plan = planContainers(wanted, observed, now, this.crashes.get(app));
    const result = await this.deps.executor.execute(plan.actions, {
      instance: this.deps.instance,
      app,
      shape,
      drainSeconds: spec.termination.drainSeconds,
      stopTimeoutSeconds: spec.termination.stopTimeoutSeconds,
      labels: this.deps.labels,
    });
    if (plan.converged) this.crashes.delete(app);
    if (plan.actions.length > 0) {
      this.invalidate();
      this.deps.onReplicasChanged?.(app);
    }

    this.recordDrift(app, `${JSON.stringify(spec)}/${replicas}/${revision}`, plan);
    this.recordPass(app, loaded, { revision, replicas, plan, result, facts, observed, haltedRevision });
    log.debug({ actions: plan.actions.length, converged: plan.converged, durationMs: Date.now() - started }, 'reconciled');

    const transient = result.errors.find((e) => !(e instanceof ReconcileError) || e.kind !== 'stalled');
    if (transient) {
      this.invalidate(); // the next try observes afresh
      throw transient; // backoff; the status above already says why
    }
    if (plan.actions.length > 0) return { requeueAfterMs: 200 }; // look at what the actions did
    return plan.requeueAfterMs !== undefined ? { requeueAfterMs: plan.requeueAfterMs } : {};
  }

  private async reconcileRemoved(app: string, facts: ContainerFacts[], log: Logger): Promise<ReconcileResult> {
    const { store } = this.deps;
    const remaining = facts.filter((f) => !this.deps.drainer.isDraining(f.id));
    if (facts.length === 0) {
      this.deps.prober.sync(app, []);
      this.observed.delete(app);
      this.crashes.delete(app);
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
        await this.deps.docker.getContainer(f.id).remove({ force: true, v: true }).catch(() => undefined);
      }
    }
    if (remaining.length > 0) {
      store.addEvent({ app, type: 'Normal', reason: 'Pruning', message: `manifest removed; removing ${remaining.length} replica(s)` });
    }
    this.deps.onReplicasChanged?.(app);
    return { requeueAfterMs: 500 };
  }

  /**
   * Drift: the app had converged, nothing it asks for changed (spec, replica count, revision), no
   * replica exited or failed its checks, and yet the plan creates or removes replicas. Someone
   * changed the host by hand (removed a container, started an extra one with our labels).
   */
  private recordDrift(app: string, wanted: string, plan: ContainerPlan): void {
    const failure = plan.actions.some((a) => a.kind === 'remove' && !a.reason.startsWith('scale down'));
    const changes = plan.actions.filter((a) => a.kind === 'create' || (a.kind === 'remove' && a.reason.startsWith('scale down')));
    if (this.convergedAt.get(app) === wanted && !failure && changes.length > 0) {
      const created = changes.filter((a) => a.kind === 'create').length;
      const removed = changes.length - created;
      this.deps.store.addEvent({
        app,
        type: 'Warning',
        reason: 'DriftCorrected',
        message: `replicas were changed outside AutoServe; ${created ? `recreating ${created} missing` : `removing ${removed} extra`} to match the manifest`,
      });
    }
    if (plan.converged) this.convergedAt.set(app, wanted);
  }

  private syncProbes(app: string, loaded: LoadedApp, facts: ContainerFacts[]): void {
    const spec = loaded.manifest.spec;
    const port = spec.health?.httpGet.port ?? spec.ports[0]!.containerPort;
    this.deps.prober.sync(
      app,
      facts
        .filter((f) => f.running && f.hostPorts[port] !== undefined)
        .map((f) => ({ id: f.id, app, name: f.name, hostPort: f.hostPorts[port]!, health: spec.health })),
    );
  }

  /** A replica of the current revision that exited young is a crash: back off before replacing it. */
  private noteCrashes(app: string, revision: string, facts: ContainerFacts[], now: number): void {
    const young = facts.filter(
      (f) => !f.running && f.revision === revision && !this.deps.drainer.isDraining(f.id) && now - f.createdAtMs < CRASH_WINDOW_MS,
    );
    if (young.length === 0) return;
    const record = this.crashes.get(app) ?? { failures: 0, lastFailureAtMs: 0 };
    this.crashes.set(app, { failures: record.failures + young.length, lastFailureAtMs: now });
  }

  private recordStalled(app: string, loaded: LoadedApp, err: ReconcileError): void {
    this.deps.store.updateApp(app, (status) => {
      adoptSpec(status, loaded);
      setCondition(status.conditions, { type: err.reason, status: 'True', reason: err.reason, message: err.message });
      setCondition(status.conditions, { type: 'Ready', status: 'False', reason: err.reason, message: err.message });
      status.phase = 'Failed';
      status.observedGeneration = status.generation;
    });
    this.deps.store.addEvent({ app, type: 'Warning', reason: err.reason, message: err.message });
  }

  private recordPass(
    app: string,
    loaded: LoadedApp,
    pass: {
      revision: string;
      replicas: number;
      plan: ContainerPlan;
      result: ExecuteResult;
      facts: ContainerFacts[];
      observed: ObservedReplica[];
      haltedRevision?: string;
    },
  ): void {
    const { store } = this.deps;
    const { plan, result, revision } = pass;
    for (const action of plan.actions) {
      if (action.kind === 'create') continue; // reported below, once per pass
      store.addEvent({
        app,
        type: action.kind === 'haltRollout' ? 'Warning' : 'Normal',
        reason: action.kind === 'haltRollout' ? 'RolloutFailed' : action.drain ? 'Draining' : 'Removed',
        message: action.kind === 'haltRollout' ? action.reason : `${action.name}: ${action.reason}`,
      });
    }
    if (result.created.length > 0) {
      const reason = plan.actions.find((a) => a.kind === 'create')?.reason ?? 'create';
      store.addEvent({ app, type: 'Normal', reason: 'Created', message: `${reason}: started ${result.created.join(', ')}` });
    }
    for (const err of result.errors) {
      store.addEvent({ app, type: 'Warning', reason: err instanceof ReconcileError ? err.reason : 'ActionFailed', message: errorMessage(err) });
    }

    store.updateApp(app, (status) => {
      adoptSpec(status, loaded);
      status.containerRevision = revision;
      if (result.haltedRevision) status.haltedRevision = result.haltedRevision;
      else if (status.haltedRevision && status.haltedRevision !== revision) delete status.haltedRevision;
      const live = pass.observed.filter((r) => r.running && !r.draining);
      const factsById = new Map(pass.facts.map((f) => [f.id, f]));
      const routed = (r: ObservedReplica) => this.deps.isRouted?.(app, factsById.get(r.id)!) ?? true;
      const ready = live.filter((r) => r.health === 'ready' && routed(r)).length;
      const updated = live.filter((r) => r.revision === revision).length;
      status.replicas = { desired: pass.replicas, ready, updated };
      status.instances = pass.facts.map((f) => this.instanceOf(f, loaded));
      status.observedGeneration = status.generation;

      const pullError = result.errors.find((e) => e instanceof ReconcileError && e.reason === 'ImagePullFailed');
      if (pullError) setCondition(status.conditions, { type: 'ImagePullFailed', status: 'True', reason: 'ImagePullFailed', message: pullError.message });
      else if (result.created.length > 0 || plan.converged) removeCondition(status.conditions, 'ImagePullFailed');
      removeCondition(status.conditions, 'EnvValueMissing');
      const halted = status.haltedRevision === revision;
      const haltAction = plan.actions.find((a) => a.kind === 'haltRollout');
      if (haltAction) {
        setCondition(status.conditions, { type: 'RolloutFailed', status: 'True', reason: 'ProgressDeadlineExceeded', message: haltAction.reason });
      } else if (!halted) {
        removeCondition(status.conditions, 'RolloutFailed'); // a new revision resumes
      }
      const progressing = !plan.converged && !halted;
      setCondition(status.conditions, {
        type: 'Progressing',
        status: progressing ? 'True' : 'False',
        reason: progressing ? 'ReplicasChanging' : halted ? 'RolloutHalted' : 'Converged',
        message: `${updated}/${pass.replicas} replicas on revision ${revision}, ${ready} ready`,
      });
      const isReady = ready >= pass.replicas && (pass.replicas > 0 || live.length === 0);
      setCondition(status.conditions, {
        type: 'Ready',
        status: isReady ? 'True' : 'False',
        reason: isReady ? 'ReplicasReady' : pullError ? 'ImagePullFailed' : 'ReplicasNotReady',
        message: `${ready}/${pass.replicas} replicas ready`,
      });
      const serving = plan.converged && ready >= pass.replicas;
      status.phase = phaseOf(status, { ready, wanted: pass.replicas, converged: serving, halted, failed: !!pullError, live: live.length });
    });
  }

  private instanceOf(f: ContainerFacts, loaded: LoadedApp): InstanceStatus {
    const port = loaded.manifest.spec.ports[0]!.containerPort;
    return {
      id: f.id.slice(0, 12),
      name: f.name,
      revision: f.revision,
      slot: f.slot,
      state: f.state,
      health: f.running ? this.deps.prober.health(f.id) : 'exited',
      draining: this.deps.drainer.isDraining(f.id),
      hostPort: f.hostPorts[port],
      startedAt: new Date(f.createdAtMs).toISOString(),
    };
  }
}

/** Takes the loaded spec as the applied one, bumping the generation when it changed. */
function adoptSpec(status: AppStatus, loaded: LoadedApp): void {
  const next = JSON.stringify(loaded.manifest.spec);
  if (JSON.stringify(status.spec) !== next) {
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
  if (s.converged) return 'Running';
  return 'Progressing';
}
