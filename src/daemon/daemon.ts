// The daemon only wires: it builds the parts, connects their callbacks, and starts and stops them
// in order. Every decision lives in the part that owns it (docs/design.md, "Layers").
import type http from 'node:http';
import type { Logger } from 'pino';
import { closeServer, createApiServer, listen } from '../api/server.js';
import { ContainerController } from '../controllers/containers/container-controller.js';
import { ContainerExecutor } from '../controllers/containers/container-executor.js';
import { Drainer } from '../controllers/containers/drainer.js';
import { ImagePuller } from '../controllers/containers/image-puller.js';
import { createLoadBalancer } from '../controllers/routes/create-load-balancer.js';
import { LogRotator } from '../controllers/logs/log-rotator.js';
import { nginxLogsDir } from '../controllers/routes/nginx-paths.js';
import { RoutesController } from '../controllers/routes/routes-controller.js';
import { ScalerController } from '../controllers/scaler/scaler-controller.js';
import { ZeroController } from '../controllers/scaler/zero-controller.js';
import { errorMessage } from '../errors.js';
import { settleClashes } from '../manifest/duplicate-names.js';
import { DesiredState } from '../manifest/desired-state.js';
import { appLoadOf } from '../history/app-load.js';
import { HistoryRecorder } from '../history/history-recorder.js';
import { MetricHistory } from '../history/metric-history.js';
import { HealthProber } from '../observe/health-prober.js';
import { AccessLogMetrics } from '../observe/index-metrics.js';
import { AutoserveMetrics } from '../observe/metrics.js';
import { WorkQueue } from '../reconcile/work-queue.js';
import type { Leadership } from '../core/leadership.js';
import { fencedRuntime } from '../runtime/fenced-runtime.js';
import type { ContainerRuntime } from '../runtime/runtime.js';
import { createManifestSource } from '../source/manifest-source.js';
import { SourceStatusRecorder } from '../source/source-status.js';
import { loadOrCreateFingerprintKey } from '../secrets/fingerprint-key.js';
import { openValueSource } from '../secrets/value-source.js';
import { lastGoodApps } from '../store/last-good-apps.js';
import { Store } from '../store/store.js';
import { ManifestStatusRecorder } from './manifest-status.js';
import type { DaemonOptions } from './options.js';
import { createRuntimeParts, type RuntimePartsOverrides } from './runtime-parts.js';
import { Teardown } from './teardown.js';

/** Seconds of per-second request buckets kept per app: the longest policy window we serve well. */
const ACCESS_LOG_WINDOW_SECONDS = 300;
/** The autoscaler decides every 2 s on whole seconds: reading the logs each second is enough (idle cost). */
const ACCESS_LOG_POLL_MS = 1_000;

export interface Daemon {
  store: Store;
  desired: DesiredState;
  controller: ContainerController;
  routes?: RoutesController;
  metrics: AutoserveMetrics;
  api: http.Server;
  /** The status endpoint's bound port (useful with --port 0). */
  apiPort: number;
  queue: WorkQueue;
  runtime: ContainerRuntime;
  /** Whether this controller acts (always on one host; while it holds the lease on a Swarm). */
  leadership: Leadership;
  /** Resolves once the first manifest load has been applied. */
  ready: Promise<void>;
  /** Git mode: fetch now instead of waiting for the interval (SIGHUP, `autoserve sync`). */
  syncNow(): void;
  /** Enqueues every known app now. */
  resyncAll(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Parts: runtime and leadership (runtime-parts: Docker, or Swarm with a leader lease), store, API, desired state (fed by the manifest source), health prober, drainer,
 * container controller, routes controller (nginx), autoscaler, work queue. Connections: the source,
 * runtime events, health flips, the autoscaler and a periodic resync each only enqueue apps; the
 * queue runs the container controller; the controller and health flips ask the routes controller
 * for a sync; routes tell the queue when an app's served replicas change.
 */
/** How a start-up is run: the runtime's overrides, an abort signal and the controller's own log. */
export interface StartOptions extends RuntimePartsOverrides {
  /** Aborted: the start-up is cut short (and undone). */
  signal?: AbortSignal;
  /** The controller's own log file and how to reopen it after rotation. */
  controllerLog?: { file: string; reopen: () => void };
}

export async function startDaemon(options: DaemonOptions, logger: Logger, start: StartOptions = {}): Promise<Daemon> {
  const teardown = new Teardown();
  try {
    return await startParts(options, logger, teardown, { ...start, signal: start.signal ?? new AbortController().signal });
  } catch (err) {
    // Cut short (a stop signal, a part that failed to start): undo exactly what was started.
    await teardown.run(logger);
    throw err;
  }
}

/**
 * Starts the parts in order, pushing each one's stop onto `teardown` as soon as it runs; between
 * steps that wait, an aborted `signal` ends the start-up. A step under way is finished first (an
 * nginx being started comes up whole), so nothing is left half-made.
 */
async function startParts(options: DaemonOptions, logger: Logger, teardown: Teardown, start: StartOptions & { signal: AbortSignal }): Promise<Daemon> {
  const { signal, controllerLog } = start;
  const parts = await createRuntimeParts(options, logger, start);
  teardown.push('runtime', () => parts.close()); // releases a held lease: a standby leads at its next retry
  const { runtime, leadership } = parts;
  // Only the leader changes replicas: a follower observes, probes, routes and reports.
  const acting = fencedRuntime(runtime, leadership);
  const store = await Store.open(options.dbPath, logger);
  teardown.push('store', () => store.flush());
  signal.throwIfAborted();
  const metrics = new AutoserveMetrics({ apps: () => store.apps() });
  const startup = new Startup();
  const history = new MetricHistory(options.historyIntervalMs);
  let recorder: HistoryRecorder | undefined; // the API listens before the recorder exists
  const api = createApiServer({
    history,
    replicaLoads: (app) => recorder?.replicaLoads(app) ?? [],
    store,
    runtime,
    leadership,
    instance: options.instance,
    isReady: () => startup.done,
    manifestsDir: options.manifestsDir,
    metrics,
    appMetrics: (app) => appLoadOf(history, app) ?? null,
    authToken: options.authToken,
    enableWriteApi: options.enableWriteApi,
    redactEnvValues: options.redactEnvValues,
    logger,
  });
  const apiPort = await listen(api, options.host, options.port); // /healthz answers during start-up
  teardown.push('status endpoint', () => closeServer(api));
  signal.throwIfAborted();
  const desired = new DesiredState({ allowEmptyPrune: options.allowEmptyPrune });
  desired.remember(lastGoodApps(store.data)); // a restart keeps what the last good manifests said
  const manifestStatus = new ManifestStatusRecorder(store);
  const sourceStatus = new SourceStatusRecorder(store);

  // Late-bound: the parts below call each other through these.
  let queue!: WorkQueue;
  let routes: RoutesController | undefined;
  const requestRoutes = (app?: string) => routes?.requestSoon(app);

  const prober = new HealthProber({
    onChange: (change) => {
      metrics.healthCheck(change.to);
      controller.healthChanged(change);
      queue.add(change.target.app);
    },
    onFailure: (failure) => {
      controller.probeFailed(failure);
      queue.add(failure.target.app); // the status shows the replica's last check
    },
  });
  teardown.push('health probes', () => prober.close());
  const drainer = new Drainer({
    runtime: acting,
    logger,
    leaveUpstream: async () => void (await routes?.request()),
    onGone: (app, id) => {
      controller.forget(app, id);
      queue.add(app);
    },
  });
  const controller = new ContainerController({
    runtime: acting,
    mayAct: () => leadership.isLeader(),
    store,
    desired,
    prober,
    drainer,
    executor: new ContainerExecutor({
      runtime: acting,
      drainer,
      logger,
      images: new ImagePuller({ runtime: acting, logger, onPullEnded: (app) => queue.add(app) }),
    }),
    logger,
    values: openValueSource({
      env: process.env,
      openEnv: options.openEnv,
      ...(options.secretsDir ? { secretsDir: options.secretsDir } : {}),
      fingerprintKey: await loadOrCreateFingerprintKey(options.stateDir),
    }),
    instance: options.instance,
    labels: options.containerLabels,
    onReplicasChanged: requestRoutes,
    isRouted: options.disableLb ? undefined : (app, address) => routes?.isServed(app, address) ?? false,
  });
  const accessLog = new AccessLogMetrics({
    logsDir: nginxLogsDir(options.stateDir, options.nginxConfDir),
    logger: logger.child({ component: 'access-log' }),
    windowSeconds: ACCESS_LOG_WINDOW_SECONDS,
    pollIntervalMs: ACCESS_LOG_POLL_MS,
  });
  const historyUsage = runtime.usageReader(); // its own: the scaler reads the runtime's on another schedule
  recorder = new HistoryRecorder({ history, apps: () => store.apps(), requests: accessLog, usage: historyUsage, logger: logger.child({ component: 'history' }) });
  const scaler = new ScalerController({
    store,
    logger: logger.child({ controller: 'scaler' }),
    apps: () => desired.all(),
    replicasOf: (app) => controller.replicasOf(app),
    accessLog,
    usage: runtime,
    isActive: () => leadership.isLeader(),
    onScaled: (app, from, to) => {
      metrics.scaleEvent(app, to > from ? 'up' : 'down');
      queue.add(app);
    },
  });
  const zero = new ZeroController({
    store,
    logger: logger.child({ controller: 'zero' }),
    apps: () => desired.all(),
    replicasOf: (app) => controller.replicasOf(app),
    servedCount: (app) => routes?.servedCount(app) ?? 0,
    routeHolds: (app) => routes?.holdsRequests(app) ?? false,
    holdSupport: () =>
      parts.noScaleToZero !== undefined
        ? { kind: 'no', reason: parts.noScaleToZero }
        : (routes?.holdSupport() ?? { kind: 'no', reason: 'no load balancer runs (--disable-lb)' }),
    // A sleep, a wake or a hold let go: the route's hold follows the status, so it is synced too.
    onChanged: (app) => {
      queue.add(app);
      requestRoutes(app);
    },
    metrics,
  });
  metrics.setHeldRequestsProvider(() => zero.heldNow());
  metrics.setAppMetricsProvider((app) => appLoadOf(history, app));
  const balancer = options.disableLb
    ? undefined
    : createLoadBalancer({ stateDir: options.stateDir, listen: { host: options.lbHost, port: options.lbPort }, systemConfDir: options.nginxConfDir, workerProcesses: options.nginxWorkers }, logger);
  if (balancer) {
    const routesController = new RoutesController({
      balancer,
      store,
      logger: logger.child({ controller: 'routes' }),
      apps: () => desired.all(),
      replicasOf: (app) => controller.replicasOf(app),
      onServedChanged: (app) => {
        zero.servedChanged(app);
        queue.add(app);
      },
      // Only real reloads (and failed applies) count; a Lua membership update is not a reload.
      onApplied: ({ ok, reloaded, durationMs }) => {
        if (reloaded || !ok) metrics.nginxReload(ok, durationMs);
      },
    });
    routes = routesController;
    teardown.push('routes', () => routesController.close());
    await routesController.start(); // not cut short: an nginx master comes up whole, or not at all
    signal.throwIfAborted();
  }
  // Drains in flight finish before the routes close (a drain first takes its replica out of nginx).
  teardown.push('drains', () => drainer.close());
  queue = new WorkQueue({
    worker: (app, passSignal) => controller.reconcile(app, passSignal),
    onPass: ({ durationMs, ok }) => metrics.observeReconcile(durationMs, ok),
    onError: ({ key, error, attempt, delayMs }) =>
      logger.warn({ app: key, attempt, retryInMs: delayMs, err: errorMessage(error) }, 'reconcile failed; backing off'),
  });
  teardown.push('work queue', () => queue.stop()); // aborts in-flight waits (listings, pulls); app containers keep running

  /** The apps the manifests or the store know. */
  const knownApps = () => new Set([...desired.all().map((a) => a.manifest.metadata.name), ...store.apps().map((s) => s.name)]);
  /** Re-reads the manifests (directory mode) and enqueues every app the manifests, the runtime or the store know. */
  const resyncAll = async () => {
    source.reread?.();
    const apps = knownApps();
    for (const app of await controller.observeAll()) apps.add(app);
    queue.resync(apps);
    requestRoutes(); // also notices a hand-edited nginx config
  };
  // Ready once the first load is applied and what the runtime already runs is adopted; routes
  // follow once adopted replicas have had their first probe.
  const markReady = () =>
    startup.once(async () => {
      await resyncAll();
      void routes?.warmUp(() => controller.healthKnown(desired.all().map((a) => a.manifest.metadata.name)));
    });

  const source = createManifestSource(
    options,
    {
      onLoad: (loaded, revision) => {
        const result = settleClashes(loaded, (app) => desired.get(app)?.file);
        const applied = desired.apply(result);
        manifestStatus.record(result, desired);
        if (revision) sourceStatus.recordRevision(revision, applied, desired);
        // A resync's re-read that changed nothing is not news.
        const news = revision || !startup.done || applied.changed.length + applied.removed.length > 0;
        logger[news ? 'info' : 'debug'](
          { files: result.fileCount, apps: result.apps.size, errors: result.errors.length, commit: revision?.commit.slice(0, 12), ...applied },
          'manifests loaded',
        );
        for (const app of [...applied.changed, ...applied.removed, ...applied.invalid]) queue.add(app);
        markReady();
        requestRoutes();
      },
      onSourceError: (failure) => sourceStatus.recordFailure(failure, desired),
      onSourceRecovered: () => sourceStatus.recordRecovered(),
      onWatchError: (err) => logger.error({ err: errorMessage(err) }, 'manifest watcher error'),
      confirmLoad: (result) => desired.wouldRemove(settleClashes(result, (app) => desired.get(app)?.file)).length > 0,
    },
    logger,
  );
  teardown.push('manifest source', () => source.stop());
  void source.start().then(markReady, (err: unknown) => {
    logger.error({ err: errorMessage(err) }, 'manifest source failed to start');
    markReady();
  });

  const events = runtime.watch(
    { instance: options.instance },
    {
      onApp: (app) => {
        controller.invalidate();
        queue.add(app);
      },
      // The runtime is back after an outage: what failed or died meanwhile is no reason to wait.
      onReconnect: () => {
        controller.runtimeRecovered();
        queue.forgiveFailures();
        queue.resync(knownApps()); // at once, not after a listing of the whole host
        void resyncAll();
      },
    },
  );
  teardown.push('runtime events', () => events.close());
  parts.startLeading((leading) => {
    if (leading) void resyncAll(); // act on everything at once, not at the next resync
  });
  teardown.push('access logs', () => accessLog.stop());
  await accessLog.start();
  signal.throwIfAborted();
  scaler.start();
  teardown.push('autoscaler', () => scaler.stop());
  zero.start();
  teardown.push('scale to zero', () => zero.stop());
  recorder.start();
  teardown.push('metric history', () => {
    recorder?.stop();
    historyUsage.close();
  });
  const logs = new LogRotator({
    capBytes: options.logMaxBytes,
    logger: logger.child({ component: 'log-rotation' }),
    groups: [
      ...(controllerLog ? [{ name: 'controller', files: [controllerLog.file], reopen: controllerLog.reopen }] : []),
      ...(balancer ? [{ name: 'nginx', dir: nginxLogsDir(options.stateDir, options.nginxConfDir), reopen: () => balancer.reopenLogs() }] : []),
    ],
  });
  logs.start();
  teardown.push('log rotation', () => logs.stop());
  const resyncTimer = setInterval(() => void resyncAll(), options.resyncMs);
  resyncTimer.unref();
  teardown.push('resync timer', () => clearInterval(resyncTimer));

  return {
    store,
    desired,
    controller,
    routes,
    metrics,
    api,
    apiPort,
    queue,
    runtime,
    leadership,
    ready: startup.promise,
    resyncAll,
    syncNow: () => source.syncNow?.(),
    stop: () => teardown.run(logger),
  };
}

/** Start-up: runs its step once, then counts as done (readyz, `ready`). */
class Startup {
  done = false;
  private started = false;
  private resolve!: () => void;
  readonly promise = new Promise<void>((resolve) => (this.resolve = resolve));

  once(step: () => Promise<void>): void {
    if (this.started) return;
    this.started = true;
    void step().then(() => {
      this.done = true;
      this.resolve();
    });
  }
}
