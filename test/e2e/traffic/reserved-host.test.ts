// An app that asks for a host the controller or local clients rely on (autoserve-internal,
// localhost, 127.0.0.1) fails alone, and every other app keeps scaling and serving (issue 11, item 1).
// Real Docker and the own nginx.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../../support/eventually.js';
import { httpGet } from '../../support/http-get.js';
import { startTestDaemon, type TestDaemon } from '../harness.js';
import { appManifest } from '../../support/app-manifest.js';

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
