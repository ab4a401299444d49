// Liveness and readiness. /healthz: the process answers. /readyz: the first manifest load is
// applied and Docker answers a ping (bounded, so a hung dockerd makes readyz fail, not hang).
// /leader: whether this controller acts, and who does.
import { withTimeout } from '../../core/with-timeout.js';
import type { ApiDeps } from '../api-deps.js';
import { HttpError } from '../http-error.js';
import type { Router } from '../router.js';

export const DOCKER_PING_TIMEOUT_MS = 2_000;

export function addHealthRoutes(router: Router, deps: ApiDeps): void {
  router.get('/healthz', () => ({ status: 'ok' }));
  router.get('/readyz', async () => {
    if (!deps.isReady()) throw new HttpError(503, 'NotReady', 'the first manifest load has not been applied yet');
    try {
      await withTimeout(deps.runtime.ping(), DOCKER_PING_TIMEOUT_MS, `no answer within ${DOCKER_PING_TIMEOUT_MS} ms`);
    } catch (err) {
      throw new HttpError(503, 'DockerUnavailable', `the Docker engine does not answer: ${err instanceof Error ? err.message : String(err)}`);
    }
    return { status: 'ready' };
  });
  // On a Swarm the standby answers too: it names the leader (docs/cluster.md).
  router.get('/leader', () => deps.leadership?.status() ?? { mode: 'single', leading: true });
}
