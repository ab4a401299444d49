// The audit log. `since` is inclusive and compares with an event's latest occurrence, so a poller
// passing the newest time it saw gets repeats (count went up) again: dedupe by id and count.
import type { ApiDeps } from '../api-deps.js';
import { intParam, stringParam, timeParam } from '../query.js';
import type { Router } from '../router.js';

export const DEFAULT_EVENT_LIMIT = 200;
export const MAX_EVENT_LIMIT = 2_000;

export function addEventRoutes(router: Router, deps: ApiDeps): void {
  router.get('/events', ({ query }) => {
    const app = stringParam(query, 'app');
    const sinceMs = timeParam(query, 'since');
    const limit = intParam(query, 'limit', DEFAULT_EVENT_LIMIT, 1, MAX_EVENT_LIMIT);
    return { events: deps.store.events({ app, sinceMs, limit }) };
  });
}
