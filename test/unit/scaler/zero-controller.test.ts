// The zero controller's acts, on a real store with a fake nginx channel: what it writes, which
// events and scaling records, what held requests are told, and the count the container pass reads.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { desiredReplicaCount } from '../../../src/controllers/containers/desired-replicas.js';
import { notReadyReason, ZeroController } from '../../../src/controllers/scaler/zero-controller.js';
import type { ActivityChannel, ActivitySnapshot, AppActivity, HoldState, HoldSupport } from '../../../src/core/activity.js';
import type { LiveReplica } from '../../../src/core/replica.js';
import { applyDefaults } from '../../../src/manifest/defaults.js';
import type { LoadedApp } from '../../../src/manifest/types.js';
import { Store } from '../../../src/store/store.js';

const logger = pino({ level: 'silent' });
const T0 = 1_700_000_000_000;

function app(name: string, spec: Record<string, unknown>): LoadedApp {
  const manifest = applyDefaults({
    apiVersion: 'v1', kind: 'App', metadata: { name },
    spec: { type: 'http', image: 'x:1', ports: [{ containerPort: 80 }], ...spec },
  });
  return { manifest, file: `/m/${name}.yaml`, document: 0 };
}
const sleepy = (name = 'web', over: Record<string, unknown> = {}) =>
  app(name, { scaling: { minReplicas: 0, maxReplicas: 5, idleSeconds: 60, policy: { connections: { targetPerReplica: 10 } } }, ...over });
const activity = (over: Partial<AppActivity> = {}): AppActivity => ({ inFlight: 0, held: 0, heldTotal: 0, timeouts: 0, ...over });

class FakeChannel implements ActivityChannel {
  published: { states: Record<string, HoldState>; clears: Record<string, number> }[] = [];
  async read(): Promise<ActivitySnapshot | undefined> {
    return undefined;
  }
  async publish(states: Record<string, HoldState>, clears: Record<string, number>): Promise<boolean> {
    this.published.push({ states, clears });
    return true;
  }
}

describe('ZeroController', () => {
  let dir: string;
  let store: Store;
  let apps: LoadedApp[];
  let served: number;
  let routeHolds: boolean;
  let changed: string[];
  let channel: FakeChannel;
  let support: HoldSupport;
  let metrics: { wakes: string[]; durations: number[]; held: [string, number, number][] };
  let zero: ZeroController;
  const replicas: LiveReplica[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'autoserve-zero-'));
    store = await Store.open(join(dir, 'store.json'), logger);
    apps = [sleepy()];
    served = 1;
    routeHolds = true;
    changed = [];
    channel = new FakeChannel();
    support = { kind: 'yes', channel };
    metrics = { wakes: [], durations: [], held: [] };
    zero = new ZeroController({
      store, logger,
      apps: () => apps,
      replicasOf: () => replicas,
      servedCount: () => served,
      routeHolds: () => routeHolds,
      holdSupport: () => support,
      onChanged: (a) => changed.push(a),
      metrics: {
        wake: (a) => metrics.wakes.push(a),
        wakeCompleted: (_a, ms) => metrics.durations.push(ms),
        heldRequests: (a, held, timedOut) => metrics.held.push([a, held, timedOut]),
      },
    });
  });

  afterEach(async () => {
    await store.flush();
    await rm(dir, { recursive: true, force: true });
  });

  const snapshot = (apps: Record<string, AppActivity>, seq = 1): ActivitySnapshot => ({ seq, apps });
  const spec = () => apps[0]!.manifest.spec;

  it('puts an idle app to sleep once idleSeconds passed since it was first seen, and clears older wakes', async () => {
    await zero.evaluate(snapshot({ web: activity({ lastArrivalMs: T0 - 3_600_000 }) }), support, T0);
    expect(store.app('web')?.zero).toBeUndefined(); // first seen now: a whole idleSeconds to go
    await zero.evaluate(snapshot({ web: activity({ lastArrivalMs: T0 - 3_600_000 }) }), support, T0 + 60_000);
    expect(store.app('web')?.zero).toEqual({ asleepSince: new Date(T0 + 60_000).toISOString() });
    expect(desiredReplicaCount(spec(), store.app('web'))).toBe(0);
    expect(changed).toEqual(['web']);
    expect(store.events({ app: 'web' }).map((e) => e.reason)).toEqual(['ScaledToZero']);
    expect(store.scalingHistory('web')).toMatchObject([{ from: 1, to: 0 }]);
    expect(channel.published.at(-1)!.clears).toEqual({ web: T0 + 60_000 });
    expect(store.app('web')?.conditions.find((c) => c.type === 'ScaledToZero')).toMatchObject({ status: 'True', reason: 'Idle' });
  });

  it('does not sleep while the live nginx config does not hold the app\'s requests (its route change held back)', async () => {
    routeHolds = false;
    await zero.evaluate(snapshot({ web: activity() }), support, T0);
    await zero.evaluate(snapshot({ web: activity() }), support, T0 + 600_000);
    expect(store.app('web')?.zero).toBeUndefined();
    // Served now: nginx records arrivals from here on, so the app gets a whole idleSeconds.
    routeHolds = true;
    await zero.evaluate(snapshot({ web: activity() }), support, T0 + 600_000);
    await zero.evaluate(snapshot({ web: activity() }), support, T0 + 659_000);
    expect(store.app('web')?.zero).toBeUndefined();
    await zero.evaluate(snapshot({ web: activity() }), support, T0 + 660_000);
    expect(store.app('web')?.zero).toEqual({ asleepSince: new Date(T0 + 660_000).toISOString() });
  });

  it('wakes a sleeping app on a request, sized by what is held, then records the wake once a replica serves', async () => {
    store.updateApp('web', (s) => (s.zero = { asleepSince: new Date(T0).toISOString() }));
    served = 0;
    await zero.evaluate(snapshot({ web: activity({ wakeRequestedAtMs: T0 + 1_000, held: 25, inFlight: 25, heldTotal: 25, lastArrivalMs: T0 + 1_000 }) }), support, T0 + 1_050);
    const status = store.app('web')!;
    expect(status.zero).toEqual({ wakingSince: new Date(T0 + 1_000).toISOString() });
    expect(status.autoscaledReplicas).toBe(3); // 25 held at 10 per replica
    expect(desiredReplicaCount(spec(), status)).toBe(3);
    expect(metrics.wakes).toEqual(['web']);
    expect(store.events({ app: 'web' }).map((e) => e.reason)).toEqual(['WokenByRequest']);

    served = 1;
    zero.servedChanged('web');
    expect(store.app('web')?.zero).toBeUndefined();
    expect(metrics.durations).toHaveLength(1);
    expect(store.events({ app: 'web' }).map((e) => e.reason)).toEqual(['WokenByRequest', 'WakeCompleted']);
  });

  it('does not sleep again within idleSeconds of a wake, even without a new arrival', async () => {
    store.updateApp('web', (s) => (s.zero = { asleepSince: new Date(T0).toISOString() }));
    await zero.evaluate(snapshot({ web: activity({ wakeRequestedAtMs: T0 - 600_000, lastArrivalMs: T0 - 600_000 }) }), support, T0);
    await zero.evaluate(snapshot({ web: activity({ lastArrivalMs: T0 - 600_000 }) }), support, T0 + 59_000);
    expect(store.app('web')?.zero?.asleepSince).toBeUndefined();
    await zero.evaluate(snapshot({ web: activity({ lastArrivalMs: T0 - 600_000 }) }), support, T0 + 60_000);
    expect(store.app('web')?.zero?.asleepSince).toBeDefined();
  });

  it('after an nginx restart (its arrivals forgotten) an awake app gets a whole idleSeconds again', async () => {
    await zero.evaluate(snapshot({ web: activity({ lastArrivalMs: T0 }) }), support, T0);
    zero.restartIdleClocks(T0 + 50_000); // nginx came back empty: no arrival is known any more
    await zero.evaluate(snapshot({}), support, T0 + 60_000);
    expect(store.app('web')?.zero?.asleepSince).toBeUndefined();
    await zero.evaluate(snapshot({}), support, T0 + 110_000);
    expect(store.app('web')?.zero?.asleepSince).toBeDefined();
  });

  it('never sleeps where requests cannot be held (a Swarm, reload mode): minReplicas 0 acts as 1, with the reason', async () => {
    const cannot: HoldSupport = { kind: 'no', reason: 'on a Docker Swarm each controller\'s nginx sees only its own requests' };
    await zero.evaluate(undefined, cannot, T0);
    await zero.evaluate(undefined, cannot, T0 + 3_600_000);
    expect(store.app('web')?.zero?.asleepSince).toBeUndefined();
    expect(desiredReplicaCount(spec(), store.app('web'))).toBeGreaterThanOrEqual(1);
  });

  it('reports a wake that outlived wakeTimeoutSeconds once, with the reason held requests were given', async () => {
    store.updateApp('web', (s) => (s.zero = { asleepSince: new Date(T0).toISOString() }));
    served = 0;
    await zero.evaluate(snapshot({ web: activity({ wakeRequestedAtMs: T0, held: 1, inFlight: 1, lastArrivalMs: T0 }) }), support, T0);
    store.addEvent({ app: 'web', type: 'Normal', reason: 'Removed', message: 'autoserve-web-x-0: replica exited' });
    for (const at of [T0 + 31_000, T0 + 32_000]) await zero.evaluate(snapshot({ web: activity({ held: 1, inFlight: 1, lastArrivalMs: T0 }) }), support, at);
    const timedOut = store.events({ app: 'web' }).filter((e) => e.reason === 'WakeTimedOut');
    expect(timedOut).toHaveLength(1);
    expect(timedOut[0]!.message).toContain('replica exited');
    expect(channel.published.at(-1)!.states.web).toMatchObject({ kind: 'hold' });
    expect((channel.published.at(-1)!.states.web as { reason: string }).reason).toContain('last: Removed: autoserve-web-x-0: replica exited');
  });

  it('tells held requests of a stopped app to go, and forgets the sleep of an app that no longer scales to zero', async () => {
    store.updateApp('web', (s) => (s.zero = { asleepSince: new Date(T0).toISOString() }));
    apps = [sleepy('web', { state: 'down' })];
    await zero.evaluate(snapshot({}), support, T0);
    expect(channel.published.at(-1)!.states).toEqual({ web: { kind: 'stop', reason: 'the app is stopped (spec.state: down)' } });
    expect(store.app('web')?.zero).toBeUndefined();
    expect(changed).toEqual(['web']);
  });

  it('an app asleep whose manifest turns scale to zero off is woken and keeps holding requests until a replica serves', async () => {
    store.updateApp('web', (s) => (s.zero = { asleepSince: new Date(T0).toISOString() }));
    apps = [sleepy('web', { scaling: { minReplicas: 1, maxReplicas: 5, policy: { connections: { targetPerReplica: 10 } } } })];
    served = 0;
    await zero.evaluate(snapshot({ web: activity({ wakeRequestedAtMs: T0 + 500, held: 2, inFlight: 2, heldTotal: 2 }) }), support, T0 + 1_000);
    expect(store.app('web')?.zero).toEqual({ wakingSince: new Date(T0 + 1_000).toISOString() });
    expect(desiredReplicaCount(spec(), store.app('web'))).toBe(1);
    expect(channel.published.at(-1)!.states.web).toMatchObject({ kind: 'hold' });
    expect(store.events({ app: 'web' }).map((e) => e.reason)).toEqual(['WokenByChange']);
    expect(changed).toEqual(['web']);

    await zero.evaluate(snapshot({ web: activity({ held: 2, inFlight: 2, heldTotal: 2 }) }), support, T0 + 2_000);
    expect(store.app('web')?.zero).toEqual({ wakingSince: new Date(T0 + 1_000).toISOString() }); // still no replica served

    served = 1;
    await zero.evaluate(snapshot({ web: activity({ lastArrivalMs: T0 + 2_500 }) }), support, T0 + 3_000);
    expect(store.app('web')?.zero).toBeUndefined();
    expect(store.app('web')?.conditions.some((c) => c.type === 'ScaledToZero')).toBe(false);
    expect(channel.published.at(-1)!.states.web).toBeUndefined();
    expect(store.events({ app: 'web' }).map((e) => e.reason)).toEqual(['WokenByChange', 'WakeCompleted']);
  });

  it('turned off while asleep, but no replica ever serves: the hold ends at its timeout with the reason, and the app is not held again', async () => {
    store.updateApp('web', (s) => (s.zero = { asleepSince: new Date(T0).toISOString() }));
    apps = [sleepy('web', { scaling: { minReplicas: 1, maxReplicas: 5, wakeTimeoutSeconds: 10, policy: { connections: { targetPerReplica: 10 } } } })];
    served = 0;
    await zero.evaluate(snapshot({}), support, T0 + 1_000);
    expect(channel.published.at(-1)!.states.web).toMatchObject({ kind: 'hold' });
    await zero.evaluate(snapshot({}), support, T0 + 10_999);
    expect(store.app('web')?.zero).toBeDefined();
    await zero.evaluate(snapshot({}), support, T0 + 11_000);
    expect(store.app('web')?.zero).toBeUndefined();
    expect(channel.published.at(-1)!.states.web).toBeUndefined();
    expect(store.events({ app: 'web' }).map((e) => e.reason)).toEqual(['WokenByChange', 'WakeTimedOut']);
    expect(metrics.wakes).toEqual(['web']);
    expect(changed).toEqual(['web', 'web']); // woken, then the hold let go
  });

  for (const [what, over] of [
    ['down', { state: 'down', scaling: { minReplicas: 1, maxReplicas: 5, policy: { connections: { targetPerReplica: 10 } } } }],
    ['manual at replicas 0', { replicas: 0, scaling: undefined }],
  ] as const) {
    it(`turned off while asleep into an app that runs nothing (${what}): not woken, held requests told to go`, async () => {
      store.updateApp('web', (s) => (s.zero = { asleepSince: new Date(T0).toISOString() }));
      apps = [sleepy('web', over)];
      served = 0;
      await zero.evaluate(snapshot({}), support, T0 + 1_000);
      expect(store.app('web')?.zero).toBeUndefined();
      expect(channel.published.at(-1)!.states.web).toMatchObject({ kind: 'stop' });
      expect(store.events({ app: 'web' }).map((e) => e.reason)).toEqual([]);
    });
  }

  it('turned off while asleep where nginx cannot hold (reload mode): the sleep is forgotten, nothing is held', async () => {
    store.updateApp('web', (s) => (s.zero = { asleepSince: new Date(T0).toISOString() }));
    apps = [sleepy('web', { scaling: { minReplicas: 1, maxReplicas: 5, policy: { connections: { targetPerReplica: 10 } } } })];
    served = 0;
    support = { kind: 'no', reason: 'nginx runs without the Lua module' };
    await zero.evaluate(snapshot({}), support, T0 + 1_000);
    expect(store.app('web')?.zero).toBeUndefined();
    expect(store.events({ app: 'web' }).map((e) => e.reason)).toEqual([]);
    expect(changed).toEqual(['web']);
  });

  it('without the Lua balancer: never sleeps, says why, and wakes an app found asleep', async () => {
    support = { kind: 'no', reason: 'nginx runs without the Lua module' };
    await zero.evaluate(undefined, support, T0 + 3_600_000);
    expect(store.app('web')?.zero).toBeUndefined();
    expect(store.app('web')?.conditions.find((c) => c.type === 'ScaleToZeroUnavailable')).toMatchObject({ status: 'True', message: 'nginx runs without the Lua module: minReplicas 0 acts as 1' });
    store.updateApp('web', (s) => (s.zero = { asleepSince: new Date(T0).toISOString() }));
    await zero.evaluate(undefined, support, T0 + 3_700_000);
    expect(desiredReplicaCount(spec(), store.app('web'))).toBeGreaterThan(0);
    expect(store.events({ app: 'web' }).map((e) => e.reason)).toContain('ScaleToZeroUnavailable');
    expect(channel.published).toHaveLength(0);
  });

  it('turns nginx\'s running totals into counter increments, also across an nginx restart', async () => {
    await zero.evaluate(snapshot({ web: activity({ heldTotal: 5, timeouts: 1, lastArrivalMs: T0 }) }), support, T0);
    await zero.evaluate(snapshot({ web: activity({ heldTotal: 8, timeouts: 1, lastArrivalMs: T0 }) }), support, T0 + 1_000);
    await zero.evaluate(snapshot({ web: activity({ heldTotal: 2, timeouts: 0, lastArrivalMs: T0 }) }), support, T0 + 2_000);
    expect(metrics.held).toEqual([['web', 0, 0], ['web', 3, 0], ['web', 2, 0]]);
  });
});

describe('notReadyReason', () => {
  it('says what the status knows: ready count, failing conditions, replicas not ready, the newest trouble', () => {
    const reason = notReadyReason(
      {
        name: 'web', generation: 1, observedGeneration: 1, phase: 'Failed', createdAt: '', updatedAt: '',
        replicas: { desired: 1, ready: 0, updated: 0 },
        conditions: [{ type: 'ImagePullFailed', status: 'True', reason: 'ImagePullFailed', message: 'no such image x:1', lastTransitionTime: '' }],
        instances: [],
      },
      [{ id: 1, time: '', firstTime: '', app: 'web', type: 'Warning', reason: 'ImagePullFailed', message: 'no such image x:1', count: 4 }],
    );
    expect(reason).toBe('0/1 replicas ready; ImagePullFailed: no such image x:1; last: ImagePullFailed: no such image x:1 (4 times)');
    expect(notReadyReason(undefined)).toBe('the controller has not looked at the app yet');
  });
});
