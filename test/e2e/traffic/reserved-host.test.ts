// An app that asks for a host the controller or local clients rely on (autoserve-internal,
// localhost, 127.0.0.1) fails alone, and every other app keeps scaling and serving (issue 11, item 1).
// And should such an app slip past validation, it harms nobody: the controller's own nginx checks
// live on a control listener no app host reaches. Real Docker and the own nginx.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../../support/eventually.js';
import { httpGet } from '../../support/http-get.js';
import { startTestDaemon, type TestDaemon } from '../harness.js';
import { appManifest } from '../../support/app-manifest.js';
import type { LoadedApp } from '../../../src/manifest/types.js';

const SQUATTERS = { 'squat-internal': 'autoserve-internal', 'squat-localhost': 'localhost', 'squat-loopback': '127.0.0.1' };

describe('reserved hosts', () => {
  let t: TestDaemon;
  beforeAll(async () => {
    t = await startTestDaemon('reserved-host');
  });
  afterAll(async () => {
    await t?.cleanup();
  });

  it('an app on a reserved host fails alone; another app scales out and serves meanwhile', async () => {
    await t.writeManifest('web.yaml', appManifest('web', { replicas: 1 }));
    await eventually(async () => expect((await httpGet(t.options.lbPort, 'web.localhost', '/healthz')).status).toBe(200), { timeoutMs: 30_000 });

    for (const [app, host] of Object.entries(SQUATTERS)) {
      await t.writeManifest(`${app}.yaml`, appManifest(app, { spec: `  ingress: { host: "${host}" }` }));
    }
    await eventually(() => {
      for (const app of Object.keys(SQUATTERS)) {
        const condition = t.daemon.store.app(app)?.conditions.find((c) => c.type === 'ManifestInvalid');
        expect(condition?.message).toMatch(/\/spec\/ingress\/host: .* is (reserved|a loopback)/);
      }
    }, { timeoutMs: 15_000 });

    await t.writeManifest('web.yaml', appManifest('web', { replicas: 3 }));
    await eventually(() => {
      const web = t.daemon.store.app('web');
      expect(web?.replicas).toMatchObject({ desired: 3, ready: 3 });
      expect(web?.phase).toBe('Running');
    }, { timeoutMs: 60_000, intervalMs: 250 });
    for (let i = 0; i < 10; i++) expect((await httpGet(t.options.lbPort, 'web.localhost', '/healthz')).status).toBe(200);
    for (const app of Object.keys(SQUATTERS)) expect(await t.containers(app)).toEqual([]);
    // Requests naming a reserved host reach no app.
    for (const host of Object.values(SQUATTERS)) {
      expect((await httpGet(t.options.lbPort, host, '/')).body).toContain('unknown_host');
    }
  });
});

describe('reserved hosts that slip past validation', () => {
  let t: TestDaemon;
  beforeAll(async () => {
    // No periodic resync in this test: a resync re-reads the manifests directory, which would take
    // back the desired state injected below.
    t = await startTestDaemon('reserved-bypass', { resyncMs: 3_600_000 });
  });
  afterAll(async () => {
    await t?.cleanup();
  });

  /** web's last good spec under another name, host or replica count: desired state as no validation would let it be. */
  function variant(web: LoadedApp, name: string, over: { host?: string; replicas?: number }): LoadedApp {
    const spec = web.manifest.spec;
    return {
      ...web,
      file: `${name}.yaml`,
      manifest: {
        ...web.manifest,
        metadata: { ...web.manifest.metadata, name },
        spec: { ...spec, replicas: over.replicas ?? spec.replicas, ingress: { ...spec.ingress, host: over.host ?? spec.ingress.host } },
      },
    };
  }

  it('fed straight to the controllers, they serve their hosts, and another app scales out and serves', async () => {
    await t.writeManifest('web.yaml', appManifest('web', { replicas: 1 }));
    await eventually(async () => expect((await httpGet(t.options.lbPort, 'web.localhost', '/healthz')).status).toBe(200), { timeoutMs: 30_000 });
    const web = t.daemon.desired.get('web')!;
    const inject = async (apps: LoadedApp[]) => {
      t.daemon.desired.apply({ apps: new Map(apps.map((a) => [a.manifest.metadata.name, a])), errors: [], fileCount: apps.length });
      for (const app of apps) t.daemon.queue.add(app.manifest.metadata.name); // not resyncAll: it re-reads the directory
      t.daemon.routes?.requestSoon();
    };
    const squatters = Object.entries(SQUATTERS).map(([app, host]) => variant(web, app, { host }));

    // Squatters first: every route change after them must still be confirmed by nginx.
    await inject([web, ...squatters]);
    await eventually(async () => {
      for (const host of Object.values(SQUATTERS)) expect((await httpGet(t.options.lbPort, host, '/healthz')).status).toBe(200);
    }, { timeoutMs: 60_000, intervalMs: 250 });

    await inject([variant(web, 'web', { replicas: 3 }), ...squatters]);
    await eventually(() => {
      const status = t.daemon.store.app('web');
      expect(status?.replicas).toMatchObject({ desired: 3, ready: 3 });
      expect(status?.phase).toBe('Running');
    }, { timeoutMs: 60_000, intervalMs: 250 });
    const replicas = await t.running('web');
    expect(replicas).toHaveLength(3);
    for (const replica of replicas) expect(t.daemon.routes!.isServed('web', replica.addresses[8080])).toBe(true);
    for (let i = 0; i < 10; i++) expect((await httpGet(t.options.lbPort, 'web.localhost', '/healthz')).status).toBe(200);
    const failures = t.daemon.store.events().filter((e) => e.reason === 'NginxApplyFailed');
    expect(failures.map((e) => e.message)).toEqual([]);
  });
});
