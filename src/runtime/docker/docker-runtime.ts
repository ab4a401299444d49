// The Docker implementation of the runtime seam: each verb is a small function in this folder;
// this class binds them to one dockerode client. Replicas join a bridge network of ours
// (networks.ts), and their address there is what it reports.
import Docker from 'dockerode';
import type { Logger } from 'pino';
import type { ReplicaFacts } from '../../core/replica.js';
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
import { ContainerMetricsSampler, type MetricsSource } from './container-metrics.js';
import { watchContainerEvents } from './events.js';
import { engineInfo, pingEngine } from './engine-calls.js';
import { engineImages } from './images.js';
import { createReplica, removeReplica, startReplica, stopReplica } from './lifecycle.js';
import { readContainerLogs } from './logs.js';
import { NetworkEnsurer, pruneAppNetworks } from './networks.js';
import { inspectReplica, listManagedContainers, managedLabelFilter } from './replica-facts.js';

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
  readonly hasImage: ContainerRuntime['hasImage'];
  readonly pullImage: ContainerRuntime['pullImage'];
  private readonly networks: NetworkEnsurer;

  constructor(options: DockerRuntimeOptions) {
    this.docker = options.docker ?? new Docker();
    this.logger = options.logger;
    this.networks = new NetworkEnsurer(this.docker);
    this.metricsSource = options.metricsSource;
    this.sampler = this.newSampler();
    ({ hasImage: this.hasImage, pullImage: this.pullImage } = engineImages(this.docker, this.logger));
  }

  private newSampler(): ContainerMetricsSampler {
    return new ContainerMetricsSampler({ docker: this.docker, logger: this.logger, source: this.metricsSource });
  }

  ping(options: CallOptions = {}): Promise<void> {
    return pingEngine(this.docker, options.signal);
  }

  async engine(options: CallOptions = {}): Promise<EngineFacts> {
    const info = await engineInfo<{ LiveRestoreEnabled?: boolean }>(this.docker, options.signal);
    return { replicasSurviveRestart: info.LiveRestoreEnabled === true };
  }

  list(scope: ReplicaScope, options: CallOptions = {}): Promise<ReplicaFacts[]> {
    return listManagedContainers(this.docker, scope.instance, scope.app, options.signal);
  }

  inspect(id: string, options: CallOptions = {}): Promise<ReplicaFacts | undefined> {
    return inspectReplica(this.docker, id, options.signal);
  }

  create(request: ReplicaRequest, options: CallOptions = {}): Promise<{ id: string; name: string }> {
    return createReplica(this.docker, this.networks, request, options.signal);
  }

  start(id: string, options: CallOptions = {}): Promise<void> {
    return startReplica(this.docker, id, options.signal);
  }

  pruneNetworks(scope: Required<ReplicaScope>, options: CallOptions = {}): Promise<string[]> {
    return pruneAppNetworks(this.docker, scope.instance, scope.app, options.signal);
  }

  stop(id: string, timeoutSeconds: number, options: CallOptions = {}): Promise<void> {
    return stopReplica(this.docker, id, timeoutSeconds, options.signal);
  }

  remove(id: string, options: CallOptions = {}): Promise<void> {
    return removeReplica(this.docker, id, options.signal);
  }

  watch(scope: ReplicaScope, handlers: ReplicaEventHandlers): { close(): void } {
    return watchContainerEvents(this.docker, managedLabelFilter(scope.instance, scope.app), handlers, this.logger.child({ component: 'docker-events' }));
  }

  logs(replica: { id: string; name: string }, query: LogQuery, options: CallOptions = {}): Promise<LogLine[]> {
    return readContainerLogs(this.docker, replica, query, options.signal);
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

