// Scale to zero's decisions: table rows named as behaviours, then properties over random inputs.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decideZero, wakeReplicas, type ZeroInput } from '../../../src/controllers/scaler/decide-zero.js';
import type { AppActivity } from '../../../src/core/activity.js';
import { applyDefaults } from '../../../src/manifest/defaults.js';
import type { AppSpec } from '../../../src/manifest/types.js';

const NOW = 1_700_000_000_000;
const IDLE_S = 60;
const RUNS = { numRuns: Number(process.env.FC_RUNS ?? 300) };

const activity = (over: Partial<AppActivity> = {}): AppActivity => ({ inFlight: 0, held: 0, heldTotal: 0, timeouts: 0, ...over });
const input = (over: Partial<ZeroInput> = {}): ZeroInput => ({
  settings: { idleSeconds: IDLE_S, wakeTimeoutSeconds: 30, startingPage: false },
  asleep: false,
  activity: activity({ lastArrivalMs: NOW - 61_000 }),
  awakeSinceMs: NOW - 3_600_000,
  rollingOut: false,
  draining: false,
  canHold: 'yes',
  now: NOW,
  ...over,
});

describe('decideZero', () => {
  const rows: { name: string; over: Partial<ZeroInput>; kind: 'sleep' | 'wake' | 'stay'; heldBy?: string }[] = [
    { name: 'idle for idleSeconds: sleeps', over: {}, kind: 'sleep' },
    { name: 'idle exactly idleSeconds: sleeps', over: { activity: activity({ lastArrivalMs: NOW - IDLE_S * 1000 }) }, kind: 'sleep' },
    { name: 'a request idleSeconds - 1 ago: stays', over: { activity: activity({ lastArrivalMs: NOW - (IDLE_S - 1) * 1000 }) }, kind: 'stay', heldBy: 'activity' },
    { name: 'no request since nginx started, awake long enough: sleeps', over: { activity: activity() }, kind: 'sleep' },
    { name: 'just woken (or the controller just started): stays a whole idleSeconds', over: { awakeSinceMs: NOW - 10_000 }, kind: 'stay', heldBy: 'activity' },
    { name: 'a long request still in flight: stays', over: { activity: activity({ lastArrivalMs: NOW - 600_000, inFlight: 1 }) }, kind: 'stay', heldBy: 'in-flight' },
    { name: 'a request held (it never completes while held): stays', over: { activity: activity({ lastArrivalMs: NOW - 600_000, held: 1, inFlight: 1 }) }, kind: 'stay', heldBy: 'held' },
    { name: 'during a rollout: stays', over: { rollingOut: true }, kind: 'stay', heldBy: 'rollout' },
    { name: 'during a drain: stays', over: { draining: true }, kind: 'stay', heldBy: 'drain' },
    { name: 'no reading of nginx: stays (never on missing data)', over: { activity: undefined }, kind: 'stay', heldBy: 'no-data' },
    { name: 'load balancer cannot hold (reload mode): stays, minReplicas 0 acts as 1', over: { canHold: 'no' }, kind: 'stay', heldBy: 'cannot-hold' },
    { name: 'load balancer not started yet: stays', over: { canHold: 'unknown' }, kind: 'stay', heldBy: 'cannot-hold' },
    { name: 'asleep, nobody asks: stays asleep', over: { asleep: true, activity: activity() }, kind: 'stay' },
    { name: 'asleep, a request asked for a wake: wakes', over: { asleep: true, activity: activity({ wakeRequestedAtMs: NOW - 20, held: 1, inFlight: 1 }) }, kind: 'wake' },
    { name: 'asleep, a held request whose wake was cleared: wakes', over: { asleep: true, activity: activity({ held: 2, inFlight: 2 }) }, kind: 'wake' },
    { name: 'asleep, a wake asked while the controller was away: wakes', over: { asleep: true, activity: activity({ wakeRequestedAtMs: NOW - 300_000 }) }, kind: 'wake' },
    { name: 'asleep, nginx unreadable: stays asleep', over: { asleep: true, activity: undefined }, kind: 'stay' },
    { name: 'asleep, and the load balancer can no longer hold: wakes', over: { asleep: true, canHold: 'no', activity: undefined }, kind: 'wake' },
  ];
  for (const row of rows) {
    it(row.name, () => {
      const d = decideZero(input(row.over));
      expect(d.kind).toBe(row.kind);
      if (row.heldBy) expect(d).toMatchObject({ heldBy: row.heldBy });
    });
  }

  it('says how long the app was idle and who woke it', () => {
    expect(decideZero(input({ activity: activity({ lastArrivalMs: NOW - 90_500 }) }))).toMatchObject({ kind: 'sleep', idleForMs: 90_500, reason: 'scaled to zero after 90.5 s idle' });
    expect(decideZero(input({ asleep: true, activity: activity({ wakeRequestedAtMs: NOW - 5, held: 3 }) }))).toMatchObject({
      kind: 'wake', cause: 'request', requestedAtMs: NOW - 5, reason: 'woken by a request (3 held)',
    });
  });
});

describe('decideZero properties', () => {
  // Mostly quiet and able to sleep, so the rules that stop a sleep are each tried alone often.
  const few = fc.oneof({ arbitrary: fc.constant(0), weight: 4 }, { arbitrary: fc.integer({ min: 1, max: 5 }), weight: 1 });
  const rarely = fc.oneof({ arbitrary: fc.constant(false), weight: 3 }, { arbitrary: fc.constant(true), weight: 1 });
  const activityArb = fc.record({
    lastArrivalMs: fc.option(fc.integer({ min: NOW - 3_600_000, max: NOW }), { nil: undefined }),
    inFlight: few,
    held: few,
    wakeRequestedAtMs: fc.option(fc.integer({ min: NOW - 3_600_000, max: NOW }), { nil: undefined }),
    heldTotal: fc.nat(),
    timeouts: fc.nat(),
  }).map((a) => ({ ...a, inFlight: Math.max(a.inFlight, a.held) }) as AppActivity);
  const inputArb = fc.record({
    settings: fc.record({ idleSeconds: fc.integer({ min: 2, max: 3600 }), wakeTimeoutSeconds: fc.integer({ min: 1, max: 300 }), startingPage: fc.boolean() }),
    asleep: fc.boolean(),
    activity: fc.option(activityArb, { nil: undefined }),
    awakeSinceMs: fc.integer({ min: NOW - 7_200_000, max: NOW }),
    rollingOut: rarely,
    draining: rarely,
    canHold: fc.oneof({ arbitrary: fc.constant('yes' as const), weight: 4 }, { arbitrary: fc.constantFrom('no' as const, 'unknown' as const), weight: 1 }),
    now: fc.constant(NOW),
  });

  it('never puts an app to sleep while requests are held or in flight, during a rollout or a drain, without data, or within idleSeconds of activity', () => {
    fc.assert(
      fc.property(inputArb, (i) => {
        if (decideZero(i).kind !== 'sleep') return;
        expect(i.asleep).toBe(false);
        expect(i.canHold).toBe('yes');
        expect(i.activity).toBeDefined();
        expect(i.activity!.held).toBe(0);
        expect(i.activity!.inFlight).toBe(0);
        expect(i.rollingOut || i.draining).toBe(false);
        expect(i.now - Math.max(i.activity!.lastArrivalMs ?? -Infinity, i.awakeSinceMs)).toBeGreaterThanOrEqual(i.settings.idleSeconds * 1000);
      }),
      RUNS,
    );
  });

  it('always wakes a sleeping app that a request asked for, and never wakes one nobody asked for while requests can be held', () => {
    fc.assert(
      fc.property(inputArb, (i) => {
        const d = decideZero({ ...i, asleep: true });
        const asked = i.activity?.wakeRequestedAtMs !== undefined || (i.activity?.held ?? 0) > 0;
        if (i.canHold === 'no') expect(d.kind).toBe('wake');
        else expect(d.kind).toBe(asked ? 'wake' : 'stay');
        expect(decideZero({ ...i, asleep: false }).kind).not.toBe('wake');
      }),
      RUNS,
    );
  });

  it('a request every idleSeconds - 1 keeps an app up: it never sleeps between such arrivals', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 600 }),
        fc.array(fc.integer({ min: 0, max: 1_000 }), { minLength: 1, maxLength: 20 }),
        fc.integer({ min: 0, max: 999 }),
        (idleSeconds, earlier, lookOffsetMs) => {
          // Arrivals at most idleSeconds - 1 apart; the look happens before the next one is due.
          const gapMs = (idleSeconds - 1) * 1000;
          let t = NOW - 3_600_000;
          const arrivals = earlier.map((jitter) => (t += Math.max(1, gapMs - jitter)));
          const last = arrivals[arrivals.length - 1]!;
          const lookAt = last + Math.min(gapMs, lookOffsetMs * idleSeconds);
          const d = decideZero(input({ settings: { idleSeconds, wakeTimeoutSeconds: 30, startingPage: false }, activity: activity({ lastArrivalMs: last }), now: lookAt, awakeSinceMs: arrivals[0]! }));
          expect(d.kind).toBe('stay');
        },
      ),
      RUNS,
    );
  });
});

describe('wakeReplicas', () => {
  const spec = (scaling: Record<string, unknown> | undefined, replicas = 2): AppSpec =>
    applyDefaults({
      apiVersion: 'v1', kind: 'App', metadata: { name: 'a' },
      spec: { type: 'http', image: 'x:1', ports: [{ containerPort: 80 }], replicas, ...(scaling ? { scaling } : {}) },
    }).spec;

  it('manual mode wakes to spec.replicas', () => {
    expect(wakeReplicas(spec({ minReplicas: 0, policy: { mode: 'manual' } }, 3), 50)).toBe(3);
  });

  it('auto mode starts what the held requests need at the per-replica target, at least 1, at most maxReplicas', () => {
    const conn = spec({ minReplicas: 0, maxReplicas: 4, policy: { connections: { targetPerReplica: 10 } } });
    expect(wakeReplicas(conn, 0)).toBe(1);
    expect(wakeReplicas(conn, 1)).toBe(1);
    expect(wakeReplicas(conn, 25)).toBe(3);
    expect(wakeReplicas(conn, 1000)).toBe(4);
    expect(wakeReplicas(spec({ minReplicas: 0, policy: { http: { targetRPSPerReplica: 50 } } }), 120)).toBe(3);
    expect(wakeReplicas(spec({ minReplicas: 0, policy: { cpu: { targetUtilizationPct: 70 } } }), 120)).toBe(1);
  });

  it('stays within [1, maxReplicas] for any held count', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 100 }), fc.integer({ min: 1, max: 1000 }), fc.nat(100_000), (max, target, held) => {
        const n = wakeReplicas(spec({ minReplicas: 0, maxReplicas: max, policy: { connections: { targetPerReplica: target } } }), held);
        expect(n).toBeGreaterThanOrEqual(1);
        expect(n).toBeLessThanOrEqual(max);
      }),
      RUNS,
    );
  });
});
