import { describe, expect, it } from 'vitest';
import { resolveRouteConflicts, routeKey, type RouteConflict } from '../../../src/controllers/routes/plan-routes.js';
import type { AppRoute } from '../../../src/core/routes.js';

const r = (app: string, host = 'shared.localhost', pathPrefix = '/'): AppRoute => ({ app, host, pathPrefix, servers: [] });

interface Row {
  name: string;
  desired: AppRoute[];
  previous: [string, string][];
  routed: string[];
  conflicts: RouteConflict[];
}

const rows: Row[] = [
  { name: 'no claims, empty table', desired: [], previous: [], routed: [], conflicts: [] },
  { name: 'distinct routes all pass', desired: [r('b', 'b.localhost'), r('a', 'a.localhost')], previous: [], routed: ['a', 'b'], conflicts: [] },
  {
    name: 'same host, different paths share the host',
    desired: [r('web', 'x.localhost', '/'), r('api', 'x.localhost', '/api')],
    previous: [],
    routed: ['api', 'web'],
    conflicts: [],
  },
  {
    name: 'new claimants: alphabetical wins',
    desired: [r('zeta'), r('alpha'), r('mid')],
    previous: [],
    routed: ['alpha'],
    conflicts: [
      { app: 'mid', host: 'shared.localhost', pathPrefix: '/', heldBy: 'alpha' },
      { app: 'zeta', host: 'shared.localhost', pathPrefix: '/', heldBy: 'alpha' },
    ],
  },
  {
    name: 'previous owner keeps the route against an alphabetically earlier newcomer',
    desired: [r('alpha'), r('zeta')],
    previous: [[routeKey('shared.localhost', '/'), 'zeta']],
    routed: ['zeta'],
    conflicts: [{ app: 'alpha', host: 'shared.localhost', pathPrefix: '/', heldBy: 'zeta' }],
  },
  {
    name: 'previous owner gone: alphabetical among the rest',
    desired: [r('mid'), r('beta')],
    previous: [[routeKey('shared.localhost', '/'), 'gone']],
    routed: ['beta'],
    conflicts: [{ app: 'mid', host: 'shared.localhost', pathPrefix: '/', heldBy: 'beta' }],
  },
  {
    name: 'host case does not make a different route',
    desired: [r('b', 'Shared.LOCALHOST'), r('a', 'shared.localhost')],
    previous: [],
    routed: ['a'],
    conflicts: [{ app: 'b', host: 'Shared.LOCALHOST', pathPrefix: '/', heldBy: 'a' }],
  },
  {
    name: 'trailing slash is a different location, not a conflict',
    desired: [r('a', 'x.localhost', '/api'), r('b', 'x.localhost', '/api/')],
    previous: [],
    routed: ['a', 'b'],
    conflicts: [],
  },
];

describe('resolveRouteConflicts', () => {
  it.each(rows)('$name', ({ desired, previous, routed, conflicts }) => {
    const result = resolveRouteConflicts(desired, new Map(previous));
    expect(result.table.routes.map((x) => x.app)).toEqual(routed);
    expect(result.conflicts).toEqual(conflicts);
    for (const route of result.table.routes) {
      expect(result.owners.get(routeKey(route.host, route.pathPrefix))).toBe(route.app);
    }
  });

  it('is stable when fed its own owners back', () => {
    const first = resolveRouteConflicts([r('b'), r('c')], new Map());
    const second = resolveRouteConflicts([r('a'), r('b'), r('c')], first.owners);
    expect(second.table.routes.map((x) => x.app)).toEqual(['b']);
  });
});
