// The Docker Swarm implementation of the runtime seam (docs/cluster.md). The controller runs on a
// manager and talks to its engine; each replica is a Swarm service with one task, placed on any
// node by Swarm, reached by its address on an attachable overlay network through the gateway on
// this engine. What is the same as on one host (images, log framing, CPU and memory of containers
// on this engine) is the Docker implementation's.
import Docker from 'dockerode';
import type { Logger } from 'pino';
import { LABEL_APP, LABEL_INSTANCE, instanceObjectName } from '../../core/labels.js';
import type { ReplicaFacts } from '../../core/replica.js';
import { ContainerMetricsSampler, type MetricsSource } from '../docker/container-metrics.js';
import { DOCKER_CALL_TIMEOUT_MS, dockerCall } from '../docker/docker-call.js';
import { isStatus } from '../docker/docker-status.js';
import { engineInfo, pingEngine } from '../docker/engine-calls.js';
import { engineImages } from '../docker/images.js';
import { readReplicaLogs } from '../docker/logs.js';
import { managedLabelFilter } from '../docker/replica-facts.js';
import type {
  CallOptions,
  ContainerRuntime,
  EngineFacts,
  LogLine,
  LogQuery,
  ReplicaEventHandlers,
  ReplicaRequest,
  ReplicaScope,
  ReplicaUsage,
  UsageReader,
  UsageTarget,
} from '../runtime.js';
import { DEFAULT_GATEWAY_IMAGE, ensureOverlayNetwork, OverlayGateway, type OverlayNetwork, type RouteInstaller } from './overlay-gateway.js';
import { spreadConstraints } from './placement.js';
import type { TaskPlacement } from './replica-facts.js';
import { placementOf, serviceSpecOf } from './service-spec.js';
import type { SwarmService } from './swarm-objects.js';
import { KeyedLock } from '../../core/keyed-lock.js';
import { createService, inspectService, listReplicas, removeService, startService, stopService } from './services.js';
import { watchSwarm } from './watch.js';

/** How often the gateway (container, NAT rule, routes) is checked and repaired. */
const GATEWAY_CHECK_MS = 5_000;

export interface SwarmRuntimeOptions {
  logger: Logger;
  /** The controller instance: names of the overlay network and the gateway follow it. */
  instance: string;
  /** Default: the local engine (DOCKER_HOST or /var/run/docker.sock), which must be a Swarm manager. */
  docker?: Docker;
  /** The gateway container's image (default busybox:stable; anything with `sleep`). */
  gatewayImage?: string;
  /** How routes to the overlay are added where AutoServe runs (default: `ip route replace`). */
  installRoute?: RouteInstaller;
  /** How often the replicas are listed to notice task changes (default 1 s). */
  pollMs?: number;
  metricsSource?: MetricsSource;
}

export class SwarmRuntime implements ContainerRuntime {
  readonly docker: Docker;
  readonly networkName: string;
  private readonly logger: Logger;
  private readonly reader: LocalTaskUsage;
  // Each node's agent pulls (or uses its local copy) when it runs a task; these are the manager's.
  readonly hasImage: ContainerRuntime['hasImage'];
  readonly pullImage: ContainerRuntime['pullImage'];
  private network: OverlayNetwork | undefined;
  private localNodeId = '';
  /** The current task of each replica listed last: where usage is read, and on which container. */
  private readonly placements = new Map<string, TaskPlacement & { app: string }>();
  private gatewayTimer: NodeJS.Timeout | undefined;
  /** One placement decision at a time per app, so each sees where the previous one went. */
  private readonly placing = new KeyedLock();

  constructor(private readonly options: SwarmRuntimeOptions) {
    this.docker = options.docker ?? new Docker();
    this.logger = options.logger.child({ runtime: 'swarm' });
    this.networkName = instanceObjectName(options.instance, 'overlay');
    this.reader = this.newUsageReader();
    ({ hasImage: this.hasImage, pullImage: this.pullImage } = engineImages(this.docker, this.logger));
  }

  private newUsageReader(): LocalTaskUsage {
    const sampler = new ContainerMetricsSampler({ docker: this.docker, logger: this.options.logger, source: this.options.metricsSource });
    return new LocalTaskUsage(sampler, (id) => {
      const placement = this.placements.get(id);
      return placement?.nodeId === this.localNodeId ? placement.containerId : undefined;
    });
  }

  /**
   * Before first use: checks that the engine is an active Swarm manager, makes the overlay network
   * and the gateway, and keeps the gateway repaired from then on (one check at a time: a manager
   * that does not answer costs a check its bounds, never a pile of them).
   */
  async prepare(options: CallOptions = {}): Promise<void> {
    const info = await engineInfo<{ Swarm?: { LocalNodeState?: string; ControlAvailable?: boolean; NodeID?: string } }>(this.docker, options.signal);
    if (info.Swarm?.LocalNodeState !== 'active') {
      throw new Error(`--runtime swarm: this Docker engine is not in a swarm (state ${info.Swarm?.LocalNodeState ?? 'unknown'}); run docker swarm init or join`);
    }
    if (!info.Swarm.ControlAvailable) {
      throw new Error('--runtime swarm: this Docker engine is a swarm worker; run AutoServe on a manager (docker node promote)');
    }
    this.localNodeId = info.Swarm.NodeID ?? '';
    this.network = await ensureOverlayNetwork(this.docker, this.networkName, this.options.instance, options.signal);
    const gateway = new OverlayGateway({
      docker: this.docker,
      network: this.network,
      name: instanceObjectName(this.options.instance, 'gateway'),
      image: this.options.gatewayImage ?? DEFAULT_GATEWAY_IMAGE,
      instance: this.options.instance,
      installRoute: this.options.installRoute,
      logger: this.logger,
    });
    await gateway.ensure(options.signal);
    let checking = false;
    this.gatewayTimer = setInterval(() => {
      if (checking) return;
      checking = true;
      gateway
        .ensure()
        .catch((err: unknown) => this.logger.warn({ err: String(err) }, 'overlay gateway check failed; retrying'))
        .finally(() => (checking = false));
    }, GATEWAY_CHECK_MS);
    this.gatewayTimer.unref();
  }

  /** This engine's node id in the swarm (known after prepare). */
  get nodeId(): string {
    return this.localNodeId;
  }

  private requireNetwork(): OverlayNetwork {
    if (!this.network) throw new Error('SwarmRuntime used before prepare()');
    return this.network;
  }

  ping(options: CallOptions = {}): Promise<void> {
    return pingEngine(this.docker, options.signal);
  }

  /**
   * Live-restore keeps standalone containers only, never a service's task: a node whose engine
   * restarts has its tasks replaced by Swarm (docs/cluster.md). So replicas never survive it here.
   */
  async engine(): Promise<EngineFacts> {
    return { replicasSurviveRestart: false };
  }

  async list(scope: ReplicaScope, options: CallOptions = {}): Promise<ReplicaFacts[]> {
    const listing = await listReplicas(this.docker, scope, this.networkName, options.signal);
    // The listing is the whole truth for its scope: what it lacks has no current task any more.
    for (const [id, placement] of this.placements) {
      if (scope.app === undefined || placement.app === scope.app) this.placements.delete(id);
    }
    for (const f of listing.facts) {
      const placement = listing.placements.get(f.id);
      if (placement) this.placements.set(f.id, { ...placement, app: f.app });
    }
    return listing.facts;
  }

  async inspect(id: string, options: CallOptions = {}): Promise<ReplicaFacts | undefined> {
    const service = await inspectService(this.docker, id, options.signal);
    if (!service) return undefined;
    const labels = service.Spec.Labels ?? {};
    const facts = await this.list({ instance: labels[LABEL_INSTANCE] ?? '', app: labels[LABEL_APP] }, options);
    return facts.find((f) => f.id === id || f.name === id);
  }

  async create(request: ReplicaRequest, options: CallOptions = {}): Promise<{ id: string; name: string }> {
    // serviceSpecOf refuses what a Swarm cannot honour (UnsupportedByRuntimeError): a rejection too.
    return createService(this.docker, serviceSpecOf(request, this.requireNetwork().name), options.signal);
  }

  /** An app never has an overlay of its own on a Swarm (serviceSpecOf refuses one): nothing to prune. */
  async pruneNetworks(): Promise<string[]> {
    return [];
  }

  /**
   * Starts the task; with spread, one replica of an app at a time picks its nodes (see
   * placement.ts). Bounded as a whole by services.ts START_TIMEOUT_MS (a node may pull first).
   */
  start(id: string, options: CallOptions = {}): Promise<void> {
    return startService(this.docker, id, {
      exclusive: (service, step) => {
        const labels = service.Spec.Labels ?? {};
        return placementOf(labels).spread === 'none' ? step() : this.placing.run(`${labels[LABEL_INSTANCE]}/${labels[LABEL_APP]}`, step);
      },
      constraints: (service) => this.constraintsFor(service, options.signal),
    }, options.signal);
  }

  /** The manifest's constraints, and with spread the nodes to avoid: those running more of the app than the least loaded. */
  private async constraintsFor(service: SwarmService, signal: AbortSignal | undefined): Promise<string[]> {
    const labels = service.Spec.Labels ?? {};
    const placement = placementOf(labels);
    if (placement.spread === 'none') return placement.constraints;
    const listing = await listReplicas(this.docker, { instance: labels[LABEL_INSTANCE] ?? '', app: labels[LABEL_APP] }, this.networkName, signal);
    const appNodes = listing.facts.filter((f) => f.id !== service.ID && f.running && f.node).map((f) => f.node!.nodeId);
    return [...placement.constraints, ...spreadConstraints(listing.nodes.values(), placement.constraints, appNodes)];
  }

  stop(id: string, timeoutSeconds: number, options: CallOptions = {}): Promise<void> {
    return stopService(this.docker, id, timeoutSeconds, options.signal);
  }

  remove(id: string, options: CallOptions = {}): Promise<void> {
    return removeService(this.docker, id, options.signal);
  }

  watch(scope: ReplicaScope, handlers: ReplicaEventHandlers): { close(): void } {
    return watchSwarm(
      {
        docker: this.docker,
        list: () => this.list(scope),
        labelFilter: managedLabelFilter(scope.instance, scope.app),
        pollMs: this.options.pollMs,
        logger: this.logger.child({ component: 'swarm-watch' }),
      },
      handlers,
    );
  }

  /** The replica's output from every node (Swarm's service logs); [] when it is gone. */
  logs(replica: { id: string; name: string }, query: LogQuery, options: CallOptions = {}): Promise<LogLine[]> {
    return readReplicaLogs(replica, query, options.signal, (logOptions) => this.docker.getService(replica.id).logs(logOptions));
  }

  /**
   * CPU and memory of replicas whose task runs on this engine. A manager's engine does not know
   * containers on other nodes (their stats are a 404) and Swarm reports no usage, so remote
   * replicas are absent from the result: the autoscaler then never scales in on CPU or memory.
   */
  usage(targets: readonly UsageTarget[]): Promise<Map<string, ReplicaUsage>> {
    return this.reader.usage(targets);
  }

  forgetUsage(id: string): void {
    this.reader.forgetUsage(id);
  }

  usageReader(): UsageReader & { close(): void } {
    return this.newUsageReader();
  }

  close(): void {
    clearInterval(this.gatewayTimer);
    this.reader.close();
  }
}

/** Usage of the replicas whose current task's container is on this engine, read through that container. */
class LocalTaskUsage implements UsageReader {
  /** The container each replica's usage was last read from (forgotten when its task changes). */
  private readonly sampled = new Map<string, string>();

  constructor(
    private readonly sampler: ContainerMetricsSampler,
    /** The local container of a replica's current task; undefined when it runs elsewhere (or nowhere yet). */
    private readonly localContainerOf: (replicaId: string) => string | undefined,
  ) {}

  async usage(targets: readonly UsageTarget[]): Promise<Map<string, ReplicaUsage>> {
    const byContainer = new Map<string, string>();
    const local: UsageTarget[] = [];
    for (const target of targets) {
      const containerId = this.localContainerOf(target.id);
      if (!containerId) continue;
      const previous = this.sampled.get(target.id);
      if (previous && previous !== containerId) this.sampler.forget(previous); // the task was replaced
      this.sampled.set(target.id, containerId);
      byContainer.set(containerId, target.id);
      local.push({ id: containerId, limits: target.limits });
    }
    const readings = await this.sampler.sample(local);
    const out = new Map<string, ReplicaUsage>();
    for (const [containerId, reading] of readings) out.set(byContainer.get(containerId)!, reading);
    return out;
  }

  forgetUsage(id: string): void {
    const containerId = this.sampled.get(id);
    if (containerId) this.sampler.forget(containerId);
    this.sampled.delete(id);
  }

  close(): void {
    this.sampler.close();
  }
}
