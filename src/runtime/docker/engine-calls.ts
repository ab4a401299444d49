// The engine's own endpoints (ping, info), bounded like every call (docker-call.ts). Shared by the
// Docker and the Swarm runtime: both talk to one engine's API.
import type Docker from 'dockerode';
import { DOCKER_CALL_TIMEOUT_MS, dockerCall } from './docker-call.js';

export async function pingEngine(docker: Docker, signal?: AbortSignal): Promise<void> {
  await dockerCall('ping', DOCKER_CALL_TIMEOUT_MS.ping, signal, (abortSignal) => withOptions(docker.ping).call(docker, { abortSignal }));
}

/** `GET /info`, typed as far as the caller reads it. */
export async function engineInfo<T>(docker: Docker, signal?: AbortSignal): Promise<T> {
  return (await dockerCall('info', DOCKER_CALL_TIMEOUT_MS.info, signal, (abortSignal) => withOptions(docker.info).call(docker, { abortSignal }))) as T;
}

/** dockerode takes an options argument (abortSignal) on ping and info; its types do not say so. */
function withOptions(method: (...args: never[]) => unknown): (this: Docker, options: { abortSignal: AbortSignal }) => Promise<unknown> {
  return method as unknown as (this: Docker, options: { abortSignal: AbortSignal }) => Promise<unknown>;
}
