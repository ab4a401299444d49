// Changes of the ports and checks under load (found by a fault hunt): a rollout's old replicas are
// checked and routed as their own revision says, so a new port or a wrong health path is the new
// revision's problem only; a health-only change keeps every replica's readiness. Zero failed
// requests throughout; a revision that never passes its checks halts, and the old one serves.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { echoManifest } from '../../support/echo-manifest.js';
import { eventually } from '../../support/eventually.js';
import { LoadGenerator, type LoadResult } from '../../support/load-generator.js';
import { startTestDaemon, type TestDaemon } from '../harness.js';

const APP = 'spec';
const HOST = `${APP}.localhost`;

/** Two replicas; a 6 s progress deadline so a revision that never passes halts soon. */
const echoApp = (o: { version: string; port?: number; healthPath?: string; intervalSeconds?: number }) =>
  echoManifest(APP, { replicas: 2, progressDeadlineSeconds: 6, port: 8080, ...o });

describe('port and health changes under load', () => {
  let t: TestDaemon;
  const status = () => t.daemon.store.app(APP);

  /** 20 requests/s while `during` runs; what they got. */
  async function underLoad(during: () => Promise<void>): Promise<LoadResult> {
    const load = new LoadGenerator({ port: t.options.lbPort, hostHeader: HOST, ratePerSec: 20, durationMs: 60_000, timeoutMs: 5_000 });
    const running = load.run();
    try {
      await during();
    } finally {
      load.stop();
    }
    return running;
  }

  async function rolledOutTo(version: string): Promise<void> {
    await eventually(async () => {
      const s = status();
      expect(s?.spec?.env.find((e) => e.name === 'VERSION')?.value).toBe(version);
      expect(s?.phase).toBe('Running');
      expect(s?.replicas).toMatchObject({ desired: 2, ready: 2, updated: 2 });
      expect(new Set((await t.containers(APP)).map((c) => c.revision))).toEqual(new Set([s?.containerRevision]));
    }, { timeoutMs: 60_000, intervalMs: 250 });
  }

  beforeAll(async () => {
    t = await startTestDaemon('spec-change');
    await t.writeManifest('spec.yaml', echoApp({ version: 'v1' }));
    await rolledOutTo('v1');
  }, 90_000);
  afterAll(async () => {
    await t?.cleanup();
  });

  it('a new containerPort rolls out with zero failed requests: old replicas keep taking traffic on theirs', async () => {
    const result = await underLoad(async () => {
      await t.writeManifest('spec.yaml', echoApp({ version: 'v2', port: 9090 }));
      await rolledOutTo('v2');
    });
    console.log(`[spec-change] port 8080 -> 9090: sent=${result.sent} failed=${result.failed}`);
    expect(result.sent).toBeGreaterThan(20);
    expect(result.failed, JSON.stringify(result.failures.slice(0, 3))).toBe(0);
  });

  it('a new revision whose health path never answers halts; the old replicas keep serving, checked as before, also after a controller restart', async () => {
    const result = await underLoad(async () => {
      await t.writeManifest('spec.yaml', echoApp({ version: 'v3', port: 9090, healthPath: '/nope' }));
      await eventually(() => expect(status()?.conditions.find((c) => c.type === 'RolloutFailed')?.status).toBe('True'), { timeoutMs: 30_000, intervalMs: 250 });
      expect(status()?.replicas.ready).toBe(2);
      // A restarted controller has only the store: the last converged revision's spec checks its replicas.
      await t.restart();
      await new Promise((r) => setTimeout(r, 3_000));
      expect(status()?.replicas.ready).toBe(2);
    });
    console.log(`[spec-change] bad health path: sent=${result.sent} failed=${result.failed}`);
    expect(result.failed, JSON.stringify(result.failures.slice(0, 3))).toBe(0);
    await t.writeManifest('spec.yaml', echoApp({ version: 'v2', port: 9090 }));
    await rolledOutTo('v2');
  });

  it('a health-only change (same revision) keeps every replica in the rotation', async () => {
    const before = (await t.containers(APP)).map((c) => c.id).sort();
    const result = await underLoad(async () => {
      await t.writeManifest('spec.yaml', echoApp({ version: 'v2', port: 9090, intervalSeconds: 2 }));
      await eventually(() => expect(status()?.spec?.health?.intervalSeconds).toBe(2), { timeoutMs: 10_000 });
      await new Promise((r) => setTimeout(r, 3_000));
    });
    console.log(`[spec-change] health interval 1 -> 2: sent=${result.sent} failed=${result.failed}`);
    expect(result.failed, JSON.stringify(result.failures.slice(0, 3))).toBe(0);
    expect((await t.containers(APP)).map((c) => c.id).sort()).toEqual(before); // nothing restarted
  });
});
