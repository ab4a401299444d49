// Autoscaling end to end: real Docker, the controller's own nginx, the access-log and cgroup
// collectors, the decision function and the rollout-safe scale path, with bounded load. Scaling on
// CPU is driven end to end by overload.test.ts (a saturated CPU-only app).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../../support/eventually.js';
import { httpGet } from '../../support/http-get.js';
import { LoadGenerator } from '../../support/load-generator.js';
import { startTestDaemon, type TestDaemon } from '../harness.js';

function manifest(name: string, policy: string, resources = ''): string {
  return `apiVersion: v1
kind: App
metadata:
  name: ${name}
spec:
  type: http
  image: autoserve-node-echo:v1
  ports:
    - containerPort: 8080
  health:
    httpGet: { path: /healthz, port: 8080 }
    intervalSeconds: 1
  ${resources}
  termination:
    drainSeconds: 1
    stopTimeoutSeconds: 5
  scaling:
    minReplicas: 1
    maxReplicas: 4
    policy:
      mode: auto
      cooldownSeconds: 5
${policy}
`;
}

describe('autoscaling', () => {
  let t: TestDaemon;
  beforeAll(async () => {
    t = await startTestDaemon('autoscale');
  });
  afterAll(async () => {
    await t?.cleanup();
  });

  it('scales out on requests per second under 40 rps and back to 1 when the load stops, with zero failed requests', async () => {
    // A short scale-in stabilization (default 60 s) keeps the test short; the knob reaches the decision.
    await t.writeManifest('rps.yaml', manifest('rps', '      behavior:\n        scaleIn: { stabilizationSeconds: 15 }\n      http:\n        targetRPSPerReplica: 10\n        windowSeconds: 5'));
    await eventually(async () => expect((await httpGet(t.options.lbPort, 'rps.localhost', '/healthz')).status).toBe(200), { timeoutMs: 30_000 });
    const load = new LoadGenerator({ port: t.options.lbPort, hostHeader: 'rps.localhost', ratePerSec: 40, durationMs: 90_000, isOk: (s) => s === 200 });
    const running = load.run();
    let scaledOutWithinMs = 0;
    const started = Date.now();
    try {
      await eventually(() => expect(t.daemon.store.app('rps')?.replicas.ready).toBeGreaterThanOrEqual(3), { timeoutMs: 60_000, intervalMs: 250 });
      scaledOutWithinMs = Date.now() - started;
    } finally {
      load.stop();
    }
    const result = await running;
    console.log(`[rps] scaled out to >= 3 ready in ${scaledOutWithinMs} ms; sent=${result.sent} failed=${result.failed} keepAliveRetries=${result.keepAliveRetries} ${JSON.stringify(result.failures.slice(0, 3))}`);
    expect(result.failed).toBe(0);
    await eventually(
      async () => {
        expect(t.daemon.store.app('rps')?.replicas).toMatchObject({ desired: 1, ready: 1 });
        expect((await t.containers('rps')).length).toBe(1);
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    const history = t.daemon.store.scalingHistory('rps');
    expect(history.length).toBeGreaterThanOrEqual(2);
    expect(history[0]!.from).toBe(1);
    expect(history[0]!.to).toBeGreaterThan(1);
    expect(history.at(-1)!.to).toBe(1);
    for (const record of history) {
      expect(record.reason.length).toBeGreaterThan(0);
      expect(record.metrics.rpsPerReplica?.target).toBe(10);
    }
    // Never flapped: every step out comes before every step in.
    const directions = history.map((r) => (r.to > r.from ? 'out' : 'in'));
    expect(directions.join(',')).toMatch(/^(out,)*out(,in)+$/);
    expect(t.daemon.store.app('rps')?.scaling?.reason).toBeTruthy();
  });
});
