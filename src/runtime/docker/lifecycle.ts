// Create, start, stop, remove of one replica, with Docker's status codes turned into the
// runtime's semantics: a missing container is already gone, a taken name is ReplicaExistsError.
// Each call is bounded (docker-call.ts).
import type Docker from 'dockerode';
import { ReplicaExistsError } from '../../errors.js';
import type { ReplicaRequest } from '../runtime.js';
import { containerCreateOptions } from './create-options.js';
import { DOCKER_CALL_TIMEOUT_MS, dockerCall } from './docker-call.js';
import { isStatus } from './docker-status.js';
import { networkOf, type NetworkEnsurer } from './networks.js';

/**
 * Creates a replica on its network, making the network first when it is missing. (Docker resolves
 * the network at start: one removed by hand in between fails that start, and the next pass, which
 * replaces the replica that did not run, makes it again.)
 */
export async function createReplica(docker: Docker, networks: NetworkEnsurer, request: ReplicaRequest, signal?: AbortSignal): Promise<{ id: string; name: string }> {
  const options = containerCreateOptions(request);
  await networks.ensure(networkOf(request.instance, request.app, request.shape.network), request.labels, signal);
  try {
    const container = await dockerCall(`create of ${options.name}`, DOCKER_CALL_TIMEOUT_MS.create, signal, (abortSignal) =>
      docker.createContainer({ ...options, abortSignal } as Docker.ContainerCreateOptions),
    );
    return { id: container.id, name: options.name! };
  } catch (err) {
    // Never remove what holds the name: it may be serving.
    if (isStatus(err, 409)) throw new ReplicaExistsError(options.name!, err);
    throw err;
  }
}

export async function startReplica(docker: Docker, id: string, signal?: AbortSignal): Promise<void> {
  try {
    await dockerCall(`start of ${id.slice(0, 12)}`, DOCKER_CALL_TIMEOUT_MS.start, signal, (abortSignal) => docker.getContainer(id).start({ abortSignal }));
  } catch (err) {
    if (!isStatus(err, 304)) throw err; // 304: already running
  }
}

export async function stopReplica(docker: Docker, id: string, timeoutSeconds: number, signal?: AbortSignal): Promise<void> {
  const boundMs = timeoutSeconds * 1000 + DOCKER_CALL_TIMEOUT_MS.stop;
  try {
    await dockerCall(`stop of ${id.slice(0, 12)}`, boundMs, signal, (abortSignal) => docker.getContainer(id).stop({ t: timeoutSeconds, abortSignal }));
  } catch (err) {
    if (!isStatus(err, 304) && !isStatus(err, 404)) throw err; // 304: already stopped
  }
}

export async function removeReplica(docker: Docker, id: string, signal?: AbortSignal): Promise<void> {
  try {
    await dockerCall(`remove of ${id.slice(0, 12)}`, DOCKER_CALL_TIMEOUT_MS.remove, signal, (abortSignal) => docker.getContainer(id).remove({ force: true, v: true, abortSignal }));
  } catch (err) {
    if (!isStatus(err, 404) && !isStatus(err, 409)) throw err; // 409: removal already in progress
  }
}
