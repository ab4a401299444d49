// The parts that differ between a single Docker host and a Swarm: the runtime, and who may act.
// The daemon wires the same controllers to either (`--runtime docker|swarm`).
import type { Logger } from 'pino';
import { instanceObjectName } from '../core/labels.js';
import { soleLeadership, type Leadership } from '../core/leadership.js';
import { errorMessage } from '../errors.js';
import { DockerRuntime } from '../runtime/docker/docker-runtime.js';
import type { ContainerRuntime } from '../runtime/runtime.js';
import { defaultIdentity } from '../runtime/swarm/leader-lease.js';
import { LeaseLeadership } from '../runtime/swarm/lease-leadership.js';
import type { RouteInstaller } from '../runtime/swarm/overlay-gateway.js';
import { SwarmRuntime } from '../runtime/swarm/swarm-runtime.js';
import type { DaemonOptions } from './options.js';

export interface RuntimeParts {
  runtime: ContainerRuntime;
  leadership: Leadership;
  /**
   * Why this runtime cannot scale an app to zero, if it cannot: an app is idle only when every
   * request for it would pass the one nginx that watches it.
   */
  noScaleToZero?: string;
  /** Starts contending for leadership (Swarm); `onChange` hears each start and end of leading. */
  startLeading(onChange: (leading: boolean) => void): void;
  /** Stops contending (releasing a held lease) and closes the runtime. */
  close(): Promise<void>;
}

export interface RuntimePartsOverrides {
  /** Swarm: how the overlay's route is installed (tests that run the controller off the manager's namespace). */
  installRoute?: RouteInstaller;
  /** The engine to use instead of DOCKER_HOST's. */
  docker?: ConstructorParameters<typeof DockerRuntime>[0]['docker'];
}

/** Aborted: the start-up is cut short (a stop signal); what was made is closed again. */
export interface RuntimePartsStart extends RuntimePartsOverrides {
  signal?: AbortSignal;
}

/** Builds and checks the runtime parts; rejects with a message a person can act on. */
export async function createRuntimeParts(options: DaemonOptions, logger: Logger, start: RuntimePartsStart = {}): Promise<RuntimeParts> {
  const { signal } = start;
  if (options.runtime === 'swarm') {
    const runtime = new SwarmRuntime({
      logger,
      instance: options.instance,
      docker: start.docker,
      gatewayImage: options.swarmGatewayImage,
      installRoute: start.installRoute,
    });
    try {
      await reachable(runtime, signal);
      await runtime.prepare({ signal });
    } catch (err) {
      runtime.close();
      throw err;
    }
    const leadership = new LeaseLeadership({ docker: runtime.docker, leaseName: instanceObjectName(options.instance, 'leader'), logger });
    return {
      runtime,
      leadership,
      // Each controller's nginx sees only the requests sent to it, and only the leader acts.
      noScaleToZero: "on a Docker Swarm each controller's nginx sees only its own requests; scale to zero needs --runtime docker",
      startLeading: (onChange) => leadership.start(onChange),
      async close() {
        await leadership.stop();
        runtime.close();
      },
    };
  }
  const runtime = new DockerRuntime({ logger, docker: start.docker });
  try {
    await reachable(runtime, signal);
    await warnUnlessReplicasSurviveRestart(runtime, logger, signal);
  } catch (err) {
    runtime.close();
    throw err;
  }
  return {
    runtime,
    leadership: soleLeadership(defaultIdentity()),
    startLeading: () => undefined,
    async close() {
      runtime.close();
    },
  };
}

async function reachable(runtime: ContainerRuntime, signal: AbortSignal | undefined): Promise<void> {
  try {
    await runtime.ping({ signal });
  } catch (err) {
    signal?.throwIfAborted();
    throw new Error(`cannot reach the Docker engine (${errorMessage(err)}); is dockerd running?`);
  }
}

/**
 * Without live-restore a dockerd restart stops every replica (docs/operations.md, "Failure modes").
 * One host only: on a Swarm, live-restore keeps no service's task (Swarm itself replaces them).
 */
async function warnUnlessReplicasSurviveRestart(runtime: ContainerRuntime, logger: Logger, signal: AbortSignal | undefined): Promise<void> {
  const facts = await runtime.engine({ signal }).catch(() => undefined);
  signal?.throwIfAborted();
  if (facts && !facts.replicasSurviveRestart) {
    logger.warn(
      'dockerd live-restore is off: a restart of dockerd stops every app replica (AutoServe starts new ones once it answers). ' +
        'Set "live-restore": true in /etc/docker/daemon.json to keep them running (docs/operations.md, "Failure modes")',
    );
  }
}
