// Images: present, or pulled within a bound. Nothing can be pulled on a host without a registry;
// then the pull fails fast and clearly (ImagePullFailedError).
import type Docker from 'dockerode';
import type { Logger } from 'pino';
import { withTimeout } from '../../core/with-timeout.js';
import { ImagePullFailedError, errorMessage } from '../../errors.js';
import { isStatus } from './docker-status.js';

export const PULL_TIMEOUT_MS = 120_000;

export async function ensureImage(docker: Docker, image: string, logger: Logger, signal?: AbortSignal): Promise<void> {
  try {
    await docker.getImage(image).inspect();
    return;
  } catch (err) {
    if (!isStatus(err, 404)) throw err;
  }
  logger.info({ image }, 'image not present; pulling');
  try {
    await withTimeout(pull(docker, image), PULL_TIMEOUT_MS, `pull of ${image} timed out`, signal);
  } catch (err) {
    if (signal?.aborted) throw err;
    throw new ImagePullFailedError(image, errorMessage(err), err);
  }
}

async function pull(docker: Docker, image: string): Promise<void> {
  const stream = await docker.pull(image);
  await new Promise<void>((resolve, reject) => {
    docker.modem.followProgress(stream, (err: Error | null, output: { error?: string }[]) => {
      const failure = err?.message ?? output?.find((o) => o.error)?.error;
      if (failure) reject(new Error(failure));
      else resolve();
    });
  });
}
