// The Docker implementation of the runtime seam: each verb is a small function in this folder;
// this class binds them to one dockerode client. Replicas join a bridge network of ours
// (networks.ts), and their address there is what it reports.
import Docker from 'dockerode';
import type { Logger } from 'pino';
import { untilAborted } from '../../core/with-timeout.js';
import type { ReplicaFacts } from '../../core/replica.js';
import type {
  CallOptions,
  ContainerRuntime,
  LogLine,
  LogQuery,
  ReplicaEventHandlers,
  ReplicaRequest,
  ReplicaScope,
  ReplicaUsage,
  UsageReader,
  UsageTarget,
} from '../runtime.js';
import { ContainerMetricsSampler, type MetricsSource } from './container-metrics.js';
import { watchContainerEvents } from './events.js';
import { ensureImage } from './images.js';
import { createReplica, removeReplica, startReplica, stopReplica } from './lifecycle.js';
import { readContainerLogs } from './logs.js';
import { NetworkEnsurer, pruneAppNetworks } from './networks.js';
import { factsOf, listManagedContainers, managedLabelFilter } from './replica-facts.js';

export interface DockerRuntimeOptions {
  logger: Logger;
  /** Default: the local engine (DOCKER_HOST or /var/run/docker.sock). */
  docker?: Docker;
  /** Where replica CPU and memory are read: cgroup files where reachable, else the stats API. */
  metricsSource?: MetricsSource;
}

export class DockerRuntime implements ContainerRuntime {
  readonly docker: Docker;
  private readonly logger: Logger;
  private readonly metricsSource: MetricsSource | undefined;
  private readonly sampler: ContainerMetricsSampler;
  private readonly networks: NetworkEnsurer;

  constructor(options: DockerRuntimeOptions) {
    this.docker = options.docker ?? new Docker();
    this.logger = options.logger;
    this.networks = new NetworkEnsurer(this.docker);
    this.metricsSource = options.metricsSource;
    this.sampler = this.newSampler();
  }

  private newSampler(): ContainerMetricsSampler {
    return new ContainerMetricsSampler({ docker: this.docker, logger: this.logger, source: this.metricsSource });
  }

  async ping(options: CallOptions = {}): Promise<void> {
    await untilAborted(this.docker.ping(), options.signal);
  }

  list(scope: ReplicaScope, options: CallOptions = {}): Promise<ReplicaFacts[]> {
    return untilAborted(listManagedContainers(this.docker, scope.instance, scope.app), options.signal);
  }

  async inspect(id: string): Promise<ReplicaFacts | undefined> {
    // The listing's shape (ports, networks and their addresses) is what facts are made from.
    const [info] = await this.docker.listContainers({ all: true, filters: { id: [id] } });
    return info ? factsOf(info) : undefined;
  }

  ensureImage(image: string, options: CallOptions = {}): Promise<void> {
    return ensureImage(this.docker, image, this.logger, options.signal);
  }

  create(request: ReplicaRequest): Promise<{ id: string; name: string }> {
    return createReplica(this.docker, this.networks, request);
  }

  pruneNetworks(scope: Required<ReplicaScope>): Promise<string[]> {
    return pruneAppNetworks(this.docker, scope.instance, scope.app);
  }

  start(id: string): Promise<void> {
    return startReplica(this.docker, id);
  }

  stop(id: string, timeoutSeconds: number): Promise<void> {
    return stopReplica(this.docker, id, timeoutSeconds);
  }

  remove(id: string): Promise<void> {
    return removeReplica(this.docker, id);
  }

  watch(scope: ReplicaScope, handlers: ReplicaEventHandlers): { close(): void } {
    return watchContainerEvents(this.docker, managedLabelFilter(scope.instance, scope.app), handlers, this.logger.child({ component: 'docker-events' }));
  }

  logs(replica: { id: string; name: string }, query: LogQuery): Promise<LogLine[]> {
    return readContainerLogs(this.docker, replica, query);
  }

  usage(targets: readonly UsageTarget[]): Promise<Map<string, ReplicaUsage>> {
    return this.sampler.sample(targets);
  }

  forgetUsage(id: string): void {
    this.sampler.forget(id);
  }

  usageReader(): UsageReader & { close(): void } {
    const sampler = this.newSampler();
    return { usage: (targets) => sampler.sample(targets), forgetUsage: (id) => sampler.forget(id), close: () => sampler.close() };
  }

  close(): void {
    this.sampler.close();
  }
}
