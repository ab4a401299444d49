// Issue 10, items 3 and 4: a rollout that crash-loops or flaps fails within progressDeadlineSeconds
// of its start, and while it is halted the old revision serves at full capacity (a dead old
// replica is replaced, a scale change is applied) and the failed revision is not retried. A
// steady load goes through nginx the whole time.
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appManifest } from '../support/app-manifest.js';
import { eventually } from '../support/eventually.js';
import { startTestDaemon, type TestDaemon } from '../e2e/harness.js';
import { failuresOf, seconds, sleep, steadyLoad } from './chaos.js';
import { recordFigures } from './figures.js';

const APP = 'roll';
const HOST = `${APP}.localhost`;
const DEADLINE_S = 6;

/** The demo app; `command` makes a different revision. */
function manifest(replicas: number, command?: string[]): string {
  const rollout = `  rollout:\n    maxSurge: 1\n    progressDeadlineSeconds: ${DEADLINE_S}`;
  const cmd = command ? `  command: ${JSON.stringify(command)}` : '';
  return appManifest(APP, { replicas, spec: [rollout, cmd].filter(Boolean).join('\n') });
}

/** Exits at once: every replica dies young. */
const CRASH = ['/bin/busybox', 'false'];
/** Passes its checks for 2 s, then answers 404 until liveness replaces it: ready, then failing, again and again. */
const FLAP = ['/bin/busybox', 'sh', '-c', 'mkdir -p /tmp/w && cp /www/* /tmp/w/ && (sleep 2; rm /tmp/w/healthz) & exec /bin/busybox httpd -f -p 8080 -h /tmp/w'];

describe('rollouts that go wrong', () => {
  let t: TestDaemon;
  const status = () => t.daemon.store.app(APP);
  const revisions = async () => new Set((await t.containers(APP)).map((c) => c.revision));
  const rolloutFailed = () => status()?.conditions.find((c) => c.type === 'RolloutFailed')?.status === 'True';

  beforeAll(async () => {
    t = await startTestDaemon('chaos-rollouts', { resyncMs: 3_000 });
    await t.writeManifest('roll.yaml', manifest(3));
    await eventually(() => expect(status()?.phase).toBe('Running'), { timeoutMs: 40_000, intervalMs: 250 });
  });
  afterAll(async () => {
    await t?.cleanup();
  });

  for (const [name, command] of [['crash-looping', CRASH], ['flapping', FLAP]] as const) {
    it(`a ${name} revision fails within progressDeadlineSeconds of the rollout's start; the old one keeps serving`, async () => {
      await t.writeManifest('roll.yaml', manifest(3)); // back to the good revision
      await eventually(() => expect(status()).toMatchObject({ phase: 'Running', replicas: { ready: 3 } }), { timeoutMs: 40_000, intervalMs: 250 });
      const oldRevision = status()!.containerRevision!;
      const load = steadyLoad(t.options.lbPort, HOST);
      const started = Date.now();
      await t.writeManifest('roll.yaml', manifest(3, command));
      await eventually(() => expect(rolloutFailed()).toBe(true), { timeoutMs: (DEADLINE_S + 15) * 1_000, intervalMs: 200 });
      const toFailed = seconds(started);
      await eventually(async () => expect(await revisions()).toEqual(new Set([oldRevision])), { timeoutMs: 15_000 });
      const result = await load.stop();
      recordFigures(`${name} rollout`, { secondsToRolloutFailed: toFailed, deadline: DEADLINE_S, failedRequests: result.failed, sent: result.sent });
      expect(toFailed).toBeLessThan(DEADLINE_S + 6); // the deadline, a probe interval and a pass
      expect(result.failed, failuresOf(result)).toBe(0);
    });
  }

  it('while halted: a dead old replica is replaced by the old revision, a scale change is applied, the failed revision is not retried', async () => {
    expect(rolloutFailed()).toBe(true);
    const halted = status()!.haltedRevision!;
    const serving = status()!.stable!.revision;
    expect((await t.haltMarkers(APP)).map((m) => m.revision)).toEqual([halted]); // recorded in the runtime too
    const load = steadyLoad(t.options.lbPort, HOST);
    const [victim] = await t.running(APP);
    const killed = Date.now();
    execFileSync('docker', ['kill', victim!.id]);
    await eventually(async () => {
      const running = await t.running(APP);
      expect(running.map((r) => r.id)).not.toContain(victim!.id);
      expect(running).toHaveLength(3);
      expect(status()?.replicas.ready).toBe(3);
    }, { timeoutMs: 20_000, intervalMs: 250 });
    const replaced = seconds(killed);

    const scaled = Date.now();
    await t.writeManifest('roll.yaml', manifest(4, FLAP)); // same failed revision, one more replica
    await eventually(async () => {
      expect((await t.running(APP)).length).toBe(4);
      expect(status()?.replicas.ready).toBe(4);
    }, { timeoutMs: 20_000, intervalMs: 250 });
    const scaledIn = seconds(scaled);
    await sleep(4_000); // more than a resync: the failed revision is never tried again
    const result = await load.stop();
    expect(await revisions()).toEqual(new Set([serving]));
    expect(rolloutFailed()).toBe(true);
    recordFigures('halted rollout keeps capacity', { secondsToReplaceDeadOld: replaced, secondsToScaleWhileHalted: scaledIn, failedRequests: result.failed, sent: result.sent });
    expect(result.failed).toBeLessThanOrEqual(Math.max(2, result.sent * 0.01)); // the kill itself may cost a request in flight

    // A manifest change resumes rolling, and the marker goes.
    await t.writeManifest('roll.yaml', manifest(2, ['/bin/busybox', 'httpd', '-f', '-p', '8080', '-h', '/www']));
    await eventually(() => expect(status()).toMatchObject({ phase: 'Running', replicas: { ready: 2, updated: 2 } }), { timeoutMs: 40_000, intervalMs: 250 });
    expect(await t.haltMarkers(APP)).toEqual([]);
    expect(rolloutFailed()).toBe(false);
  });
});
