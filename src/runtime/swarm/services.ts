// Listing, creating, starting, stopping and removing replicas as Swarm services, with Swarm's
// answers turned into the runtime's semantics (runtime.ts): a missing service is already gone, a
// taken name is ReplicaExistsError, start returns once the task runs, stop once it has stopped.
// Every call to the manager is bounded like a Docker call (docker-call.ts: RuntimeUnresponsiveError
// past its bound), the waits for a task are bounded as a whole, and an aborted signal ends them.
import type Docker from 'dockerode';
import type { ReplicaFacts } from '../../core/replica.js';
import { ReplicaExistsError } from '../../errors.js';
import { DOCKER_CALL_TIMEOUT_MS, dockerCall } from '../docker/docker-call.js';
import { isStatus } from '../docker/docker-status.js';
import { managedLabelFilter } from '../docker/replica-facts.js';
import type { ReplicaScope } from '../runtime.js';
import { replicaFactsOf, taskPlacementOf, type TaskPlacement } from './replica-facts.js';
import { isOutOfSequence } from './swarm-errors.js';
import { isNodeReady, isTerminal, isUnschedulable, isWanted, newestFirst, type ServiceSpec, type SwarmNode, type SwarmService, type SwarmTask } from './swarm-objects.js';
import { sleep } from '../../core/with-timeout.js';

/** A task may have to be pulled on its node before it runs. */
export const START_TIMEOUT_MS = 120_000;
/** Beyond the stop grace period: the agent's report of the stop travels through the managers. */
const STOP_REPORT_MARGIN_MS = 15_000;
const POLL_MS = 200;
const UPDATE_ATTEMPTS = 4;

export interface SwarmListing {
  facts: ReplicaFacts[];
  placements: Map<string, TaskPlacement>;
  nodes: Map<string, SwarmNode>;
}

/** Every replica of the scope with its current task, and the swarm's nodes. Three API calls. */
export async function listReplicas(docker: Docker, scope: ReplicaScope, network: string, signal?: AbortSignal): Promise<SwarmListing> {
  const services = (await dockerCall('list of services', DOCKER_CALL_TIMEOUT_MS.list, signal, (abortSignal) =>
    docker.listServices({ filters: { label: managedLabelFilter(scope.instance, scope.app) }, abortSignal }),
  )) as unknown as SwarmService[];
  const nodes = await listNodes(docker, signal);
  const tasks = services.length === 0 ? [] : await listTasks(docker, services.map((s) => s.ID), signal);
  const facts = services.map((s) => replicaFactsOf(s, tasks, { network, nodes }));
  const placements = new Map<string, TaskPlacement>();
  for (const s of services) {
    const placement = taskPlacementOf(s, tasks);
    if (placement) placements.set(s.ID, placement);
  }
  return { facts, placements, nodes };
}

export async function listNodes(docker: Docker, signal?: AbortSignal): Promise<Map<string, SwarmNode>> {
  const nodes = (await dockerCall('list of nodes', DOCKER_CALL_TIMEOUT_MS.list, signal, (abortSignal) => docker.listNodes({ abortSignal }))) as unknown as SwarmNode[];
  return new Map(nodes.map((n) => [n.ID, n]));
}

async function listTasks(docker: Docker, serviceIds: string[], signal?: AbortSignal): Promise<SwarmTask[]> {
  return (await dockerCall('list of tasks', DOCKER_CALL_TIMEOUT_MS.list, signal, (abortSignal) =>
    docker.listTasks({ filters: { service: serviceIds }, abortSignal }),
  )) as unknown as SwarmTask[];
}

/** The service, or undefined when it does not exist. */
export async function inspectService(docker: Docker, id: string, signal?: AbortSignal): Promise<SwarmService | undefined> {
  try {
    return (await dockerCall(`inspect of service ${id.slice(0, 12)}`, DOCKER_CALL_TIMEOUT_MS.inspect, signal, (abortSignal) => docker.getService(id).inspect({ abortSignal }))) as SwarmService;
  } catch (err) {
    if (isStatus(err, 404)) return undefined;
    throw err;
  }
}

export async function createService(docker: Docker, spec: ServiceSpec, signal?: AbortSignal): Promise<{ id: string; name: string }> {
  try {
    // The spec is the request body; the signal travels beside it (dockerode reads it from the options).
    const created = (await dockerCall(`create of ${spec.Name}`, DOCKER_CALL_TIMEOUT_MS.create, signal, (abortSignal) =>
      docker.createService({ ...spec, abortSignal } as never),
    )) as unknown as { ID?: string; id?: string };
    return { id: created.ID ?? created.id ?? '', name: spec.Name };
  } catch (err) {
    // Never remove what holds the name: it may be serving.
    if (isStatus(err, 409)) throw new ReplicaExistsError(spec.Name, err);
    throw err;
  }
}

/**
 * Sets the service's task count (0 or 1), and its placement constraints when given, re-reading on
 * a concurrent write. Missing: undefined.
 */
async function scaleService(docker: Docker, id: string, replicas: number, constraints: string[] | undefined, signal: AbortSignal | undefined): Promise<SwarmService | undefined> {
  for (let attempt = 1; ; attempt++) {
    const service = await inspectService(docker, id, signal);
    if (!service || service.Spec.Mode.Replicated.Replicas === replicas) return service;
    const template = service.Spec.TaskTemplate;
    const placement = constraints ? { ...template, Placement: constraints.length > 0 ? { Constraints: constraints } : {} } : template;
    try {
      await dockerCall(`update of service ${service.Spec.Name}`, DOCKER_CALL_TIMEOUT_MS.update, signal, (abortSignal) =>
        docker.getService(id).update({
          _query: { version: service.Version.Index },
          _body: { ...service.Spec, TaskTemplate: placement, Mode: { Replicated: { Replicas: replicas } } },
          abortSignal,
        } as never),
      );
      return service;
    } catch (err) {
      if (isStatus(err, 404)) return undefined;
      if (!isOutOfSequence(err) || attempt >= UPDATE_ATTEMPTS) throw err;
    }
  }
}

/** Where a replica goes is decided when it starts (Swarm schedules it then). */
export interface StartPlacement {
  /** Runs the placement step of this service alone among the replicas it competes with (its app's). */
  exclusive<T>(service: SwarmService, step: () => Promise<T>): Promise<T>;
  /** The constraints of the task, decided from where the others run now. */
  constraints(service: SwarmService): Promise<string[]>;
}

/**
 * Scales the service to one task and waits until it runs (or ran and died: that is a crash the
 * controller sees next). With a placement, the constraints are decided and the task is assigned
 * to a node inside its exclusive step, so the next replica's decision sees where this one went.
 * Rejects with Swarm's reason when the task cannot be placed or was rejected (an image the node
 * lacks), or when it does not run within START_TIMEOUT_MS.
 */
export async function startService(docker: Docker, id: string, placement?: StartPlacement, signal?: AbortSignal): Promise<void> {
  const earlier = new Set((await listTasks(docker, [id], signal)).map((t) => t.ID));
  const found = await inspectService(docker, id, signal);
  const service =
    found && placement && found.Spec.Mode.Replicated.Replicas !== 1
      ? await placement.exclusive(found, async () => {
          const scaled = await scaleService(docker, id, 1, await placement.constraints(found), signal);
          await waitUntil(docker, id, START_TIMEOUT_MS, (task) => task.NodeID !== undefined || isTerminal(task) || isUnschedulable(task), signal);
          return scaled;
        })
      : await scaleService(docker, id, 1, undefined, signal);
  if (!service) throw Object.assign(new Error(`no such service: ${id}`), { statusCode: 404 });
  const name = service.Spec.Name;
  const deadline = Date.now() + START_TIMEOUT_MS;
  let last = 'no task yet';
  for (;;) {
    const tasks = (await listTasks(docker, [id], signal)).sort(newestFirst);
    const current = tasks.find(isWanted) ?? tasks.find((t) => !earlier.has(t.ID));
    if (current) {
      const { State, Err } = current.Status;
      if (State === 'running') return;
      if (State === 'rejected' || isUnschedulable(current)) throw new Error(`${name}: task ${State}: ${Err ?? 'no reason given'}`);
      // Ran and died, and Swarm gave up restarting it: a crash, which the controller sees next.
      if (!isWanted(current) && isTerminal(current)) return;
      last = `${State}${Err ? `: ${Err}` : ''}`;
    }
    if (Date.now() > deadline) throw new Error(`${name}: task not running after ${START_TIMEOUT_MS / 1000}s (${last})`);
    await pause(signal);
  }
}

/** Waits (bounded) until the newest task of the service satisfies `done`. */
async function waitUntil(docker: Docker, id: string, timeoutMs: number, done: (task: SwarmTask) => boolean, signal: AbortSignal | undefined): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [newest] = (await listTasks(docker, [id], signal)).sort(newestFirst);
    if ((newest && done(newest)) || Date.now() > deadline) return;
    await pause(signal);
  }
}

/** One poll interval; an aborted signal ends the wait with its reason. */
async function pause(signal: AbortSignal | undefined): Promise<void> {
  await sleep(POLL_MS, signal);
  signal?.throwIfAborted();
}

/**
 * Scales the service to no task (SIGTERM, SIGKILL after its stop grace period) and waits until no
 * task runs on a node that is up; a task on a node that is down stops when its node returns.
 * A missing service is already stopped.
 */
export async function stopService(docker: Docker, id: string, timeoutSeconds: number, signal?: AbortSignal): Promise<void> {
  const service = await scaleService(docker, id, 0, undefined, signal);
  if (!service) return;
  const deadline = Date.now() + timeoutSeconds * 1000 + STOP_REPORT_MARGIN_MS;
  for (;;) {
    const [tasks, nodes] = await Promise.all([listTasks(docker, [id], signal), listNodes(docker, signal)]);
    const stillRunning = tasks.filter((t) => !isTerminal(t) && t.NodeID !== undefined && isNodeReady(nodes.get(t.NodeID)));
    if (stillRunning.length === 0) return;
    if (Date.now() > deadline) throw new Error(`${service.Spec.Name}: task ${stillRunning[0]!.ID} did not stop within ${timeoutSeconds}s`);
    await pause(signal);
  }
}

/** Removes the service (Swarm stops its task). A missing service is already gone. */
export async function removeService(docker: Docker, id: string, signal?: AbortSignal): Promise<void> {
  try {
    await dockerCall(`remove of service ${id.slice(0, 12)}`, DOCKER_CALL_TIMEOUT_MS.remove, signal, (abortSignal) => docker.getService(id).remove({ abortSignal }));
  } catch (err) {
    if (!isStatus(err, 404)) throw err;
  }
}
