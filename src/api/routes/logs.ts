// Container logs of an app's replicas, merged by time, each line marked with its replica.
import { listManagedContainers } from '../../observe/docker-containers.js';
import type { ApiDeps } from '../api-deps.js';
import { byTime, readContainerLogs } from '../container-logs.js';
import { appNotFound } from '../http-error.js';
import { intParam, timeParam } from '../query.js';
import type { Router } from '../router.js';

export const DEFAULT_LOG_TAIL = 100;
export const MAX_LOG_TAIL = 10_000;

export function addLogRoutes(router: Router, deps: ApiDeps): void {
  router.get('/apps/:name/logs', async ({ params, query }) => {
    const name = params.name!;
    const tail = intParam(query, 'tail', DEFAULT_LOG_TAIL, 0, MAX_LOG_TAIL);
    const sinceMs = timeParam(query, 'since');
    // Docker is asked directly: the controller's cached view may predate a replica that just started.
    const containers = await listManagedContainers(deps.docker, deps.instance, name);
    if (containers.length === 0 && !deps.store.app(name)) throw appNotFound(name);
    const perReplica = await Promise.all(
      containers.map((c) =>
        readContainerLogs(deps.docker, c.id, c.name, { tail, sinceMs }).catch((err: unknown) => {
          // A replica removed between list and read has no logs any more: 404 means already gone.
          if ((err as { statusCode?: number }).statusCode === 404) return [];
          throw err;
        }),
      ),
    );
    const lines = perReplica.flat().sort(byTime);
    return { app: name, replicas: containers.map((c) => c.name).sort(), lines: lines.slice(Math.max(0, lines.length - Math.max(tail, 0))) };
  });
}
