// Decides which app owns each host+pathPrefix when several claim it. Pure: no I/O.
import type { AppRoute, RouteTable } from '../../core/routes.js';

export interface RouteConflict {
  app: string;
  host: string;
  pathPrefix: string;
  /** The app that keeps the route. */
  heldBy: string;
}

export interface ResolvedRoutes {
  /** One route per host+pathPrefix, sorted by app. Losing apps are left out entirely. */
  table: RouteTable;
  conflicts: RouteConflict[];
  /** Owner of every routed key after this resolution: pass it back as `previousOwners` next time. */
  owners: Map<string, string>;
}

/** Key of a route: nginx matches hosts case-insensitively; the path begins with `/`, the host has none. */
export function routeKey(host: string, pathPrefix: string): string {
  return `${host.toLowerCase()}${pathPrefix}`;
}

/**
 * The app that held a route before keeps it while it still claims it (a newcomer never steals a
 * live route); among new claimants the alphabetically first app wins, so the outcome does not
 * depend on the order manifests were read in.
 */
export function resolveRouteConflicts(desired: AppRoute[], previousOwners: ReadonlyMap<string, string>): ResolvedRoutes {
  const claimants = new Map<string, AppRoute[]>();
  for (const route of desired) {
    const key = routeKey(route.host, route.pathPrefix);
    claimants.set(key, [...(claimants.get(key) ?? []), route]);
  }

  const routes: AppRoute[] = [];
  const conflicts: RouteConflict[] = [];
  const owners = new Map<string, string>();
  for (const [key, claims] of claimants) {
    const previous = previousOwners.get(key);
    const sorted = [...claims].sort((a, b) => (a.app < b.app ? -1 : a.app > b.app ? 1 : 0));
    const winner = sorted.find((r) => r.app === previous) ?? sorted[0];
    if (!winner) continue;
    routes.push(winner);
    owners.set(key, winner.app);
    for (const loser of sorted) {
      if (loser === winner) continue;
      conflicts.push({ app: loser.app, host: loser.host, pathPrefix: loser.pathPrefix, heldBy: winner.app });
    }
  }
  routes.sort((a, b) => (a.app < b.app ? -1 : a.app > b.app ? 1 : 0));
  conflicts.sort((a, b) => (a.app < b.app ? -1 : a.app > b.app ? 1 : 0));
  return { table: { routes }, conflicts, owners };
}
