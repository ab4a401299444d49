import { describe, expect, it } from 'vitest';
import { decideReplicas, lastScaleAt, SCALING_LIMITED } from '../../../src/controllers/scaler/decide-replicas.js';
import { MetricWindow } from '../../../src/controllers/scaler/metric-window.js';
import type { MetricWindows, ReplicaSeries, ScalingDecision, ScalingInput } from '../../../src/controllers/scaler/types.js';
import type { ScalingPolicy, ScalingSpec } from '../../../src/manifest/types.js';

const NOW = 3_600_000;
const GiB = 1024 ** 3;

const HTTP = { targetRPSPerReplica: 50, scaleOutThresholdPct: 80, scaleInThresholdPct: 30, windowSeconds: 20 };

function spec(policy: Partial<ScalingPolicy> = {}, bounds: Partial<ScalingSpec> = {}): ScalingSpec {
  return { minReplicas: 1, maxReplicas: 10, ...bounds, policy: { mode: 'auto', cooldownSeconds: 30, http: HTTP, ...policy } };
}

/** One sample a second for the last `seconds`, value from `f(secondsAgo)`. */
function series(f: (secondsAgo: number) => number, seconds = 60, now = NOW): MetricWindow {
  const w = new MetricWindow();
  for (let ago = seconds; ago >= 0; ago--) w.add(now - ago * 1000, f(ago));
  return w;
}
const flat = (v: number, seconds = 60) => series(() => v, seconds);

function replicas(count: number, utilization: number, startedAgoS = 600): ReplicaSeries[] {
  return Array.from({ length: count }, (_, i) => ({ replicaId: `r${i}`, startedAtMs: NOW - startedAgoS * 1000, samples: series(() => utilization, Math.min(60, startedAgoS)) }));
}

function input(over: Partial<ScalingInput> & { windows?: MetricWindows } = {}): ScalingInput {
  return { policy: spec(), windows: {}, current: 4, ready: 4, starting: 0, now: NOW, controllerStartedAtMs: 0, ...over };
}

interface Row {
  name: string;
  input: ScalingInput;
  replicas: number;
  direction: ScalingDecision['direction'];
  heldBy?: ScalingDecision['heldBy'];
  reason?: RegExp;
}

const rows: Row[] = [
  {
    name: 'scale out when rps per replica stays above the threshold for a full window, sized by ceil(current x observed / target)',
    input: input({ windows: { rps: flat(4 * 60) } }), // 60/replica vs target 50, gate 40: ceil(4 x 60 / 50) = 5
    replicas: 5, direction: 'out', reason: /scale out 4 -> 5: rps\/replica 60/,
  },
  {
    name: 'a held gate between 80 % and 100 % of target still adds one replica',
    input: input({ windows: { rps: flat(4 * 45) } }), // 45/replica: ceil(4 x 45 / 50) = 4 = current, so current + 1
    replicas: 5, direction: 'out', reason: /scale out 4 -> 5: rps\/replica 45/,
  },
  {
    name: 'a large overload is sized in one step by the formula',
    input: input({ current: 2, ready: 2, windows: { rps: flat(400) } }), // ceil(2 x 200 / 50) = 8
    replicas: 8, direction: 'out',
  },
  {
    name: 'hold while the window is not full of high samples',
    input: input({ windows: { rps: series((ago) => (ago <= 10 ? 240 : 100)) } }),
    replicas: 4, direction: 'none', heldBy: 'window', reason: /for 10 s of the 20 s window/,
  },
  {
    name: 'hold when data does not reach back a whole window (fresh series)',
    input: input({ windows: { rps: flat(240, 12) } }),
    replicas: 4, direction: 'none', heldBy: 'window',
  },
  {
    name: 'cooldown holds a scale out and says how long is left',
    input: input({ windows: { rps: flat(240) }, lastScaleAtMs: NOW - 10_000 }),
    replicas: 4, direction: 'none', heldBy: 'cooldown', reason: /20 s left/,
  },
  {
    name: 'cooldown holds a scale in',
    input: input({ windows: { rps: flat(20) }, lastScaleAtMs: NOW - 25_000 }),
    replicas: 4, direction: 'none', heldBy: 'cooldown', reason: /5 s left/,
  },
  {
    name: 'cooldown comes from the history when no lastScaleAtMs is given',
    input: input({ windows: { rps: flat(240) }, history: [{ time: new Date(NOW - 5_000).toISOString(), app: 'a', from: 2, to: 4, reason: '', metrics: {} }] }),
    replicas: 4, direction: 'none', heldBy: 'cooldown',
  },
  {
    name: 'at maxReplicas a scale out is held by the clamp',
    input: input({ current: 10, ready: 10, windows: { rps: flat(10 * 80) } }),
    replicas: 10, direction: 'none', heldBy: 'clamp', reason: /at maxReplicas 10/,
  },
  {
    name: 'a scale out past maxReplicas is capped there',
    input: input({ current: 8, ready: 8, windows: { rps: flat(8 * 100) } }),
    replicas: 10, direction: 'out', heldBy: 'clamp',
  },
  {
    name: 'below minReplicas scales out at once, cooldown or not',
    input: input({ policy: spec({}, { minReplicas: 3 }), current: 1, ready: 1, lastScaleAtMs: NOW }),
    replicas: 3, direction: 'out', reason: /below minReplicas/,
  },
  {
    name: 'above maxReplicas scales in at once',
    input: input({ current: 12, ready: 12, lastScaleAtMs: NOW }),
    replicas: 10, direction: 'in',
  },
  {
    name: 'at minReplicas a scale in is held by the clamp',
    input: input({ current: 1, ready: 1, windows: { rps: flat(1) } }),
    replicas: 1, direction: 'none', heldBy: 'clamp',
  },
  {
    name: 'scale in when load stays below the threshold, sized by the formula',
    input: input({ windows: { rps: flat(4 * 10) } }), // 10/replica < 15: ceil(4 x 10 / 50) = 1, guard ceil(40 / 40) = 1
    replicas: 1, direction: 'in', reason: /scale in 4 -> 1/,
  },
  {
    name: 'scale in never goes below the count that would re-cross the scale-out gate (hysteresis guard)',
    input: input({ current: 6, ready: 6, windows: { rps: flat(6 * 14) } }), // formula ceil(84 / 50) = 2; guard ceil(84 / 40) = 3
    replicas: 3, direction: 'in', reason: /scale in 6 -> 3/,
  },
  {
    name: 'scale in is sized from the window\'s highest sample, not a recent dip',
    input: input({ current: 6, ready: 6, windows: { rps: series((ago) => (ago <= 4 ? 12 : 84)) } }), // recent 2/replica, window max 84 total
    replicas: 3, direction: 'in',
  },
  {
    name: 'load within the band holds with no hold reason',
    input: input({ windows: { rps: flat(4 * 30) } }),
    replicas: 4, direction: 'none', heldBy: undefined, reason: /within thresholds/,
  },
  {
    name: 'starting replicas never cause a scale in',
    input: input({ ready: 3, starting: 1, windows: { rps: flat(20) } }),
    replicas: 4, direction: 'none', heldBy: 'starting',
  },
  {
    name: 'a replica missing (not ready, not starting) never causes a scale in',
    input: input({ ready: 3, starting: 0, windows: { rps: flat(20) } }),
    replicas: 4, direction: 'none', heldBy: 'starting',
  },
  {
    name: 'missing data never scales in',
    input: input({ windows: {} }),
    replicas: 4, direction: 'none', heldBy: 'missing-data',
  },
  {
    name: 'stale data (collector stopped) never scales in',
    input: input({ windows: { rps: series(() => 5, 60, NOW - 30_000) } }),
    replicas: 4, direction: 'none', heldBy: 'missing-data',
  },
  {
    name: 'one metric low, another missing: no scale in',
    input: input({ policy: spec({ connections: { targetPerReplica: 10 } }), windows: { rps: flat(10) } }),
    replicas: 4, direction: 'none', heldBy: 'missing-data', reason: /connectionsPerReplica/,
  },
  {
    name: 'several metrics: the largest ask wins',
    input: input({ policy: spec({ connections: { targetPerReplica: 10 } }), windows: { rps: flat(240), concurrency: flat(64) } }), // rps asks 5, connections ceil(64 / 10) = 7
    replicas: 7, direction: 'out', reason: /connections\/replica 16/,
  },
  {
    name: 'one metric high and the other missing still scales out',
    input: input({ policy: spec({ connections: { targetPerReplica: 10 } }), windows: { concurrency: flat(64) } }),
    replicas: 7, direction: 'out',
  },
  {
    name: 'a latency breach for the whole window scales out in proportion to the breach',
    input: input({ policy: spec({ http: { ...HTTP, maxP95LatencyMs: 200 } }), windows: { rps: flat(120), p95LatencyMs: flat(300) } }),
    replicas: 6, direction: 'out', reason: /p95 300 ms \(max 200\)/,
  },
  {
    name: 'a huge latency breach at most doubles',
    input: input({ policy: spec({ http: { ...HTTP, maxP95LatencyMs: 200 } }), windows: { rps: flat(120), p95LatencyMs: flat(5000) } }),
    replicas: 8, direction: 'out',
  },
  {
    name: 'a latency breach waits for starting replicas',
    input: input({ ready: 3, starting: 1, policy: spec({ http: { ...HTTP, maxP95LatencyMs: 200 } }), windows: { rps: flat(120), p95LatencyMs: flat(300) } }),
    replicas: 4, direction: 'none', heldBy: 'starting',
  },
  {
    name: 'a latency window that started before the last change does not scale out',
    input: input({ lastScaleAtMs: NOW - 31_000, policy: spec({ cooldownSeconds: 30, http: { ...HTTP, windowSeconds: 40, maxP95LatencyMs: 200 } }), windows: { rps: flat(120), p95LatencyMs: flat(300) } }),
    replicas: 4, direction: 'none', heldBy: 'window', reason: /after the last change/,
  },
  {
    name: 'latency near the limit vetoes a scale in on low rps',
    input: input({ policy: spec({ http: { ...HTTP, maxP95LatencyMs: 200 } }), windows: { rps: flat(20), p95LatencyMs: flat(190) } }),
    replicas: 4, direction: 'none', reason: /too close to the limit/,
  },
  {
    name: 'latency as the only metric scales in one replica at a time',
    input: input({ policy: spec({ http: { maxP95LatencyMs: 200, scaleOutThresholdPct: 80, scaleInThresholdPct: 30, windowSeconds: 20 } }), windows: { p95LatencyMs: flat(20) } }),
    replicas: 3, direction: 'in',
  },
  {
    name: 'memory guard forces a scale out',
    input: input({ policy: spec({ memory: { targetUtilizationPct: 70 } }), windows: { rps: flat(120), memory: replicas(4, 0.9) } }), // ceil(4 x 90 / 70) = 6
    replicas: 6, direction: 'out', reason: /memory % 90/,
  },
  {
    name: 'memory guard cannot hold replicas up once load is low',
    input: input({ policy: spec({ memory: { targetUtilizationPct: 70 } }), windows: { rps: flat(20), memory: replicas(4, 0.5) } }),
    replicas: 1, direction: 'in',
  },
  {
    name: 'memory as the only metric never scales in',
    input: input({ policy: spec({ http: undefined, memory: { targetUtilizationPct: 70 } }), windows: { memory: replicas(4, 0.05) } }),
    replicas: 4, direction: 'none', reason: /guard metric/,
  },
  {
    name: 'cpu: high utilization scales out',
    input: input({ policy: spec({ http: undefined, cpu: { targetUtilizationPct: 60 } }), windows: { cpu: replicas(4, 0.9) } }),
    replicas: 6, direction: 'out', // ceil(4 x 90 / 60) = 6
  },
  {
    name: 'cpu of replicas in warm-up is ignored: hot new replicas do not scale out',
    input: input({ policy: spec({ http: undefined, cpu: { targetUtilizationPct: 60 } }), windows: { cpu: [...replicas(2, 0.3), ...replicas(2, 1.0, 20)] } }),
    replicas: 4, direction: 'none',
  },
  {
    name: 'cpu: a replica in warm-up blocks a scale in',
    input: input({ policy: spec({ http: undefined, cpu: { targetUtilizationPct: 60 } }), windows: { cpu: [...replicas(3, 0.05), ...replicas(1, 0.05, 20)] } }),
    replicas: 4, direction: 'none', heldBy: 'warmup',
  },
  {
    name: 'cpu: all replicas warm and idle scales in',
    input: input({ policy: spec({ http: undefined, cpu: { targetUtilizationPct: 60 } }), windows: { cpu: replicas(4, 0.05) } }),
    replicas: 1, direction: 'in',
  },
  {
    name: 'host capacity: no room at all holds the count with ScalingLimited naming memory',
    input: input({
      windows: { rps: flat(240) },
      hostCapacity: { cpuCores: 8, memoryBytes: 8 * GiB, perReplica: { cpu: 0.5, memoryBytes: 1 * GiB }, otherAppsReserved: { cpu: 1, memoryBytes: 4 * GiB } },
    }),
    replicas: 4, direction: 'none', heldBy: 'host-capacity', reason: new RegExp(`^${SCALING_LIMITED}: host memory holds 4`),
  },
  {
    name: 'host capacity: a scale out is cut to what the CPU holds',
    input: input({
      windows: { rps: flat(4 * 100) },
      hostCapacity: { cpuCores: 4, memoryBytes: 64 * GiB, perReplica: { cpu: 0.5, memoryBytes: 1 * GiB }, otherAppsReserved: { cpu: 1, memoryBytes: 0 } },
    }),
    replicas: 6, direction: 'out', heldBy: 'host-capacity', reason: /ScalingLimited: host cpu holds 6/,
  },
  {
    name: 'restart guard: no scale in until a full window after the controller started',
    input: input({ controllerStartedAtMs: NOW - 10_000, windows: { rps: flat(20) } }),
    replicas: 4, direction: 'none', heldBy: 'window', reason: /controller started 10 s ago/,
  },
  {
    name: 'restart guard does not stop a scale out',
    input: input({ controllerStartedAtMs: NOW - 10_000, windows: { rps: flat(240) } }),
    replicas: 5, direction: 'out',
  },
  {
    name: 'manual mode holds spec.replicas',
    input: input({ policy: spec({ mode: 'manual' }), specReplicas: 3, current: 5, windows: { rps: flat(1000) } }),
    replicas: 3, direction: 'in', reason: /^manual/,
  },
  {
    name: 'no metric configured holds',
    input: input({ policy: spec({ http: undefined }) }),
    replicas: 4, direction: 'none', reason: /no scaling metric/,
  },
];

describe('decideReplicas', () => {
  it.each(rows)('$name', (row) => {
    const d = decideReplicas(row.input);
    expect({ replicas: d.replicas, direction: d.direction, heldBy: d.heldBy }).toEqual({ replicas: row.replicas, direction: row.direction, heldBy: row.heldBy });
    if (row.reason) expect(d.reason).toMatch(row.reason);
    if (row.input.policy.policy.mode === 'auto') {
      expect(d.replicas).toBeGreaterThanOrEqual(row.input.policy.minReplicas);
      expect(d.replicas).toBeLessThanOrEqual(row.input.policy.maxReplicas);
    }
  });

  it('reports each configured metric with its target and the plain recommendation', () => {
    const d = decideReplicas(input({ policy: spec({ connections: { targetPerReplica: 10 } }), windows: { rps: flat(240) } }));
    expect(d.metrics).toEqual({ rpsPerReplica: { value: 60, target: 50 }, connectionsPerReplica: { value: null, target: 10 } });
    expect(d.recommendation).toBe(5); // ceil(4 x 60 / 50)
  });

  it('lastScaleAt takes the newest history record', () => {
    const rec = (ms: number) => ({ time: new Date(ms).toISOString(), app: 'a', from: 1, to: 2, reason: '', metrics: {} });
    expect(lastScaleAt({ history: [rec(5000), rec(9000), rec(7000)] })).toBe(9000);
    expect(lastScaleAt({ lastScaleAtMs: 1, history: [rec(9000)] })).toBe(1);
    expect(lastScaleAt({})).toBeUndefined();
  });
});

describe('decideReplicas over a long run', () => {
  /** Drives the decision every 2 s with instantly-ready replicas; returns the replica counts chosen. */
  function run(load: (s: number) => number, seconds: number, start: number, policy = spec({}, { maxReplicas: 20 })) {
    const rps = new MetricWindow(600);
    let current = start;
    let lastScaleAtMs: number | undefined;
    const directions: string[] = [];
    for (let s = 0; s < seconds; s++) {
      const now = s * 1000;
      rps.add(now, load(s));
      if (s % 2 !== 0) continue;
      const d = decideReplicas({ policy, windows: { rps }, current, ready: current, starting: 0, now, controllerStartedAtMs: 0, ...(lastScaleAtMs !== undefined ? { lastScaleAtMs } : {}) });
      if (d.replicas !== current) {
        directions.push(d.direction);
        current = d.replicas;
        lastScaleAtMs = now;
      }
    }
    const reversals = directions.filter((d, i) => i > 0 && d !== directions[i - 1]).length;
    return { current, directions, reversals };
  }

  it('load oscillating around the scale-out threshold does not flap over two hours', () => {
    // 4 replicas x 40 rps (the 80 % line) +-15 %, a 14 s period, plus deterministic jitter.
    const result = run((s) => 160 * (1 + 0.15 * Math.sin((2 * Math.PI * s) / 14)) + ((s * 7919) % 11) - 5, 7200, 4);
    expect(result.reversals).toBe(0);
    expect(result.directions.length).toBeLessThanOrEqual(2);
  });

  it('load oscillating around the scale-in threshold does not flap either', () => {
    const result = run((s) => 4 * 15 * (1 + 0.3 * Math.sin((2 * Math.PI * s) / 30)), 7200, 4);
    expect(result.reversals).toBe(0);
  });

  it('a slow up-and-down cycle changes direction only at its turning points', () => {
    const result = run((s) => 250 + 200 * Math.sin((2 * Math.PI * s) / 3600), 7200, 4);
    expect(result.reversals).toBeGreaterThanOrEqual(2); // it does follow the load...
    expect(result.reversals).toBeLessThanOrEqual(4); // ...turning only at the two cycles' peaks and troughs
  });
});
