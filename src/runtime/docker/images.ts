// Images: present or not, and pulled within a bound. Nothing can be pulled on a host without a
// registry; then the pull fails fast and clearly (ImagePullFailedError).
import type Docker from 'dockerode';
import type { Logger } from 'pino';
import { ImagePullFailedError, errorMessage } from '../../errors.js';
import type { ContainerRuntime } from '../runtime.js';
import { untilAborted } from '../../core/with-timeout.js';
import { DOCKER_CALL_TIMEOUT_MS, PULL_STALL_MS, dockerCall } from './docker-call.js';
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
 * Pulls `image`, aborting the engine's pull when it reports no progress for `stallMs` or takes
 * longer than the overall bound (so a pull given up is over, not still running beside the next
 * one). An abort of `signal` rejects with its reason; any other failure is ImagePullFailedError.
 */
export async function pullImage(docker: Docker, image: string, signal?: AbortSignal, stallMs = PULL_STALL_MS): Promise<void> {
  try {
    await dockerCall(`pull of ${image}`, DOCKER_CALL_TIMEOUT_MS.pull, signal, (abortSignal) => pull(docker, image, abortSignal, stallMs));
  } catch (err) {
    if (signal?.aborted) throw err;
    throw new ImagePullFailedError(image, errorMessage(err), err);
  }
}

async function pull(docker: Docker, image: string, callSignal: AbortSignal, stallMs: number): Promise<void> {
  const stall = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const progressed = () => {
    clearTimeout(timer);
    timer = setTimeout(() => stall.abort(new Error(`no progress for ${Math.round(stallMs / 1000)} s`)), stallMs);
  };
  const abortSignal = AbortSignal.any([callSignal, stall.signal]);
  progressed();
  try {
    const stream = (await untilAborted(docker.pull(image, { abortSignal }), abortSignal)) as NodeJS.ReadableStream;
    await new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        (stream as unknown as { destroy?: (e?: Error) => void }).destroy?.(new Error('pull aborted'));
        reject(stall.signal.aborted ? stall.signal.reason : new Error('pull aborted'));
      };
      if (abortSignal.aborted) return onAbort();
      abortSignal.addEventListener('abort', onAbort, { once: true });
      docker.modem.followProgress(
        stream,
        (err: Error | null, output: { error?: string }[]) => {
          const failure = err?.message ?? output?.find((o) => o.error)?.error;
          if (failure) reject(new Error(failure));
          else resolve();
        },
        progressed,
      );
    });
  } catch (err) {
    throw stall.signal.aborted ? stall.signal.reason : err;
  } finally {
    clearTimeout(timer);
  }
}
