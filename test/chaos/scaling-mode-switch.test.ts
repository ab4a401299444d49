// Issue 10, item 5: scaling.policy.mode auto -> manual -> auto never jumps back to a stale
// autoscaled count; the autoscaler starts from the count that runs and waits out its cooldown.
// A steady load through nginx keeps the autoscaler wanting more the whole time.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appManifest } from '../support/app-manifest.js';
import { eventually } from '../support/eventually.js';
import { startTestDaemon, type TestDaemon } from '../e2e/harness.js';
import { failuresOf, figure, seconds, sleep, steadyLoad } from './chaos.js';

const APP = 'modes';
const HOST = `${APP}.localhost`;
const COOLDOWN_S = 8;

function manifest(mode: 'auto' | 'manual', replicas = 1): string {
  return appManifest(APP, {
    replicas,
    spec: `  scaling:\n    minReplicas: 1\n    maxReplicas: 4\n    policy:\n      mode: ${mode}\n      cooldownSeconds: ${COOLDOWN_S}\n      http: { targetRPSPerReplica: 5, windowSeconds: 3 }`,
  });
}

describe('auto -> manual -> auto', () => {
  let t: TestDaemon;
  const status = () => t.daemon.store.app(APP);
  const running = async () => (await t.running(APP)).length;

  beforeAll(async () => {
    t = await startTestDaemon('chaos-modes', { resyncMs: 3_000 });
    await t.writeManifest('modes.yaml', manifest('auto'));
    await eventually(() => expect(status()?.phase).toBe('Running'), { timeoutMs: 30_000, intervalMs: 250 });
  });
  afterAll(async () => {
    await t?.cleanup();
  });

  it('starts again from the running count and waits out the cooldown', async () => {
    const load = steadyLoad(t.options.lbPort, HOST, 40); // 40 rps, 5 per replica: the autoscaler wants 4
    try {
      await eventually(async () => expect(await running()).toBe(4), { timeoutMs: 40_000, intervalMs: 250 });
      await t.writeManifest('modes.yaml', manifest('manual', 1));
      await eventually(async () => {
        expect(status()?.autoscaledReplicas).toBeUndefined();
        expect(await running()).toBe(1);
      }, { timeoutMs: 30_000, intervalMs: 250 });

      const switched = Date.now();
      const historyBefore = t.daemon.store.scalingHistory(APP).length;
      await t.writeManifest('modes.yaml', manifest('auto', 1));
      // Never the stale 4: the count stays at what runs while the cooldown runs from the switch.
      let peak = 0;
      while (seconds(switched) < COOLDOWN_S - 1) {
        await sleep(250);
        peak = Math.max(peak, await running(), status()?.autoscaledReplicas ?? 0);
      }
      expect(peak).toBe(1);
      expect(t.daemon.store.scalingHistory(APP).length).toBe(historyBefore);
      // Then the load decides, from 1.
      await eventually(() => expect(t.daemon.store.scalingHistory(APP).length).toBeGreaterThan(historyBefore), { timeoutMs: 20_000, intervalMs: 250 });
      const next = t.daemon.store.scalingHistory(APP).at(-1)!;
      expect(next.from).toBe(1);
      figure('auto -> manual -> auto', { secondsToFirstScaleAfterSwitch: (Date.parse(next.time) - switched) / 1000, cooldown: COOLDOWN_S, peakWithinCooldown: peak });
    } finally {
      const result = await load.stop();
      console.log(`[chaos] mode switch load: failedRequests=${result.failed} sent=${result.sent}${failuresOf(result)}`);
    }
  });
});
