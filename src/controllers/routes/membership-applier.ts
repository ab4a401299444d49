// Lua membership mode: replica membership goes to nginx by POST (no reload), routes still by
// render + nginx -t + reload (NginxApplier). Order, so that no request finds an upstream without
// peers and a drain that awaits apply() is safe:
//   1. bridge POST: the new peers of every app, but an app about to lose all peers (or its route)
//      keeps its current ones, since its location proxies until the reload replaces it;
//   2. the routes apply (reload only when the rendered config changed: a route added or removed, a
//      host or path changed; an app going to 0 peers and back is membership only);
//   3. final POST of the exact membership, if it differs from the bridge.
// Each POST is confirmed by a GET, so apply() resolves only once every worker picks by the new
// membership: a removed peer gets no new request after that (requests in flight finish).
import type { Logger } from 'pino';
import { ownEntry } from '../../core/own-entry.js';
import { buildMembership, sameMembership, type Membership } from '../../render/membership.js';
import type { ApplyResult } from './load-balancer.js';
import type { RouteTable } from '../../core/routes.js';

export interface MembershipChannel {
  /** Served membership; undefined when the served config has no membership endpoint yet. */
  read(): Promise<Membership | undefined>;
  /** Replaces the served membership and confirms it; false when there is no endpoint yet. */
  publish(apps: Membership): Promise<boolean>;
}

export interface MembershipApplierOptions {
  routes: { apply(table: RouteTable): Promise<ApplyResult> };
  channel: MembershipChannel;
  logger: Logger;
}

export class MembershipApplier {
  constructor(private readonly opts: MembershipApplierOptions) {}

  /** Not reentrant: callers serialize (RouteSync does). */
  async apply(table: RouteTable): Promise<ApplyResult> {
    const started = performance.now();
    const { channel } = this.opts;
    const current = await channel.read();
    const desired = desiredMembership(table, current ?? {});
    const bridge = bridgeMembership(current ?? {}, desired);

    // No endpoint yet (first apply after switching from reload mode): publish still writes the
    // seed file, which the coming reload loads into the dict before any new worker picks.
    const bridgeLive = current !== undefined && sameMembership(bridge, current) ? true : await channel.publish(bridge);
    const routed = await this.opts.routes.apply(table);
    if (!bridgeLive || !sameMembership(bridge, desired)) {
      if (!(await channel.publish(desired))) throw new Error('nginx serves no membership endpoint after the apply');
    }

    const membershipChanged = !sameMembership(current ?? {}, desired);
    if (membershipChanged) this.opts.logger.debug({ apps: Object.keys(desired).length }, 'nginx membership updated');
    return { ...routed, changed: routed.changed || membershipChanged, membershipChanged, durationMs: performance.now() - started };
  }
}

/** The table's membership; an app with an unsafe peer keeps its current peers (its route is held back too). */
export function desiredMembership(table: RouteTable, current: Membership): Membership {
  const { apps, invalid } = buildMembership(table);
  for (const app of invalid) {
    const kept = ownEntry(current, app);
    if (kept) apps[app] = kept;
  }
  return apps;
}

/** `desired`, except that apps losing all their peers (or their route) keep the current ones. */
export function bridgeMembership(current: Membership, desired: Membership): Membership {
  const bridge: Membership = { ...desired };
  for (const [app, peers] of Object.entries(current)) {
    if (peers.length > 0 && (ownEntry(desired, app)?.length ?? 0) === 0) bridge[app] = peers;
  }
  return bridge;
}
