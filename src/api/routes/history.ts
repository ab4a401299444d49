// Metric history: the charts' columns (every app, or one with its scaling decisions) and the latest
// sample per app with its replicas' readings (`autoserve top`, the app page's replica table).
import type { AppHistoryAnswer, HistoryAnswer, HistoryShape, TopAnswer, TopEntry } from '../../history/history-views.js';
import { HISTORY_FIELDS, isHistoryField, type HistoryField, type MetricHistory } from '../../history/metric-history.js';
import type { ApiDeps } from '../api-deps.js';
import { HttpError, appNotFound, badQuery } from '../http-error.js';
import { stringParam, timeParam } from '../query.js';
import type { Router } from '../router.js';
import { MAX_SCALING_HISTORY } from './apps.js';

export function addHistoryRoutes(router: Router, deps: ApiDeps): void {
  const enabled = (): MetricHistory => {
    if (!deps.history) throw new HttpError(404, 'NotFound', 'this controller keeps no metric history');
    return deps.history;
  };
  const shape = (history: MetricHistory): HistoryShape => ({ intervalSeconds: history.intervalMs / 1000, points: history.capacity });

  router.get('/history', ({ query }): HistoryAnswer => {
    const history = enabled();
    const sinceMs = timeParam(query, 'since');
    const fields = fieldsParam(query);
    const only = stringParam(query, 'app');
    const apps: HistoryAnswer['apps'] = {};
    for (const app of deps.store.apps()) {
      if (only !== undefined && app.name !== only) continue;
      apps[app.name] = history.read(app.name, sinceMs, fields);
    }
    return { ...shape(history), apps };
  });

  router.get('/apps/:name/history', ({ params, query }): AppHistoryAnswer => {
    const history = enabled();
    const name = params.name!;
    if (!deps.store.app(name)) throw appNotFound(name);
    const sinceMs = timeParam(query, 'since');
    const fields = fieldsParam(query);
    const scaling = deps.store.scalingHistory(name, MAX_SCALING_HISTORY).filter((r) => sinceMs === undefined || Date.parse(r.time) >= sinceMs);
    return { ...shape(history), app: name, series: history.read(name, sinceMs, fields), scaling };
  });

  router.get('/top', ({ query }): TopAnswer => {
    const history = enabled();
    const only = stringParam(query, 'app');
    if (only !== undefined && !deps.store.app(only)) throw appNotFound(only);
    const apps = deps.store.apps().filter((a) => only === undefined || a.name === only);
    return { ...shape(history), apps: apps.map((app) => topEntry(app.name, history, deps)) };
  });
}

function topEntry(name: string, history: MetricHistory, deps: ApiDeps): TopEntry {
  const latest = history.latest(name);
  const values = Object.fromEntries(HISTORY_FIELDS.map((f) => [f, latest?.[f] ?? null])) as Record<HistoryField, number | null>;
  return { name, time: latest ? new Date(latest.t).toISOString() : null, ...values, replicas: deps.replicaLoads?.(name) ?? [] };
}

/** ?fields=rps,p95Ms (default: every field); an unknown name is a 400 naming it. */
function fieldsParam(query: URLSearchParams): HistoryField[] {
  const raw = stringParam(query, 'fields');
  if (raw === undefined) return [...HISTORY_FIELDS];
  const names = raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const unknown = names.filter((n) => !isHistoryField(n));
  if (unknown.length > 0 || names.length === 0) {
    throw badQuery('fields', `unknown field ${JSON.stringify(unknown[0] ?? raw)} (known: ${HISTORY_FIELDS.join(', ')})`);
  }
  return names as HistoryField[];
}
