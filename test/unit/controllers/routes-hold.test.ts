// What the routes controller says nginx holds: an app's requests are held only once its route with
// the hold is served; a change nginx held back keeps what was served before (the zero controller
// must not put an app to sleep on arrivals nginx was not recording).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ApplyResult, DegradedRoute, LoadBalancer } from '../../../src/controllers/routes/load-balancer.js';
import { RoutesController } from '../../../src/controllers/routes/routes-controller.js';
import type { RouteTable } from '../../../src/core/routes.js';
import { parseManifestFile } from '../../../src/manifest/parse-file.js';
import type { LoadedApp } from '../../../src/manifest/types.js';
import { Store } from '../../../src/store/store.js';
import { appManifest } from '../../support/app-manifest.js';

const logger = pino({ level: 'silent' });
const ZERO = ['  scaling:', '    minReplicas: 0', '    maxReplicas: 2', '    policy:', '      mode: manual'].join('\n');

describe('RoutesController: which apps nginx holds requests for', () => {
  let dir: string;
  let store: Store;
  let applied: RouteTable[];
  let degraded: DegradedRoute[];
  let apps: LoadedApp[];
  let routes: RoutesController;
  const load = (yaml: string) => parseManifestFile(join(dir, 'web.yaml'), yaml).apps[0]!;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'autoserve-routes-hold-'));
    store = await Store.open(join(dir, 'store.json'), logger);
    applied = [];
    degraded = [];
    const balancer: LoadBalancer = {
      apply: async (table): Promise<ApplyResult> => {
        applied.push(table);
        return { changed: true, reloaded: false, degraded, durationMs: 0 };
      },
      isAlive: async () => true,
      holdSupport: () => ({ kind: 'no', reason: 'test' }),
      reopenLogs: async () => undefined,
      stop: async () => undefined,
    };
    apps = [load(appManifest('web'))];
    routes = new RoutesController({ balancer, store, logger, apps: () => apps, replicasOf: () => [] });
    await routes.warmUp(() => true, 0);
  });
  afterEach(async () => {
    routes.close();
    await store.flush();
    await rm(dir, { recursive: true, force: true });
  });

  it('holds once the route with the hold is served, keeps the served state while a change is held back, and lets go with the hold', async () => {
    await routes.request();
    expect(routes.holdsRequests('web')).toBe(false);

    apps = [load(appManifest('web', { spec: ZERO }))];
    degraded = [{ app: 'web', message: 'no space left on device', reason: 'NginxConfigWriteFailed' }];
    await routes.request();
    expect(applied.at(-1)!.routes[0]!.hold).toBeDefined();
    expect(routes.holdsRequests('web')).toBe(false); // asked for, not served

    degraded = [];
    await routes.request();
    expect(routes.holdsRequests('web')).toBe(true);

    apps = [load(appManifest('web'))];
    degraded = [{ app: 'web', message: 'nginx -t failed', reason: 'NginxValidationFailed' }];
    await routes.request();
    expect(routes.holdsRequests('web')).toBe(true); // nginx still serves the hold

    degraded = [];
    await routes.request();
    expect(routes.holdsRequests('web')).toBe(false);
  });

  it('an app that left scale to zero while asleep or waking keeps its hold until its status lets go of it', async () => {
    store.updateApp('web', (s) => (s.zero = { wakingSince: new Date().toISOString() }));
    await routes.request();
    expect(applied.at(-1)!.routes[0]!.hold).toEqual({ timeoutSeconds: 30, startingPage: false });
    store.updateApp('web', (s) => delete s.zero);
    await routes.request();
    expect(applied.at(-1)!.routes[0]!.hold).toBeUndefined();
  });
});
