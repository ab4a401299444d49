import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type http from 'node:http';
import Docker from 'dockerode';
import { closeServer, createApiServer, listen } from '../api/server.js';
import { AutoserveMetrics } from '../observe/metrics.js';
import { AccessLogMetrics, ContainerMetricsSampler } from '../observe/index-metrics.js';
import { ScalerController } from '../controllers/scaler/scaler-controller.js';
import type { LoadBalancer } from '../controllers/routes/load-balancer.js';
import { NginxProcess } from '../controllers/routes/nginx-process.js';
import { RoutesController } from '../controllers/routes/routes-controller.js';
import { SystemNginx } from '../controllers/routes/system-nginx.js';
import type { Logger } from 'pino';
import { ContainerController } from '../controllers/containers/container-controller.js';
import { ContainerExecutor } from '../controllers/containers/container-executor.js';
import { Drainer } from '../controllers/containers/drainer.js';
import { errorMessage } from '../errors.js';
import { DesiredState } from '../manifest/desired-state.js';
import type { LoadResult } from '../manifest/types.js';
import { createManifestSource } from '../source/manifest-source.js';
import { SourceStatusRecorder } from '../source/source-status.js';
import { listManagedContainers } from '../observe/docker-containers.js';
import { watchContainerEvents } from '../observe/docker-events.js';
import { HealthProber } from '../observe/health-prober.js';
import { WorkQueue } from '../reconcile/work-queue.js';
import { Store } from '../store/store.js';
import { HistoryRecorder } from '../history/history-recorder.js';
import { MetricHistory } from '../history/metric-history.js';
import { ManifestStatusRecorder } from './manifest-status.js';
import type { DaemonOptions } from './options.js';

function createLoadBalancer(options: DaemonOptions, logger: Logger): LoadBalancer & { ensureRunning?: () => Promise<unknown> } {
  const listen = { host: options.lbHost, port: options.lbPort };
  if (options.nginxConfDir) {
    return new SystemNginx({ confDir: options.nginxConfDir, listen, logsDir: nginxLogsDir(options), stateDir: options.stateDir, logger });
  }
  return new NginxProcess({ prefixDir: nginxPrefixDir(options.stateDir), listen, logger });
}

export function nginxPrefixDir(stateDir: string): string {
  return join(stateDir, 'nginx');
}

/** Where nginx writes the per-app JSON access logs the autoscaler reads. */
function nginxLogsDir(options: DaemonOptions): string {
  return options.nginxConfDir ? join(options.stateDir, 'nginx-logs') : join(nginxPrefixDir(options.stateDir), 'logs');
}

/** Longest wait at start for adopted replicas' first probe before routes are synced anyway. */
const ROUTES_WARMUP_MAX_MS = 10_000;

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
  docker: Docker;
  /** Resolves once the first manifest load has been applied. */
  ready: Promise<void>;
  /** Git mode: fetch now instead of waiting for the interval (SIGHUP, `autoserve sync`). */
  syncNow(): void;
  /** Enqueues every known app now. */
  resyncAll(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Wires the parts together: manifest source -> desired state -> keyed work queue -> container
 * controller, with Docker events, health flips and a periodic resync as the other triggers.
 */
export async function startDaemon(options: DaemonOptions, logger: Logger): Promise<Daemon> {
  const docker = new Docker();
  try {
    await docker.ping();
  } catch (err) {
    throw new Error(`cannot reach the Docker engine (${errorMessage(err)}); is dockerd running?`);
  }
  const store = await Store.open(options.dbPath, logger);
  const metrics = new AutoserveMetrics({ apps: () => store.apps() });
  let readyFlag = false;
  const history = new MetricHistory(options.historyIntervalMs);
  let recorder: HistoryRecorder | undefined; // the API listens before the recorder exists
  const api = createApiServer({
    history,
    replicaLoads: (app) => recorder?.replicaLoads(app) ?? [],
    store,
    docker,
    instance: options.instance,
    isReady: () => readyFlag,
    manifestsDir: options.manifestsDir,
    metrics,
    appMetrics: (app) => scaler.current(app),
    authToken: options.authToken,
    enableWriteApi: options.enableWriteApi,
    logger,
  });
  const apiPort = await listen(api, options.host, options.port); // /healthz answers during start-up
  const desired = new DesiredState({ allowEmptyPrune: options.allowEmptyPrune });
  const manifestStatus = new ManifestStatusRecorder(store);
  const sourceStatus = new SourceStatusRecorder(store);
  let lastLoad: LoadResult | undefined;
  let routes: RoutesController | undefined;
  let stopping = false;
  // Routes wait until every adopted replica has had its first probe: otherwise the first sync after
  // a controller restart would publish adopted replicas, still "starting" to us, as gone.
  let routesWarm!: () => void;
  const warm = new Promise<void>((resolve) => (routesWarm = resolve));
  const requestRoutes = () =>
    warm
      .then(() => routes?.request())
      .catch((err: unknown) => {
        if (!stopping) logger.warn({ err: errorMessage(err) }, 'route sync failed');
      });

  let queue: WorkQueue;
  const prober = new HealthProber((change) => {
    metrics.healthCheck(change.to);
    const { app, name } = change.target;
    store.addEvent({
      app,
      type: change.to === 'ready' ? 'Normal' : 'Warning',
      reason: change.to === 'ready' ? 'ReplicaReady' : 'ReplicaUnhealthy',
      message: `${name}: ${change.from} -> ${change.to} (${change.detail})`,
    });
    void requestRoutes(); // in or out of the upstream at once, not at the next pass
    queue.add(app);
  });
  const drainer = new Drainer({
    docker,
    logger,
    leaveUpstream: async () => {
      await warm;
      await routes?.request();
    },
    onGone: (app, id) => {
      prober.forget(id);
      controller.forget(app, id);
      queue.add(app);
    },
  });
  const controller = new ContainerController({
    docker,
    store,
    desired: {
      get: (name) => desired.get(name),
      // Prune guard: an empty or missing manifest directory never removes apps by itself.
      mayPrune: () => options.allowEmptyPrune || (lastLoad !== undefined && lastLoad.fileCount > 0),
    },
    prober,
    drainer,
    executor: new ContainerExecutor(docker, drainer, logger),
    logger,
    env: process.env,
    instance: options.instance,
    labels: options.containerLabels,
    onReplicasChanged: () => void requestRoutes(),
    isRouted: options.disableLb
      ? undefined
      : (app, replica) => {
          const port = desired.get(app)?.manifest.spec.ports[0]?.containerPort;
          const hostPort = port === undefined ? undefined : replica.hostPorts[port];
          return hostPort !== undefined && routes !== undefined && routes.isServed(app, hostPort);
        },
  });
  const accessLog = new AccessLogMetrics({
    logsDir: nginxLogsDir(options),
    logger: logger.child({ component: 'access-log' }),
    windowSeconds: ACCESS_LOG_WINDOW_SECONDS,
    pollIntervalMs: ACCESS_LOG_POLL_MS,
  });
  // Its own sampler: CPU is a delta between two readings of one sampler, so two loops can't share one.
  const sampler = new ContainerMetricsSampler({ docker, logger: logger.child({ component: 'history' }) });
  recorder = new HistoryRecorder({ history, apps: () => store.apps(), requests: accessLog, sampler, logger });
  const scaler = new ScalerController({
    store,
    logger: logger.child({ controller: 'scaler' }),
    apps: () => desired.all(),
    containersOf: (app) => controller.containersOf(app),
    isReady: (id) => prober.health(id) === 'ready' && !drainer.isDraining(id),
    isDraining: (id) => drainer.isDraining(id),
    accessLog,
    sampler: new ContainerMetricsSampler({ docker, logger: logger.child({ component: 'container-metrics' }) }),
    onScaled: (app, from, to) => {
      metrics.scaleEvent(app, to > from ? 'up' : 'down');
      queue.add(app);
    },
  });
  metrics.setAppMetricsProvider((app) => scaler.current(app));
  if (!options.disableLb) {
    routes = new RoutesController({
      balancer: createLoadBalancer(options, logger),
      store,
      logger: logger.child({ controller: 'routes' }),
      apps: () => desired.all(),
      onServedChanged: (app) => queue.add(app),
      // Only real reloads (and failed applies) count; a Lua membership update is not a reload.
      onApplied: ({ ok, reloaded, durationMs }) => {
        if (reloaded || !ok) metrics.nginxReload(ok, durationMs);
      },
      servingReplicas: (app) => {
        const port = desired.get(app)?.manifest.spec.ports[0]?.containerPort;
        if (port === undefined) return [];
        return controller
          .containersOf(app)
          .filter((c) => c.running && c.hostPorts[port] && prober.health(c.id) === 'ready' && !drainer.isDraining(c.id))
          .sort((a, b) => a.slot - b.slot || a.name.localeCompare(b.name))
          .map((c) => ({ host: '127.0.0.1', port: c.hostPorts[port]! }));
      },
    });
    try {
      await routes.start();
    } catch (err) {
      await closeServer(api);
      throw err;
    }
  }
  queue = new WorkQueue({
    worker: async (key) => {
      const started = performance.now();
      try {
        const result = await controller.reconcile(key);
        metrics.observeReconcile(performance.now() - started, true);
        return result;
      } catch (err) {
        metrics.observeReconcile(performance.now() - started, false);
        throw err;
      }
    },
    onError: ({ key, error, attempt, delayMs }) =>
      logger.warn({ app: key, attempt, retryInMs: delayMs, err: errorMessage(error) }, 'reconcile failed; backing off'),
  });

  const resyncAll = async () => {
    const apps = new Set(desired.all().map((a) => a.manifest.metadata.name));
    try {
      const epoch = controller.listingEpoch();
      const all = await listManagedContainers(docker, options.instance);
      controller.prime(all, epoch);
      for (const c of all) apps.add(c.app);
    } catch (err) {
      logger.warn({ err: errorMessage(err) }, 'resync could not list containers');
    }
    for (const status of store.apps()) apps.add(status.name);
    queue.resync(apps);
    void requestRoutes(); // also notices a hand-edited nginx config
  };

  let resolveReady!: () => void;
  const ready = new Promise<void>((resolve) => (resolveReady = resolve));
  let readySeen = false;
  // Ready once the first load is applied and what Docker already runs is adopted.
  const markReady = () => {
    if (readySeen) return;
    readySeen = true;
    void resyncAll().then(() => {
      readyFlag = true;
      resolveReady();
      void warmUpRoutes();
    });
  };
  const warmUpRoutes = async () => {
    const deadline = Date.now() + ROUTES_WARMUP_MAX_MS;
    const probed = () =>
      desired.all().every((app) => {
        const name = app.manifest.metadata.name;
        return controller.hasObserved(name) && controller.containersOf(name).every((c) => !c.running || prober.hasResult(c.id));
      });
    while (!probed() && Date.now() < deadline && !stopping) await new Promise((r) => setTimeout(r, 50));
    routesWarm();
    void requestRoutes();
  };
  const source = createManifestSource(
    options,
    {
      onLoad: (result, revision) => {
        lastLoad = result;
        const applied = desired.apply(result);
        manifestStatus.record(result, desired);
        if (revision) sourceStatus.recordRevision(revision, applied, desired);
        logger.info(
          { files: result.fileCount, apps: result.apps.size, errors: result.errors.length, commit: revision?.commit.slice(0, 12), ...applied },
          'manifests loaded',
        );
        for (const app of [...applied.changed, ...applied.removed, ...applied.invalid]) queue.add(app);
        markReady();
        void requestRoutes();
      },
      onSourceError: (failure) => sourceStatus.recordFailure(failure, desired),
      onSourceRecovered: () => sourceStatus.recordRecovered(),
      onWatchError: (err) => logger.error({ err: errorMessage(err) }, 'manifest watcher error'),
    },
    logger,
  );
  void source.start().then(markReady, (err: unknown) => {
    logger.error({ err: errorMessage(err) }, 'manifest source failed to start');
    markReady();
  });

  const events = watchContainerEvents(
    docker,
    options.instance,
    {
      onApp: (app) => {
        controller.invalidate();
        queue.add(app);
      },
      onReconnect: () => void resyncAll(),
    },
    logger.child({ component: 'docker-events' }),
  );
  await accessLog.start();
  scaler.start();
  recorder.start();
  const resyncTimer = setInterval(() => void resyncAll(), options.resyncMs);
  resyncTimer.unref();

  return {
    store,
    desired,
    controller,
    routes,
    metrics,
    api,
    apiPort,
    queue,
    docker,
    ready,
    resyncAll,
    syncNow: () => source.syncNow?.(),
    async stop() {
      stopping = true;
      await closeServer(api);
      clearInterval(resyncTimer);
      scaler.stop();
      recorder?.stop();
      await accessLog.stop();
      events.close();
      await source.stop();
      await queue.drain(); // finish what is in flight; app containers keep running
      await drainer.close(); // drains in flight finish: nothing is left half-drained
      prober.close();
      routes?.close();
      await store.flush();
    },
  };
}
