// GET /metrics: Prometheus text exposition (the one endpoint that is not JSON).
import type { ApiDeps } from '../api-deps.js';
import type { Router } from '../router.js';

export function addPrometheusRoute(router: Router, deps: ApiDeps): void {
  router.get('/metrics', async ({ res }) => {
    const body = await deps.metrics.exposition();
    res.writeHead(200, { 'Content-Type': deps.metrics.contentType() });
    res.end(body);
    return undefined;
  });
}
