// Two apps claiming the same host and path prefix: reported on both, the first holder keeps the
// route, and the loser takes it over once the holder lets go. Real Docker and the own nginx.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../../support/eventually.js';
import { httpGet } from '../../support/http-get.js';
import { appManifest } from '../../support/app-manifest.js';
import { startTestDaemon, type TestDaemon } from '../harness.js';

const SHARED_HOST = '  ingress: { host: shared.localhost }';

describe('route conflicts', () => {
  let t: TestDaemon;
  beforeAll(async () => {
    t = await startTestDaemon('route-conflict');
  });
  afterAll(async () => {
    await t?.cleanup();
  });

  it('the app that held the route keeps it; both are told; the other takes over when it is free', async () => {
    await t.writeManifest('zeta.yaml', appManifest('zeta', { image: 'autoserve-demo:v1', spec: SHARED_HOST }));
    await eventually(async () => expect((await httpGet(t.options.lbPort, 'shared.localhost', '/version')).body.trim()).toBe('v1'), { timeoutMs: 30_000 });

    // "alpha" sorts first and would win a tie between newcomers, but "zeta" held the route already.
    await t.writeManifest('alpha.yaml', appManifest('alpha', { image: 'autoserve-demo:v2', spec: SHARED_HOST }));
    await eventually(() => {
      const alpha = t.daemon.store.app('alpha')?.conditions.find((c) => c.type === 'RouteConflict');
      const zeta = t.daemon.store.app('zeta')?.conditions.find((c) => c.type === 'RouteConflict');
      expect(alpha).toMatchObject({ status: 'True', reason: 'HostPathClaimed' });
      expect(alpha?.message).toContain('zeta');
      expect(zeta).toMatchObject({ status: 'True', reason: 'HoldsContestedRoute' });
      expect(t.daemon.store.app('alpha')?.phase).toBe('Failed'); // healthy, but nginx serves none of it
    }, { timeoutMs: 30_000 });
    for (let i = 0; i < 5; i++) expect((await httpGet(t.options.lbPort, 'shared.localhost', '/version')).body.trim()).toBe('v1');

    await t.removeManifest('zeta.yaml');
    await eventually(async () => {
      expect((await httpGet(t.options.lbPort, 'shared.localhost', '/version')).body.trim()).toBe('v2');
      expect(t.daemon.store.app('alpha')?.conditions.some((c) => c.type === 'RouteConflict')).toBe(false);
    }, { timeoutMs: 30_000 });
  });
});
