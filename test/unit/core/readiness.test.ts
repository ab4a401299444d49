// The one definition of "ready" and "serving", used by the autoscaler, the routes controller, the
// status and `autoserve plan`.
import { describe, expect, it } from 'vitest';
import { healthPort, isLive, isReady, isServing, readinessCounts, servingAddresses, trafficPort } from '../../../src/core/readiness.js';
import type { LiveReplica, ReplicaHealth } from '../../../src/core/replica.js';

function replica(over: Partial<LiveReplica> = {}): LiveReplica {
  return {
    id: 'c0',
    name: 'web-0',
    app: 'web',
    revision: 'r1',
    slot: 0,
    image: 'img',
    state: 'running',
    running: true,
    createdAtMs: 0,
    addresses: { 8080: { host: '172.18.0.2', port: 8080 } },
    published: {},
    labels: {},
    health: 'ready',
    draining: false,
    ...over,
  };
}

const spec = { ports: [{ containerPort: 8080 }, { containerPort: 9090 }] };

describe('readiness', () => {
  const rows: { name: string; running: boolean; health: ReplicaHealth; draining: boolean; live: boolean; ready: boolean }[] = [
    { name: 'running, passed its checks', running: true, health: 'ready', draining: false, live: true, ready: true },
    { name: 'running, not checked yet', running: true, health: 'starting', draining: false, live: true, ready: false },
    { name: 'running, failing its checks after being ready (busy: out of the rotation, kept)', running: true, health: 'not-ready', draining: false, live: true, ready: false },
    { name: 'running, failed every check for replaceAfterSeconds', running: true, health: 'unhealthy', draining: false, live: true, ready: false },
    { name: 'ready but draining (leaving)', running: true, health: 'ready', draining: true, live: false, ready: false },
    { name: 'exited (health is stale)', running: false, health: 'ready', draining: false, live: false, ready: false },
  ];
  for (const row of rows) {
    it(`${row.name}: live=${row.live} ready=${row.ready}`, () => {
      const r = replica({ running: row.running, health: row.health, draining: row.draining });
      expect(isLive(r)).toBe(row.live);
      expect(isReady(r)).toBe(row.ready);
      expect(isServing(r, undefined)).toBe(row.ready); // no load balancer: ready alone decides
      expect(isServing(r, true)).toBe(row.ready);
      expect(isServing(r, false)).toBe(false); // not routed yet: not serving, however healthy
    });
  }

  it('the traffic port is the first declared port; health checks go to the health block port, else the traffic port', () => {
    expect(trafficPort(spec)).toBe(8080);
    expect(healthPort(spec)).toBe(8080);
    expect(healthPort({ ...spec, health: { httpGet: { port: 9090 } } })).toBe(9090);
    expect(() => trafficPort({ ports: [] })).toThrow(/at least one port/);
  });

  it('serving addresses: ready replicas with a traffic address, by slot then name', () => {
    const replicas = [
      replica({ id: 'a', name: 'web-b', slot: 2, addresses: { 8080: { host: '127.0.0.1', port: 3 } } }),
      replica({ id: 'b', name: 'web-x', slot: 1, addresses: { 8080: { host: '127.0.0.1', port: 2 } } }),
      replica({ id: 'c', name: 'web-a', slot: 1, addresses: { 8080: { host: '127.0.0.1', port: 1 } } }),
      replica({ id: 'd', slot: 0, health: 'starting' }),
      replica({ id: 'e', slot: 0, draining: true }),
      replica({ id: 'f', slot: 0, addresses: { 9090: { host: '127.0.0.1', port: 9 } } }), // no traffic address
    ];
    expect(servingAddresses(replicas, spec)).toEqual([
      { host: '127.0.0.1', port: 1 },
      { host: '127.0.0.1', port: 2 },
      { host: '127.0.0.1', port: 3 },
    ]);
  });

  it('serving addresses: a replica of an older revision is routed on its own traffic port (a rollout that changes the port)', () => {
    const replicas = [
      { ...replica({ id: 'old', name: 'web-old', slot: 0, addresses: { 8080: { host: '10.0.0.2', port: 8080 } } }), trafficPort: 8080 },
      replica({ id: 'new', name: 'web-new', slot: 1, addresses: { 9090: { host: '10.0.0.3', port: 9090 } } }),
    ];
    expect(servingAddresses(replicas, { ports: [{ containerPort: 9090 }] })).toEqual([
      { host: '10.0.0.2', port: 8080 },
      { host: '10.0.0.3', port: 9090 },
    ]);
  });

  it('readinessCounts: live replicas by readiness; not-ready (busy or sick, still alive) is the saturation signal', () => {
    const replicas = [
      replica({ health: 'ready' }),
      replica({ health: 'ready', draining: true }),
      replica({ health: 'starting' }),
      replica({ health: 'not-ready' }),
      replica({ health: 'not-ready', running: false }),
      replica({ health: 'unhealthy' }),
    ];
    expect(readinessCounts(replicas)).toEqual({ live: 4, ready: 1, starting: 1, notReady: 1 });
  });
});
