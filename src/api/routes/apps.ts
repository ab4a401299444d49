// Read routes of apps: the store's AppStatus records, as they are (one status model everywhere).
import type { AppStatus } from '../../store/status-model.js';
import type { ApiDeps } from '../api-deps.js';
import { appNotFound } from '../http-error.js';
import { intParam } from '../query.js';
import type { Router } from '../router.js';

export const MAX_SCALING_HISTORY = 1_000;
const DEFAULT_SCALING_HISTORY = 50;

/** The status part of a record: everything but the spec and its file. */
export type AppStatusOnly = Omit<AppStatus, 'spec' | 'file'>;

export function statusOnly(app: AppStatus): AppStatusOnly {
  const { spec: _spec, file: _file, ...status } = app;
  return status;
}

/** The value shown for a literal env value with --redact-env-values. */
export const REDACTED = '(redacted)';

/** A copy of `app` whose spec shows names and valueFrom references of env, not literal values. */
export function withEnvRedacted<T extends { spec?: AppStatus['spec'] }>(app: T): T {
  if (!app.spec) return app;
  const env = app.spec.env.map((v) => (v.value !== undefined ? { ...v, value: REDACTED } : v));
  return { ...app, spec: { ...app.spec, env } };
}

export function addAppRoutes(router: Router, deps: ApiDeps): void {
  const find = (name: string): AppStatus => {
    const app = deps.store.app(name);
    if (!app) throw appNotFound(name);
    return app;
  };
  const shown = (app: AppStatus): AppStatus => (deps.redactEnvValues ? withEnvRedacted(app) : app);
  router.get('/apps', () => ({ apps: deps.store.apps().map(shown) }));
  router.get('/apps/:name', ({ params }) => shown(find(params.name!)));
  router.get('/apps/:name/status', ({ params }) => statusOnly(find(params.name!)));
  router.get('/apps/:name/metrics', ({ params, query }) => {
    const app = find(params.name!);
    const limit = intParam(query, 'limit', DEFAULT_SCALING_HISTORY, 1, MAX_SCALING_HISTORY);
    return {
      app: app.name,
      replicas: app.replicas,
      autoscaledReplicas: app.autoscaledReplicas ?? null,
      current: deps.appMetrics?.(app.name) ?? null,
      scalingHistory: deps.store.scalingHistory(app.name, limit),
    };
  });
}
