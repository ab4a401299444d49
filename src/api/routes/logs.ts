// Container logs of an app's replicas, merged by time, each line marked with its replica.
import { compareStrings } from '../../core/stable-json.js';
import type { LogLine } from '../../runtime/runtime.js';
import type { ApiDeps } from '../api-deps.js';
import { appNotFound } from '../http-error.js';
import { intParam, timeParam } from '../query.js';
import type { Router } from '../router.js';

export const DEFAULT_LOG_TAIL = 100;
export const MAX_LOG_TAIL = 10_000;
/** Replicas whose logs are read at once (each read is held whole in memory until it is split). */
const LOG_READS_AT_ONCE = 4;
/** An answer carries at most this much line text: the newest lines, the older ones left out. */
export const MAX_LOG_ANSWER_CHARS = 8 * 1024 * 1024;

export function addLogRoutes(router: Router, deps: ApiDeps): void {
  router.get('/apps/:name/logs', async ({ params, query }) => {
    const name = params.name!;
    const tail = intParam(query, 'tail', DEFAULT_LOG_TAIL, 0, MAX_LOG_TAIL);
    const sinceMs = timeParam(query, 'since');
    // The runtime is asked directly: the controller's cached view may predate a replica that just started.
    const containers = await deps.runtime.list({ instance: deps.instance, app: name });
    if (containers.length === 0 && !deps.store.app(name)) throw appNotFound(name);
    const perReplica: LogLine[][] = [];
    for (let i = 0; i < containers.length; i += LOG_READS_AT_ONCE) {
      perReplica.push(...(await Promise.all(containers.slice(i, i + LOG_READS_AT_ONCE).map((c) => deps.runtime.logs(c, { tail, sinceMs })))));
    }
    // RFC3339Nano times of one zone sort as text.
    const lines = perReplica.flat().sort((a, b) => compareStrings(a.time, b.time));
    const newest = lines.slice(Math.max(0, lines.length - Math.max(tail, 0)));
    let first = newest.length;
    for (let chars = 0; first > 0 && chars + newest[first - 1]!.line.length <= MAX_LOG_ANSWER_CHARS; first--) chars += newest[first - 1]!.line.length;
    return { app: name, replicas: containers.map((c) => c.name).sort(), lines: newest.slice(first), ...(first > 0 ? { truncated: first } : {}) };
  });
}
