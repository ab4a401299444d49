// A real latency-driven slowdown (issue 12): the request rate stays constant while each request
// takes six times as long, so the rate target says "enough" and only latency tells. The app
// (queue-app: 4 workers per replica, service time chosen per request) must scale out within
// window + start-up + 5 s of the slowdown. Requests arrive at Poisson times: evenly spaced ones
// would never queue below 100 % utilization, which no real set of clients does.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_WINDOW_SECONDS } from '../../../src/manifest/scaling-defaults.js';
import { eventually } from '../../support/eventually.js';
import { httpGet } from '../../support/http-get.js';
import { appManifest } from '../../support/app-manifest.js';
import { poissonArrivals } from '../../support/arrivals.js';
import { LoadGenerator } from '../../support/load-generator.js';
import { startTestDaemon, type TestDaemon } from '../harness.js';

const APP = 'slow';
const TARGET = 20; // rps per replica
// 60 % of one replica's target: the rate alone never asks for a second. (At 70 % a 6 s stretch of
// the in-process load generator's arrivals once read 19 rps, and a panic for 2 replicas was right.)
const RATE = 12;
const SLO_MS = 500;
const BEFORE_MS = 50; // 0.6 busy workers of 4: p95 ~ 60 ms
const AFTER_MS = 350; // 4.2 busy workers of 4: the queue grows, the p95 passes the objective within seconds; 2 replicas hold it
const STEADY_S = 20;

const MANIFEST = appManifest(APP, {
  image: 'autoserve-queue-app:v1',
  spec: ['  scaling:', '    minReplicas: 1', '    maxReplicas: 4', '    policy:', '      http:', `        targetRPSPerReplica: ${TARGET}`, `        maxP95LatencyMs: ${SLO_MS}`].join('\n'),
});

describe('latency-driven scaling', () => {
  let t: TestDaemon;
  beforeAll(async () => {
    t = await startTestDaemon('latency');
  });
  afterAll(async () => {
    await t?.cleanup();
  });

  it('a constant rate whose requests get 6x slower scales out within window + start-up + 5 s', async () => {
    await t.writeManifest('slow.yaml', MANIFEST);
    await eventually(async () => expect((await httpGet(t.options.lbPort, `${APP}.localhost`, '/healthz')).status).toBe(200), { timeoutMs: 30_000 });
    const shiftAt = STEADY_S * RATE;
    const load = new LoadGenerator({
      port: t.options.lbPort, hostHeader: `${APP}.localhost`, ratePerSec: RATE, durationMs: 120_000, timeoutMs: 20_000, maxSockets: 128,
      // Independent clients arrive at random (Poisson), so requests queue before the workers run out.
      sendAtMs: poissonArrivals(RATE, 12),
      path: (i) => `/serve?ms=${i < shiftAt ? BEFORE_MS : AFTER_MS}`,
    });
    const started = Date.now();
    const running = load.run();
    const shiftedAt = started + STEADY_S * 1000;
    let readyMs = 0;
    // What the autoscaler says, for a failure's story.
    const said: string[] = [];
    const watch = setInterval(() => said.push(`${Math.round((Date.now() - started) / 1000)}s ${t.daemon.store.app(APP)?.scaling?.reason ?? ''}`), 2000);
    try {
      await new Promise((r) => setTimeout(r, STEADY_S * 1000));
      expect(t.daemon.store.scalingHistory(APP)).toEqual([]); // the rate alone never asked for more
      await eventually(() => expect(t.daemon.store.app(APP)?.replicas.ready ?? 0).toBeGreaterThanOrEqual(2), { timeoutMs: 60_000, intervalMs: 250 });
      readyMs = Date.now() - shiftedAt;
    } catch (err) {
      console.log(`[latency] the autoscaler said:\n${said.join('\n')}`);
      throw err;
    } finally {
      clearInterval(watch);
      load.stop();
    }
    await running;
    const first = t.daemon.store.scalingHistory(APP)[0]!;
    const decidedMs = Date.parse(first.time) - shiftedAt;
    const [added] = (await t.running(APP)).sort((a, b) => b.createdAtMs - a.createdAtMs);
    const startupMs = shiftedAt + readyMs - added!.createdAtMs;
    console.log(`[latency] decided ${decidedMs} ms after the slowdown (${first.from} -> ${first.to}: ${first.reason}); ready ${readyMs} ms after it (start-up ${startupMs} ms)`);
    expect(first.to).toBeGreaterThan(first.from);
    expect(first.reason).toMatch(/p95/);
    expect(decidedMs).toBeLessThanOrEqual((DEFAULT_WINDOW_SECONDS + 5) * 1000);
    expect(readyMs).toBeLessThanOrEqual((DEFAULT_WINDOW_SECONDS + 5) * 1000 + startupMs);
  });
});
