// The routes controller applies nothing before its warm-up lets it (after a restart, adopted
// replicas are "starting" until their first probe), then routes the ready replicas' addresses.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ApplyResult, LoadBalancer } from '../../../src/controllers/routes/load-balancer.js';
import { RoutesController } from '../../../src/controllers/routes/routes-controller.js';
import type { LiveReplica } from '../../../src/core/replica.js';
import type { RouteTable } from '../../../src/core/routes.js';
import { parseManifestFile } from '../../../src/manifest/parse-file.js';
import type { LoadedApp } from '../../../src/manifest/types.js';
import { Store } from '../../../src/store/store.js';
import { appManifest } from '../../support/app-manifest.js';

const logger = pino({ level: 'silent' });

function replica(over: Partial<LiveReplica>): LiveReplica {
  return {
    id: 'c0', name: 'web-0', app: 'web', revision: 'r', slot: 0, image: 'i', state: 'running', running: true, createdAtMs: 0,
    addresses: { 8080: { host: '172.18.0.2', port: 8080 } }, published: {}, labels: {}, health: 'ready', draining: false, ...over,
  };
}

describe('RoutesController warm-up and served replicas', () => {
  let dir: string;
  let store: Store;
  let applied: RouteTable[];
  let routes: RoutesController;
  let web: LoadedApp;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'autoserve-routes-'));
    store = await Store.open(join(dir, 'store.json'), logger);
    applied = [];
    const balancer: LoadBalancer = {
      apply: async (table): Promise<ApplyResult> => {
        applied.push(table);
        return { changed: true, reloaded: false, degraded: [], durationMs: 0 };
      },
      isAlive: async () => true,
      holdSupport: () => ({ kind: 'no', reason: 'test' }),
      reopenLogs: async () => undefined,
      stop: async () => undefined,
    };
    web = parseManifestFile(join(dir, 'web.yaml'), appManifest('web', { replicas: 3 })).apps[0]!;
    const replicas = [
      replica({ id: 'a', slot: 1, addresses: { 8080: { host: '127.0.0.1', port: 31001 } } }),
      replica({ id: 'b', slot: 0, addresses: { 8080: { host: '127.0.0.1', port: 31000 } } }),
      replica({ id: 'c', slot: 2, health: 'starting', addresses: { 8080: { host: '127.0.0.1', port: 31002 } } }),
    ];
    routes = new RoutesController({ balancer, store, logger, apps: () => [web], replicasOf: () => replicas });
  });
  afterEach(async () => {
    routes.close();
    await store.flush();
    await rm(dir, { recursive: true, force: true });
  });

  it('holds every request until the replicas are settled, then routes the ready ones in slot order', async () => {
    let settled = false;
    const first = routes.request();
    const warm = routes.warmUp(() => settled, 5_000);
    await new Promise((r) => setTimeout(r, 200));
    expect(applied).toEqual([]);
    settled = true;
    await warm;
    await first;
    expect(applied.at(-1)!.routes).toEqual([
      { app: 'web', host: 'web.localhost', pathPrefix: '/', servers: [{ host: '127.0.0.1', port: 31000 }, { host: '127.0.0.1', port: 31001 }] },
    ]);
    expect(routes.isServed('web', { host: '127.0.0.1', port: 31001 })).toBe(true);
    expect(routes.isServed('web', { host: '127.0.0.1', port: 31002 })).toBe(false); // starting: not routed
    expect(routes.isServed('web', undefined)).toBe(false);
  });

  it('opens after its longest wait even if some replica is never probed', async () => {
    const started = Date.now();
    await routes.warmUp(() => false, 300);
    await routes.request();
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(applied.length).toBeGreaterThan(0);
  });
});
