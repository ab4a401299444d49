// Issue 10, item 2: a stalled app (a valueFrom variable that is missing, or an image that cannot be
// pulled for a new revision) leaves what runs alone, and after a controller restart its adopted
// replicas are probed and stay in nginx. A steady load goes through nginx the whole time.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appManifest } from '../support/app-manifest.js';
import { eventually } from '../support/eventually.js';
import { startTestDaemon, type TestDaemon } from '../e2e/harness.js';
import { failuresOf, seconds, sleep, steadyLoad } from './chaos.js';
import { recordFigures } from './figures.js';

const APP = 'stall';
const HOST = `${APP}.localhost`;

describe('a stalled app keeps serving, also across a controller restart', () => {
  let t: TestDaemon;
  const status = () => t.daemon.store.app(APP);
  const ids = async () => (await t.containers(APP)).map((c) => c.id).sort();

  beforeAll(async () => {
    t = await startTestDaemon('chaos-stalled', { resyncMs: 3_000 });
    await t.writeManifest('stall.yaml', appManifest(APP, { replicas: 2 }));
    await eventually(() => expect(status()?.phase).toBe('Running'), { timeoutMs: 40_000, intervalMs: 250 });
  });
  afterAll(async () => {
    await t?.cleanup();
  });

  const stalls: { name: string; reason: string; manifest: string }[] = [
    {
      name: 'a valueFrom variable the controller does not have',
      reason: 'EnvValueMissing',
      manifest: appManifest(APP, { replicas: 2, spec: '  env:\n    - name: TOKEN\n      valueFrom: { env: AUTOSERVE_CHAOS_UNSET_VARIABLE }' }),
    },
    {
      name: 'an image that cannot be pulled for a new revision',
      reason: 'ImagePullFailed',
      manifest: appManifest(APP, { replicas: 2, image: 'autoserve-chaos-never-built:v0' }),
    },
  ];

  for (const stall of stalls) {
    it(`${stall.name}: what runs keeps serving, and stays routed after a restart`, async () => {
      await t.writeManifest('stall.yaml', appManifest(APP, { replicas: 2 }));
      await eventually(() => expect(status()).toMatchObject({ phase: 'Running', replicas: { ready: 2 } }), { timeoutMs: 30_000, intervalMs: 250 });
      const before = await ids();
      const load = steadyLoad(t.options.lbPort, HOST);
      const started = Date.now();
      await t.writeManifest('stall.yaml', stall.manifest);
      await eventually(() => expect(status()?.conditions.find((c) => c.type === stall.reason)?.status).toBe('True'), { timeoutMs: 20_000, intervalMs: 250 });
      await t.restart();
      // Adopted replicas are probed and routed: the status counts them as serving.
      await eventually(() => {
        expect(status()?.replicas.ready).toBe(2);
        expect(status()?.phase).toBe('Degraded');
      }, { timeoutMs: 15_000, intervalMs: 250 });
      await sleep(4_000); // a resync and more
      const result = await load.stop();
      recordFigures(`stalled app (${stall.reason}) + restart`, { failedRequests: result.failed, sent: result.sent, seconds: seconds(started) });
      expect(await ids()).toEqual(before);
      expect(result.failed, failuresOf(result)).toBe(0);
      expect(t.daemon.store.app(APP)?.conditions.find((c) => c.type === stall.reason)?.status).toBe('True');
    });
  }
});
