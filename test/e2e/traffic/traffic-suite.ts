// Traffic end to end: a real engine (Docker, or a single-node Swarm on a test node), the
// controller's own real nginx, a bounded fixed-rate load through nginx during every change. Each
// runtime's test file runs this one suite (traffic.test.ts, traffic-swarm.cluster.test.ts). A failed request is an error status, a timeout or a broken
// connection; a reset on a reused keep-alive connection before any response byte is retried once
// (as browsers and curl do) and reported separately.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../../support/eventually.js';
import { httpGet } from '../../support/http-get.js';
import { LoadGenerator, type LoadResult } from '../../support/load-generator.js';
import { echoManifest } from '../../support/echo-manifest.js';
import type { TestDaemon } from '../harness.js';

const APP = 'echo';
const HOST = `${APP}.localhost`;

function report(name: string, result: LoadResult): void {
  console.log(
    `[${name}] sent=${result.sent} ok=${result.ok} failed=${result.failed} keepAliveRetries=${result.keepAliveRetries} p99=${result.latenciesMs.p99}ms upstreams=${JSON.stringify(result.byUpstream)}`,
  );
  if (result.failures.length > 0) console.log(`[${name}] failures: ${JSON.stringify(result.failures.slice(0, 5))}`);
}

export function trafficSuite(name: string, startDaemon: () => Promise<TestDaemon>): void {
  describe(`traffic through nginx: ${name}`, () => {
    let t: TestDaemon;
    const load = (ratePerSec = 40, durationMs = 60_000) =>
      new LoadGenerator({ port: t.options.lbPort, hostHeader: HOST, ratePerSec, durationMs, timeoutMs: 5_000, isOk: (s) => s === 200 });
    const readyCount = () => t.daemon.store.app(APP)?.replicas.ready ?? 0;
    /** Every replica on the revision of the applied spec (whose VERSION is `version`), all ready. */
    const converged = (replicas: number, version = 'v1') =>
      eventually(
        async () => {
          const status = t.daemon.store.app(APP);
          expect(status?.spec?.env.find((e) => e.name === 'VERSION')?.value).toBe(version);
          expect(status?.phase).toBe('Running');
          expect(status?.replicas).toMatchObject({ desired: replicas, ready: replicas, updated: replicas });
          const containers = await t.containers(APP);
          expect(containers).toHaveLength(replicas);
          expect(new Set(containers.map((c) => c.revision))).toEqual(new Set([status?.containerRevision]));
        },
        { timeoutMs: 45_000, intervalMs: 250 },
      );

    beforeAll(async () => {
      t = await startDaemon();
      await t.writeManifest('echo.yaml', echoManifest(APP, { replicas: 3 }));
      await converged(3);
    });
    afterAll(async () => {
      await t?.cleanup();
    });

    it('answers 404 for an unknown host', async () => {
      const res = await httpGet(t.options.lbPort, 'nobody.localhost');
      expect(res.status).toBe(404);
      expect((await httpGet(t.options.lbPort, HOST)).status).toBe(200);
    });

    it('balances requests across the replicas', async () => {
      const result = await load(50, 3_000).run();
      report('balance', result);
      expect(result.failed).toBe(0);
      const counts = Object.values(result.byUpstream);
      expect(counts).toHaveLength(3);
      for (const count of counts) expect(count).toBeGreaterThan(result.ok / 10);
    });

    it('scales out and in under load with zero failed requests', async () => {
      const generator = load();
      const running = generator.run();
      try {
        await t.writeManifest('echo.yaml', echoManifest(APP, { replicas: 5 }));
        await converged(5);
        await t.writeManifest('echo.yaml', echoManifest(APP, { replicas: 2 }));
        await converged(2);
      } finally {
        generator.stop();
      }
      const result = await running;
      report('scale', result);
      expect(result.failed).toBe(0);
      expect(result.sent).toBeGreaterThan(50);
    });

    it('rolls out a new revision under load with zero failed requests', async () => {
      const generator = load();
      const running = generator.run();
      try {
        await t.writeManifest('echo.yaml', echoManifest(APP, { replicas: 2, version: 'v2' }));
        await converged(2, 'v2');
        await eventually(async () => {
          const res = await httpGet(t.options.lbPort, HOST);
          expect((JSON.parse(res.body) as { version: string }).version).toBe('v2');
        });
      } finally {
        generator.stop();
      }
      const result = await running;
      report('rollout', result);
      expect(result.failed).toBe(0);
      const revisions = new Set((await t.containers(APP)).map((c) => c.revision));
      expect(revisions.size).toBe(1);
    });

    it('halts a rollout to a revision that never gets healthy; the old one keeps serving', async () => {
      const before = (await t.containers(APP)).map((c) => c.id).sort();
      const generator = load();
      const running = generator.run();
      try {
        await t.writeManifest('echo.yaml', echoManifest(APP, { replicas: 2, version: 'v3', failHealth: true }));
        await eventually(
          () => {
            const status = t.daemon.store.app(APP);
            expect(status?.conditions.find((c) => c.type === 'RolloutFailed')?.status).toBe('True');
            expect(status?.phase).toBe('Degraded');
          },
          { timeoutMs: 40_000, intervalMs: 250 },
        );
        await eventually(async () => expect((await t.containers(APP)).map((c) => c.id).sort()).toEqual(before), { timeoutMs: 15_000 });
      } finally {
        generator.stop();
      }
      const result = await running;
      report('halted rollout', result);
      expect(result.failed).toBe(0);
      // A later manifest change resumes rolling.
      await t.writeManifest('echo.yaml', echoManifest(APP, { replicas: 2, version: 'v4' }));
      await converged(2, 'v4');
      expect(t.daemon.store.app(APP)?.conditions.some((c) => c.type === 'RolloutFailed')).toBe(false);
    });

    it('keeps serving while the controller is stopped and restarted', async () => {
      const generator = load();
      const running = generator.run();
      try {
        await t.stop();
        await new Promise((r) => setTimeout(r, 2_000)); // nginx serves on its own meanwhile
        await t.restart();
        await converged(2, 'v4');
        await new Promise((r) => setTimeout(r, 1_000));
      } finally {
        generator.stop();
      }
      const result = await running;
      report('controller restart', result);
      expect(result.failed).toBe(0);
    });

    it('docker kill of one of 3 replicas\' process under load: zero failed requests (nginx retries elsewhere); back to 3 ready', async () => {
      await t.writeManifest('echo.yaml', echoManifest(APP, { replicas: 3, version: 'v4' }));
      await converged(3, 'v4');
      const generator = load();
      const running = generator.run();
      try {
        const [victim] = await t.running(APP);
        const killed = await t.kill(victim!);
        await eventually(async () => {
          expect(await t.containerIds(APP)).not.toContain(killed);
          expect(readyCount()).toBe(3);
        }, { timeoutMs: 30_000 });
        await new Promise((r) => setTimeout(r, 1_000));
      } finally {
        generator.stop();
      }
      const result = await running;
      report('docker kill', result);
      expect(result.failed).toBe(0);
    });
  });
}
