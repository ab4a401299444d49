// Issue 10 item 13 and issue 12 item 4 (readiness vs liveness): a replica that fails its checks is
// reported at once, with the probe's result, collapsed with a count, and shown in its status; a
// replica that stops answering (here: paused, as a busy one would) leaves nginx's rotation but is
// not killed, re-enters when it answers again, and is replaced only once it has failed for
// health.replaceAfterSeconds. A steady load goes through nginx the whole time.
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appManifest } from '../support/app-manifest.js';
import { eventually } from '../support/eventually.js';
import { startTestDaemon, type TestDaemon } from '../e2e/harness.js';
import { seconds, sleep, steadyLoad } from './chaos.js';
import { recordFigures } from './figures.js';

const APP = 'probe';
const HOST = `${APP}.localhost`;
const REPLACE_AFTER_S = 6;

function manifest(command?: string[]): string {
  return appManifest(APP, {
    replicas: 2,
    spec: [
      `  rollout:\n    progressDeadlineSeconds: 30`,
      ...(command ? [`  command: ${JSON.stringify(command)}`] : []),
    ].join('\n'),
  }).replace('    intervalSeconds: 1', `    intervalSeconds: 1\n    timeoutSeconds: 1\n    failureThreshold: 2\n    replaceAfterSeconds: ${REPLACE_AFTER_S}`);
}

describe('health checks: reported at once; readiness leaves rotation, liveness replaces', () => {
  let t: TestDaemon;
  const status = () => t.daemon.store.app(APP);

  beforeAll(async () => {
    t = await startTestDaemon('chaos-health', { resyncMs: 3_000 });
    await t.writeManifest('probe.yaml', manifest());
    await eventually(() => expect(status()?.phase).toBe('Running'), { timeoutMs: 40_000, intervalMs: 250 });
  });
  afterAll(async () => {
    await t?.cleanup();
  });

  it('a rollout to a revision whose check answers 404 is reported within seconds, with the result and a count', async () => {
    const started = Date.now();
    // Serves /bin instead of /www: GET /healthz -> 404.
    await t.writeManifest('probe.yaml', manifest(['/bin/busybox', 'httpd', '-f', '-p', '8080', '-h', '/bin']));
    const event = await eventually(() => {
      const e = t.daemon.store.events({ app: APP }).find((x) => x.reason === 'ProbeFailed');
      expect(e?.message).toMatch(/health check failed: GET \/healthz -> 404$/);
      return e!;
    }, { timeoutMs: 15_000, intervalMs: 100 });
    const reported = seconds(started);
    await eventually(() => expect(t.daemon.store.events({ app: APP }).find((x) => x.id === event.id)!.count).toBeGreaterThanOrEqual(3), { timeoutMs: 10_000 });
    await eventually(() => {
      const failing = status()?.instances.find((i) => i.lastProbe && !i.lastProbe.ok);
      expect(failing?.lastProbe?.detail).toBe('GET /healthz -> 404');
    }, { timeoutMs: 10_000 });
    recordFigures('404 health check reported', { secondsToEvent: reported, progressDeadline: 30 });
    expect(reported).toBeLessThan(10); // far inside the 30 s deadline (about a second on a quiet host)
    await t.writeManifest('probe.yaml', manifest());
    await eventually(() => expect(status()).toMatchObject({ phase: 'Running', replicas: { ready: 2, updated: 2 } }), { timeoutMs: 40_000, intervalMs: 250 });
  });

  it('a replica that stops answering leaves rotation but is not killed, and comes back when it answers', async () => {
    const [busy, other] = await t.running(APP);
    const load = steadyLoad(t.options.lbPort, HOST);
    const paused = Date.now();
    execFileSync('docker', ['pause', busy!.id]);
    try {
      await eventually(() => expect(status()?.replicas.ready).toBe(1), { timeoutMs: 10_000, intervalMs: 100 });
      const outOfRotation = seconds(paused);
      await sleep(1_500);
      execFileSync('docker', ['unpause', busy!.id]);
      const unpaused = Date.now();
      await eventually(() => expect(status()?.replicas.ready).toBe(2), { timeoutMs: 10_000, intervalMs: 100 });
      const backInRotation = seconds(unpaused);
      const result = await load.stop();
      expect((await t.running(APP)).map((r) => r.id).sort()).toEqual([busy!.id, other!.id].sort()); // nobody was killed
      const events = t.daemon.store.events({ app: APP });
      expect(events.some((e) => e.reason === 'ReplicaNotReady' && e.message.includes('timeout after 1s'))).toBe(true);
      expect(events.some((e) => e.reason === 'ReplicaUnhealthy')).toBe(false);
      // Requests already sent to it wait for it; the figure says how many timed out or failed.
      recordFigures('replica stops answering (readiness)', { secondsOutOfRotation: outOfRotation, secondsBackInRotation: backInRotation, failedRequests: result.failed, sent: result.sent });
    } finally {
      try {
        execFileSync('docker', ['unpause', busy!.id], { stdio: 'ignore' });
      } catch {
        // not paused any more
      }
    }
  });

  it('a replica that keeps failing for replaceAfterSeconds is replaced (liveness)', async () => {
    const [sick] = await t.running(APP);
    const paused = Date.now();
    execFileSync('docker', ['pause', sick!.id]);
    try {
      await eventually(async () => {
        const ids = (await t.running(APP)).map((r) => r.id);
        expect(ids).not.toContain(sick!.id);
        expect(status()?.replicas.ready).toBe(2);
      }, { timeoutMs: 30_000, intervalMs: 250 });
      const replaced = seconds(paused);
      recordFigures('replica failing for good (liveness)', { secondsToReplaced: replaced, replaceAfterSeconds: REPLACE_AFTER_S });
      expect(replaced).toBeGreaterThanOrEqual(REPLACE_AFTER_S);
      expect(t.daemon.store.events({ app: APP }).some((e) => e.reason === 'ReplicaUnhealthy')).toBe(true);
    } finally {
      try {
        execFileSync('docker', ['unpause', sick!.id], { stdio: 'ignore' });
      } catch {
        // already removed
      }
    }
  });
});
