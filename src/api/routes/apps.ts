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

/**
 * A copy of `value` in which every env list shows names and valueFrom references, not literal
 * values: of every spec it holds (the applied one, the last stable revision's, any added later),
 * so a new copy of a spec in the status model cannot bring the values back.
 */
export function withEnvRedacted<T>(value: T): T {
  return JSON.parse(JSON.stringify(value), (key, v: unknown) =>
    key === 'env' && Array.isArray(v) ? v.map((e) => (isEnvValue(e) ? { ...e, value: REDACTED } : e)) : v) as T;
}

function isEnvValue(e: unknown): e is { value: unknown } {
  return typeof e === 'object' && e !== null && 'value' in e;
}

export function addAppRoutes(router: Router, deps: ApiDeps): void {
  const find = (name: string): AppStatus => {
    const app = deps.store.app(name);
    if (!app) throw appNotFound(name);
    return app;
  };
  const shown = <T>(app: T): T => (deps.redactEnvValues ? withEnvRedacted(app) : app);
  router.get('/apps', () => ({ apps: deps.store.apps().map(shown) }));
  router.get('/apps/:name', ({ params }) => shown(find(params.name!)));
  router.get('/apps/:name/status', ({ params }) => shown(statusOnly(find(params.name!))));
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
