// The Docker implementation of the runtime seam: each verb is a small function in this folder;
// this class binds them to one dockerode client. Replicas publish their ports on 127.0.0.1, and
// that is the address it reports.
import Docker from 'dockerode';
import type { Logger } from 'pino';
import { untilAborted } from '../../core/with-timeout.js';
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
  UsageTarget,
} from '../runtime.js';
import { ContainerMetricsSampler, type MetricsSource } from './container-metrics.js';
import { watchContainerEvents } from './events.js';
import { ensureImage } from './images.js';
import { createReplica, removeReplica, startReplica, stopReplica } from './lifecycle.js';
import { readContainerLogs } from './logs.js';
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
  private readonly sampler: ContainerMetricsSampler;

  constructor(options: DockerRuntimeOptions) {
    this.docker = options.docker ?? new Docker();
    this.logger = options.logger;
    this.sampler = new ContainerMetricsSampler({ docker: this.docker, logger: options.logger, source: options.metricsSource });
  }

  async ping(options: CallOptions = {}): Promise<void> {
    await untilAborted(this.docker.ping(), options.signal);
  }

  async engine(options: CallOptions = {}): Promise<EngineFacts> {
    const info = (await untilAborted(this.docker.info(), options.signal)) as { LiveRestoreEnabled?: boolean };
    return { replicasSurviveRestart: info.LiveRestoreEnabled === true };
  }

  list(scope: ReplicaScope, options: CallOptions = {}): Promise<ReplicaFacts[]> {
    return untilAborted(listManagedContainers(this.docker, scope.instance, scope.app), options.signal);
  }

  async inspect(id: string): Promise<ReplicaFacts | undefined> {
    // The listing's shape (ports with their published addresses) is what facts are made from.
    const [info] = await this.docker.listContainers({ all: true, filters: { id: [id] } });
    return info ? factsOf(info) : undefined;
  }

  ensureImage(image: string, options: CallOptions = {}): Promise<void> {
    return ensureImage(this.docker, image, this.logger, options.signal);
  }

  create(request: ReplicaRequest): Promise<{ id: string; name: string }> {
    return createReplica(this.docker, request);
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

  close(): void {
    this.sampler.close();
  }
}
