// Liveness and readiness. /healthz: the process answers. /readyz: the first manifest load is
// applied and Docker answers a ping (bounded, so a hung dockerd makes readyz fail, not hang).
import type { ApiDeps } from '../api-deps.js';
import { HttpError } from '../http-error.js';
import type { Router } from '../router.js';

export const DOCKER_PING_TIMEOUT_MS = 2_000;

export function addHealthRoutes(router: Router, deps: ApiDeps): void {
  router.get('/healthz', () => ({ status: 'ok' }));
  router.get('/readyz', async () => {
    if (!deps.isReady()) throw new HttpError(503, 'NotReady', 'the first manifest load has not been applied yet');
    try {
      await withTimeout(deps.docker.ping(), DOCKER_PING_TIMEOUT_MS);
    } catch (err) {
      throw new HttpError(503, 'DockerUnavailable', `the Docker engine does not answer: ${err instanceof Error ? err.message : String(err)}`);
    }
    return { status: 'ready' };
  });
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
