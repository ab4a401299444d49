// Images: present or not, and pulled within a bound. Nothing can be pulled on a host without a
// registry; then the pull fails fast and clearly (ImagePullFailedError).
import type Docker from 'dockerode';
import type { Logger } from 'pino';
import { ImagePullFailedError, errorMessage } from '../../errors.js';
import type { ContainerRuntime } from '../runtime.js';
import { DOCKER_CALL_TIMEOUT_MS, dockerCall } from './docker-call.js';
import { isStatus } from './docker-status.js';

/** The runtime's image verbs on one engine (a Docker host's, or a Swarm manager's). */
export function engineImages(docker: Docker, logger: Logger): Pick<ContainerRuntime, 'hasImage' | 'pullImage'> {
  return {
    hasImage: (image, options = {}) => hasImage(docker, image, options.signal),
    pullImage: (image, options = {}) => {
      logger.info({ image }, 'pulling image');
      return pullImage(docker, image, options.signal);
    },
  };
}

export async function hasImage(docker: Docker, image: string, signal?: AbortSignal): Promise<boolean> {
  try {
    await dockerCall(`inspect of image ${image}`, DOCKER_CALL_TIMEOUT_MS.imageInspect, signal, () => docker.getImage(image).inspect());
    return true;
  } catch (err) {
    if (isStatus(err, 404)) return false;
    throw err;
  }
}

/**
 * Pulls `image`, aborting the engine's pull when it takes longer than the bound (so a pull that
 * timed out is over, not still running beside the next one). An abort of `signal` rejects with
 * its reason; any other failure is ImagePullFailedError.
 */
export async function pullImage(docker: Docker, image: string, signal?: AbortSignal): Promise<void> {
  try {
    await dockerCall(`pull of ${image}`, DOCKER_CALL_TIMEOUT_MS.pull, signal, (abortSignal) => pull(docker, image, abortSignal));
  } catch (err) {
    if (signal?.aborted) throw err;
    throw new ImagePullFailedError(image, errorMessage(err), err);
  }
}

async function pull(docker: Docker, image: string, abortSignal: AbortSignal): Promise<void> {
  const stream = (await docker.pull(image, { abortSignal })) as NodeJS.ReadableStream;
  await new Promise<void>((resolve, reject) => {
    abortSignal.addEventListener('abort', () => (stream as unknown as { destroy?: (e?: Error) => void }).destroy?.(new Error('pull aborted')), { once: true });
    docker.modem.followProgress(stream, (err: Error | null, output: { error?: string }[]) => {
      const failure = err?.message ?? output?.find((o) => o.error)?.error;
      if (failure) reject(new Error(failure));
      else resolve();
    });
  });
}
