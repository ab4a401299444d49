// The replica membership the controller POSTs to the Lua balancer (lua membership mode): per app,
// its unique peers as sorted "a.b.c.d:port" strings. Validated with the same rules as the
// rendered config (the Lua side validates again); it is the part of the table that is NOT rendered.
import type { RouteTable } from '../core/routes.js';
import { assertPeerIpv4, assertNginxToken, assertPort } from './nginx-quote.js';

/** app -> sorted unique peers ("172.18.0.2:8080"); [] = routed, no ready replica. */
export type Membership = Record<string, string[]>;

/**
 * Membership of every app in `table`. An app with an unsafe name or peer is left out and listed in
 * `invalid` (its route is degraded by the renderer; the caller keeps its current peers).
 */
export function buildMembership(table: RouteTable): { apps: Membership; invalid: string[] } {
  const apps: Membership = {};
  const invalid: string[] = [];
  for (const route of table.routes) {
    try {
      const app = assertNginxToken(route.app);
      const peers = new Set(route.servers.map((s) => `${assertPeerIpv4(s.host)}:${assertPort(s.port)}`));
      apps[app] = [...peers].sort();
    } catch {
      invalid.push(String(route.app));
    }
  }
  return { apps: sortedKeys(apps), invalid };
}

export function sameMembership(a: Membership, b: Membership): boolean {
  return JSON.stringify(sortedKeys(a)) === JSON.stringify(sortedKeys(b));
}

/** The JSON body of POST /_autoserve/membership. */
export function membershipBody(apps: Membership): string {
  return JSON.stringify({ apps: sortedKeys(apps) });
}

function sortedKeys(apps: Membership): Membership {
  return Object.fromEntries(Object.entries(apps).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)).map(([k, v]) => [k, [...v].sort()]));
}
