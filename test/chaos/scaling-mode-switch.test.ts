// Issue 10, item 5: scaling.policy.mode auto -> manual -> auto never jumps back to a stale
// autoscaled count; the autoscaler starts from the count that runs and waits out its cooldown.
// A steady load through nginx keeps the autoscaler wanting more the whole time.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appManifest } from '../support/app-manifest.js';
import { eventually } from '../support/eventually.js';
import { startTestDaemon, type TestDaemon } from '../e2e/harness.js';
import { failuresOf, seconds, sleep, steadyLoad } from './chaos.js';
import { recordFigures } from './figures.js';

const APP = 'modes';
const HOST = `${APP}.localhost`;
const COOLDOWN_S = 8;

function manifest(mode: 'auto' | 'manual', replicas = 2): string {
  return appManifest(APP, {
    replicas,
    spec: `  scaling:\n    minReplicas: 1\n    maxReplicas: 4\n    policy:\n      mode: ${mode}\n      cooldownSeconds: ${COOLDOWN_S}\n      http: { targetRPSPerReplica: 10, windowSeconds: 3 }`,
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
    // 30 rps at 10 per replica: from 2 the autoscaler wants 3 (150 %, its normal path: a load that
    // asks for the panic threshold, 200 % of what is ready, scales out at once by design).
    const load = steadyLoad(t.options.lbPort, HOST, 30);
    try {
      await eventually(async () => expect(await running()).toBe(3), { timeoutMs: 40_000, intervalMs: 250 });
      await t.writeManifest('modes.yaml', manifest('manual', 2));
      await eventually(async () => {
        expect(status()?.autoscaledReplicas).toBeUndefined();
        expect(await running()).toBe(2);
      }, { timeoutMs: 30_000, intervalMs: 250 });

      const switched = Date.now();
      const historyBefore = t.daemon.store.scalingHistory(APP).length;
      const stale = 3;
      await t.writeManifest('modes.yaml', manifest('auto', 2));
      // The first pass in auto mode starts from what runs (2), never from the stale 3, and says so
      // in the scaling history: the cooldown runs from there.
      const decided = () => t.daemon.store.scalingHistory(APP).slice(historyBefore);
      const start = await eventually(() => {
        const [record] = decided();
        expect(record).toMatchObject({ from: 2, to: 2, reason: 'autoscaling starts from the 2 replica(s) that run' });
        return record!;
      }, { timeoutMs: 10_000, intervalMs: 50 });
      expect(status()?.autoscaledReplicas).not.toBe(stale);
      const changes = () => decided().slice(1);
      // Within the cooldown only the panic path (overload: twice what is ready, e.g. while a
      // replica is out of the rotation on a loaded host) may move it, by a recorded decision.
      await sleep(Date.parse(start.time) + COOLDOWN_S * 1_000 - Date.now() - 500);
      for (const record of changes()) expect(record.reason).toMatch(/^panic/);
      // After it, the load decides, from the count that runs.
      await eventually(() => expect(changes().length).toBeGreaterThan(0), { timeoutMs: 20_000, intervalMs: 250 });
      const next = changes()[0]!;
      expect(next.from).toBe(2);
      recordFigures('auto -> manual -> auto', { secondsToCountAfterSwitch: (Date.parse(start.time) - switched) / 1000, secondsToFirstScaleAfterSwitch: (Date.parse(next.time) - switched) / 1000, cooldown: COOLDOWN_S, firstScaleRule: next.reason.split(':')[0]! });
    } finally {
      const result = await load.stop();
      recordFigures('auto -> manual -> auto load', { failedRequests: result.failed, sent: result.sent });
      if (result.failed > 0) console.log(`first failures:${failuresOf(result)}`);
    }
  });
});
