import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { ApplyResult } from '../../../src/controllers/routes/load-balancer.js';
import { MembershipApplier, bridgeMembership, type MembershipChannel } from '../../../src/controllers/routes/membership-applier.js';
import type { AppRoute, RouteTable } from '../../../src/core/routes.js';
import type { Membership } from '../../../src/render/membership.js';

const logger = pino({ level: 'silent' });
const route = (app: string, ports: number[]): AppRoute => ({ app, host: `${app}.localhost`, pathPrefix: '/', servers: ports.map((port) => ({ host: '127.0.0.1', port })) });
const peers = (...ports: number[]) => ports.map((p) => `127.0.0.1:${p}`);
const sorted = (m: Membership) => Object.fromEntries(Object.entries(m).sort(([a], [b]) => a.localeCompare(b)));

/** Records the order of POSTs and route applies. `live: false` = the served config has no endpoint. */
function fakes(initial: Membership | undefined, reloaded = false) {
  const log: string[] = [];
  let served = initial;
  let seeded: Membership | undefined;
  const channel: MembershipChannel = {
    read: async () => served,
    publish: async (apps) => {
      seeded = apps;
      if (served === undefined) {
        log.push(`seed ${JSON.stringify(sorted(apps))}`);
        return false;
      }
      served = apps;
      log.push(`post ${JSON.stringify(sorted(apps))}`);
      return true;
    },
  };
  const routes = {
    apply: async (table: RouteTable): Promise<ApplyResult> => {
      log.push(`routes ${table.routes.map((r) => r.app).join(',')}`);
      if (reloaded && served === undefined) served = seeded ?? {}; // the reload loads the seed file
      return { changed: reloaded, reloaded, degraded: [], durationMs: 1 };
    },
  };
  return { log, channel, routes, served: () => served };
}

describe('MembershipApplier', () => {
  it('membership only: one POST before the routes apply, no reload, changed', async () => {
    const f = fakes({ web: peers(1) });
    const result = await new MembershipApplier({ routes: f.routes, channel: f.channel, logger }).apply({ routes: [route('web', [1, 2])] });
    expect(f.log).toEqual([`post {"web":${JSON.stringify(peers(1, 2))}}`, 'routes web']);
    expect(result).toMatchObject({ changed: true, reloaded: false, membershipChanged: true });
  });

  it('unchanged membership: no POST at all', async () => {
    const f = fakes({ web: peers(1) });
    const result = await new MembershipApplier({ routes: f.routes, channel: f.channel, logger }).apply({ routes: [route('web', [1])] });
    expect(f.log).toEqual(['routes web']);
    expect(result).toMatchObject({ changed: false, membershipChanged: false });
  });

  it('a new app has its peers before the reload; an app losing all peers or its route keeps them until after it', async () => {
    const f = fakes({ gone: peers(5), web: peers(1), zero: peers(7) }, true);
    await new MembershipApplier({ routes: f.routes, channel: f.channel, logger }).apply({ routes: [route('web', [2]), route('zero', []), route('new', [3])] });
    expect(f.log).toEqual([
      `post ${JSON.stringify({ gone: peers(5), new: peers(3), web: peers(2), zero: peers(7) })}`,
      'routes web,zero,new',
      `post ${JSON.stringify({ new: peers(3), web: peers(2), zero: [] })}`,
    ]);
    expect(f.served()).toEqual({ new: peers(3), web: peers(2), zero: [] });
  });

  it('no endpoint served yet (switch from reload mode): seeds the file, reloads, then POSTs', async () => {
    const f = fakes(undefined, true);
    const result = await new MembershipApplier({ routes: f.routes, channel: f.channel, logger }).apply({ routes: [route('web', [1])] });
    expect(f.log).toEqual([`seed {"web":${JSON.stringify(peers(1))}}`, 'routes web', `post {"web":${JSON.stringify(peers(1))}}`]);
    expect(result).toMatchObject({ reloaded: true, membershipChanged: true });
  });

  it('an app with an unsafe peer keeps its current peers', async () => {
    const f = fakes({ evil: peers(4) });
    const table = { routes: [route('web', [1]), { ...route('evil', []), servers: [{ host: '8.8.8.8', port: 80 }] }] };
    await new MembershipApplier({ routes: f.routes, channel: f.channel, logger }).apply(table);
    expect(f.served()).toEqual({ evil: peers(4), web: peers(1) });
  });

  it('bridgeMembership', () => {
    expect(bridgeMembership({ a: peers(1), b: peers(2), c: [] }, { a: [], d: peers(4) })).toEqual({ a: peers(1), b: peers(2), d: peers(4) });
    // An app named like an inherited property is bridged like any other.
    expect(bridgeMembership({ constructor: peers(1) } as Membership, {})).toEqual({ constructor: peers(1) });
  });
});
