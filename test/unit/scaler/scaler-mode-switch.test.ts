// The autoscaler loop across a switch auto -> manual -> auto: it starts again from the count that
// runs (never a stale autoscaled one) and waits out its cooldown before moving it.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { autoscalingStart, statusAfterPass } from '../../../src/controllers/containers/app-status.js';
import { desiredReplicaCount } from '../../../src/controllers/containers/desired-replicas.js';
import { ScalerController } from '../../../src/controllers/scaler/scaler-controller.js';
import type { LiveReplica } from '../../../src/core/replica.js';
import type { LoadedApp } from '../../../src/manifest/types.js';
import { validateManifest } from '../../../src/manifest/validate-manifest.js';
import type { AccessLogMetrics } from '../../../src/observe/index-metrics.js';
import { Store } from '../../../src/store/store.js';

const logger = pino({ level: 'silent' });

function app(mode: 'auto' | 'manual'): LoadedApp {
  const raw = {
    apiVersion: 'v1',
    kind: 'App',
    metadata: { name: 'web' },
    spec: {
      type: 'http',
      image: 'img:1',
      ports: [{ containerPort: 8080 }],
      replicas: 2,
      scaling: { minReplicas: 1, maxReplicas: 8, policy: { mode, cooldownSeconds: 30, http: { targetRPSPerReplica: 10, windowSeconds: 10 } } },
    },
  };
  return { manifest: validateManifest(raw).manifest!, file: '/m/web.yaml', document: 0 };
}

function replicas(count: number): LiveReplica[] {
  return Array.from({ length: count }, (_, slot) => ({
    id: `c${slot}`, name: `web-${slot}`, app: 'web', revision: 'r1', slot, image: 'img:1', state: 'running', running: true,
    createdAtMs: 0, addresses: {}, published: {}, labels: {}, health: 'ready' as const, draining: false,
  }));
}

/**
 * 30 requests a second, every second: 2 replicas at 10 per replica want 3 (150 %: the normal path,
 * with its window and cooldown; a load asking for the panic threshold scales out at once by design).
 */
const busy = {
  series: (_app: string, metric: string, sinceMs: number) => {
    const points = [];
    for (let t = Math.ceil(sinceMs / 1000) * 1000; t <= clock; t += 1000) points.push({ t, value: metric === 'rps' ? 30 : null });
    return points;
  },
  rps: () => 30,
  p95Ms: () => null,
} as unknown as AccessLogMetrics;
let clock = 0;

describe('ScalerController across a mode switch', () => {
  let dir: string;
  let store: Store;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'autoserve-scaler-'));
    store = await Store.open(join(dir, 'autoserve.json'), logger);
  });
  afterEach(async () => {
    await store.flush();
    await rm(dir, { recursive: true, force: true });
  });

  it('auto -> manual -> auto starts from the running count and respects the cooldown', async () => {
    let current = app('auto');
    let running = replicas(0);
    const scaled: [number, number][] = [];
    const scaler = new ScalerController({
      store,
      logger,
      apps: () => [current],
      replicasOf: () => running,
      accessLog: busy,
      usage: { usage: async () => new Map(), forgetUsage: () => {} },
      onScaled: (_app, from, to) => scaled.push([from, to]),
    });
    /** What the container controller's pass records for the app (app-status.ts). */
    const containerPass = () => {
      const counted = store.app('web')?.autoscaledReplicas;
      const status = store.updateApp('web', (s) => {
        const replicasNow = desiredReplicaCount(current.manifest.spec, s.autoscaledReplicas, running);
        const next = statusAfterPass(s, { kind: 'executed', loaded: current, revision: 'r1', replicas: replicasNow, plan: { actions: [], converged: true }, result: { created: [], removed: [], draining: [], errors: [] }, instances: [], live: running.length, serving: running.length, updated: running.length });
        Object.assign(s, next);
        if (next.autoscaledReplicas === undefined) delete s.autoscaledReplicas;
      });
      const start = autoscalingStart('web', counted, status.autoscaledReplicas, running.length, new Date(clock));
      if (start) store.addScaling(start);
    };

    clock = Date.now() + 60_000;
    containerPass(); // a new app: nothing runs yet, so no record; then its 2 replicas start
    expect(store.scalingHistory('web')).toEqual([]);
    running = replicas(2);
    await scaler.tick(clock);
    expect(scaled).toEqual([[2, 3]]); // 30 rps at 10 per replica
    running = replicas(3);

    current = app('manual');
    clock += 5_000;
    await scaler.tick(clock);
    containerPass();
    running = replicas(2); // the manual count runs
    expect(store.app('web')?.autoscaledReplicas).toBeUndefined();

    current = app('auto');
    clock += 5_000;
    containerPass(); // the file change reaches the container controller first
    await scaler.tick(clock);
    expect(store.app('web')?.autoscaledReplicas).toBe(2); // not the stale 3
    expect(store.scalingHistory('web').at(-1)).toMatchObject({ from: 2, to: 2, reason: 'autoscaling starts from the 2 replica(s) that run' });
    for (let s = 0; s < 25; s += 2) {
      clock += 2_000;
      await scaler.tick(clock);
    }
    expect(scaled).toEqual([[2, 3]]);
    expect(store.app('web')?.scaling?.heldBy).toBe('cooldown');
    clock += 10_000;
    await scaler.tick(clock);
    expect(scaled).toEqual([[2, 3], [2, 3]]); // the cooldown ran from the switch, then the load decides
  });
});
