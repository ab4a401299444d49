import { describe, expect, it } from 'vitest';
import { decideReplicas, lastScaleAt, SCALING_LIMITED } from '../../../src/controllers/scaler/decide-replicas.js';
import { MetricWindow } from '../../../src/controllers/scaler/metric-window.js';
import type { MetricWindows, ReplicaSeries, ScalingDecision, ScalingInput } from '../../../src/controllers/scaler/types.js';
import type { ScalingPolicy, ScalingSpec } from '../../../src/manifest/types.js';

const NOW = 3_600_000;
const GiB = 1024 ** 3;

// The seed's defaults: target 50 rps, scale-out line 80 %, window 20 s, cooldown 30 s; a replica is
// sized at up to 110 % of target (55 rps), so ceil(load / 55) replicas.
const HTTP = { targetRPSPerReplica: 50, scaleOutThresholdPct: 80, scaleInThresholdPct: 30, windowSeconds: 20 };
const LAT = { ...HTTP, maxP95LatencyMs: 200 };

function spec(policy: Partial<ScalingPolicy> = {}, bounds: Partial<ScalingSpec> = {}): ScalingSpec {
  return { minReplicas: 1, maxReplicas: 10, ...bounds, policy: { mode: 'auto', cooldownSeconds: 30, http: HTTP, ...policy } };
}

/** One sample a second for the last `seconds`, value from `f(secondsAgo)`. */
function series(f: (secondsAgo: number) => number, seconds = 400, now = NOW): MetricWindow {
  const w = new MetricWindow();
  for (let ago = seconds; ago >= 0; ago--) w.add(now - ago * 1000, f(ago));
  return w;
}
const flat = (v: number, seconds = 400) => series(() => v, seconds);

function replicas(count: number, utilization: number, startedAgoS = 600): ReplicaSeries[] {
  return Array.from({ length: count }, (_, i) => ({ replicaId: `r${i}`, startedAtMs: NOW - startedAgoS * 1000, samples: series(() => utilization, Math.min(400, startedAgoS)) }));
}

/**
 * 200 rps throughout. From 130 s to 100 s ago 4 replicas breach the objective at a steady queue (p95
 * 600 ms, 120 in flight); 8 are ready from 95 s ago and requests take 80 ms (16 in flight, p95 85 ms);
 * from 30 s ago they take `latestMs`.
 */
function slowedRequests(latestMs: number): MetricWindows {
  return {
    rps: flat(200),
    p95LatencyMs: series((ago) => (ago > 130 ? 50 : ago >= 100 ? 600 : ago > 30 ? 85 : latestMs + 5)),
    concurrency: series((ago) => (ago > 130 ? 10 : ago > 95 ? 120 : ago > 30 ? 16 : (200 * latestMs) / 1000)),
    readyReplicas: series((ago) => (ago > 95 ? 4 : 8)),
  };
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
  // ---- scale out over the window ----
  {
    name: 'scale out when rps per replica stays above the 80 % line for a full window, to ceil(load / (target x 1.1))',
    input: input({ windows: { rps: flat(4 * 66) } }), // 264 rps: ceil(264 / 55) = 5
    replicas: 5, direction: 'out', reason: /^scale out 4 -> 5: rps\/replica 66 \(target 50\) above 80% of target for 20 s/,
  },
  {
    name: 'above the 80 % line but within the tolerance of target: hold (no replica for noise)',
    input: input({ windows: { rps: flat(4 * 54) } }), // ceil(216 / 55) = 4
    replicas: 4, direction: 'none', heldBy: undefined, reason: /within target/,
  },
  {
    name: 'a large overload below the panic threshold is sized in one step',
    input: input({ windows: { rps: flat(4 * 80) } }), // ceil(320 / 55) = 6; 320 at target asks 7 < 8: no panic
    replicas: 6, direction: 'out', reason: /^scale out 4 -> 6/,
  },
  {
    name: 'a window of a few seconds opens its gate on late request samples (the access log runs 2-4 s behind)',
    input: input({
      policy: spec({ http: { ...HTTP, targetRPSPerReplica: 10, windowSeconds: 3 } }), current: 2, ready: 2,
      windows: { rps: series(() => 30, 400, NOW - 3_500) }, // 15 per replica, the newest sample 3.5 s old
    }),
    replicas: 3, direction: 'out', reason: /^scale out 2 -> 3: rps\/replica 15 \(target 10\) above 80% of target for 3 s/,
  },
  {
    name: 'hold while the window is not full of high samples',
    input: input({ windows: { rps: series((ago) => (ago <= 10 ? 264 : 100)) } }),
    replicas: 4, direction: 'none', heldBy: 'window', reason: /for 10 s of the 20 s window/,
  },
  {
    name: 'hold when data does not reach back a whole window (fresh series)',
    input: input({ windows: { rps: flat(264, 12) } }),
    replicas: 4, direction: 'none', heldBy: 'window',
  },
  {
    name: 'cooldown holds a scale out and says how long is left',
    input: input({ windows: { rps: flat(264) }, lastScaleAtMs: NOW - 10_000 }),
    replicas: 4, direction: 'none', heldBy: 'cooldown', reason: /20 s left/,
  },
  {
    name: 'cooldown comes from the history when no lastScaleAtMs is given',
    input: input({ windows: { rps: flat(264) }, history: [{ time: new Date(NOW - 5_000).toISOString(), app: 'a', from: 2, to: 4, reason: '', metrics: {} }] }),
    replicas: 4, direction: 'none', heldBy: 'cooldown',
  },
  {
    name: 'at maxReplicas a scale out is held by the clamp',
    input: input({ current: 10, ready: 10, windows: { rps: flat(10 * 70) } }),
    replicas: 10, direction: 'none', heldBy: 'clamp', reason: /at maxReplicas 10/,
  },
  {
    name: 'a scale out past maxReplicas is capped there',
    input: input({ current: 8, ready: 8, windows: { rps: flat(8 * 80) } }),
    replicas: 10, direction: 'out', heldBy: 'clamp', reason: /capped by maxReplicas 10/,
  },
  // ---- panic ----
  {
    name: 'panic: the 6 s mean asks for >= 200 % of the ready replicas -> scale out at once, before the window fills',
    input: input({ current: 2, ready: 2, windows: { rps: series((ago) => (ago <= 6 ? 400 : 100)) } }), // ceil(400 / 55) = 8
    replicas: 8, direction: 'out', reason: /^panic: scale out 2 -> 8: rps\/replica 200 \(target 50\) over the last 6 s asks for 8, at least 200% of 2 ready/,
  },
  {
    name: 'panic does not wait for the cooldown',
    input: input({ current: 2, ready: 2, lastScaleAtMs: NOW - 4_000, windows: { rps: series((ago) => (ago <= 6 ? 400 : 100)) } }),
    replicas: 8, direction: 'out', reason: /^panic/,
  },
  {
    name: 'panic counts ready replicas: starting ones do not calm it, but what they add is not asked for twice',
    input: input({ current: 8, ready: 2, starting: 6, windows: { rps: series((ago) => (ago <= 6 ? 400 : 100)) } }),
    replicas: 8, direction: 'none', heldBy: 'starting', reason: /8 already asked for, 6 starting/,
  },
  {
    name: 'panic keeps adding while the surge grows and replicas start',
    input: input({ policy: spec({}, { maxReplicas: 20 }), current: 8, ready: 2, starting: 6, windows: { rps: series((ago) => (ago <= 6 ? 800 : 100)) } }), // ceil(800 / 55) = 15
    replicas: 15, direction: 'out', reason: /^panic/,
  },
  {
    name: 'a panic whose count already runs (Knative\'s rounding at one replica) lets the latency rule speak',
    input: input({ policy: spec({ http: { ...LAT, targetRPSPerReplica: 20 } }), current: 1, ready: 1, windows: { rps: flat(21), concurrency: flat(21 * 0.3), p95LatencyMs: flat(320), readyReplicas: flat(1) } }),
    replicas: 2, direction: 'out', reason: /^scale out 1 -> 2: p95 320 ms/,
  },
  {
    name: 'panic reads the newest sample: a step shows whole in it while the 6 s mean still dilutes it',
    input: input({ current: 2, ready: 2, windows: { rps: series((ago) => (ago === 0 ? 400 : 100)) } }), // mean 150 asks 3 < 4; newest 400 asks 8
    replicas: 8, direction: 'out', reason: /^panic: scale out 2 -> 8/,
  },
  {
    name: 'a lucky second of a steady Poisson rate is no panic: 23 requests in one second where 14 arrive on average',
    input: input({ policy: spec({ http: { ...HTTP, targetRPSPerReplica: 20 } }), current: 1, ready: 1, windows: { rps: series((ago) => (ago === 0 ? 23 : 14)) } }),
    replicas: 1, direction: 'none', heldBy: 'clamp', // at minReplicas: nothing else moves
  },
  {
    name: 'a real step of a small rate panics in its first second (14 -> 56 at a target of 20)',
    input: input({ policy: spec({ http: { ...HTTP, targetRPSPerReplica: 20 } }), current: 1, ready: 1, windows: { rps: series((ago) => (ago === 0 ? 56 : 14)) } }),
    replicas: 3, direction: 'out', reason: /^panic: scale out 1 -> 3/,
  },
  {
    name: 'panic drains a backlog: requests queued beyond the objective are served within the panic window on top of the arrivals',
    // 200 rps at 4 replicas is the target; 1240 in flight where 200 x 0.2 s = 40 would meet the objective:
    // 1200 queued, drained over 6 s = 200 rps more, 400 at target asks 8 (>= 200 % of 4 ready).
    input: input({ policy: spec({ http: LAT }), windows: { rps: flat(200), concurrency: flat(1240), p95LatencyMs: flat(6000), readyReplicas: flat(4) } }),
    replicas: 8, direction: 'out', reason: /^panic: scale out 4 -> 8: .*1200 requests queued beyond the objective/,
  },
  {
    name: 'a stall that already drained is no backlog: one second of long requests after a pause is no panic',
    // 12 rps at a target of 20 with a 500 ms objective; a ~3 s pause ends and its requests all end in
    // the newest second (100 s of waiting in it). The queue is gone by the time the log shows it.
    input: input({
      policy: spec({ http: { ...HTTP, targetRPSPerReplica: 20, maxP95LatencyMs: 500 } }), current: 1, ready: 1,
      windows: { rps: series((ago) => (ago === 0 ? 16 : 12)), concurrency: series((ago) => (ago === 0 ? 100 : 0.6)), p95LatencyMs: series((ago) => (ago === 0 ? 3000 : 60)), readyReplicas: flat(1) },
    }),
    replicas: 1, direction: 'none', heldBy: 'clamp',
  },
  {
    name: 'the same backlog held for three seconds is one: the panic drains it',
    input: input({
      policy: spec({ http: { ...HTTP, targetRPSPerReplica: 20, maxP95LatencyMs: 500 } }), current: 1, ready: 1,
      windows: { rps: series((ago) => (ago <= 2 ? 16 : 12)), concurrency: series((ago) => (ago <= 2 ? 100 : 0.6)), p95LatencyMs: series((ago) => (ago <= 2 ? 3000 : 60)), readyReplicas: flat(1) },
    }),
    replicas: 2, direction: 'out', reason: /^panic: scale out 1 -> 2: .*requests queued beyond the objective/,
  },
  {
    name: 'a backlog of the objective\'s size is no panic',
    input: input({ policy: spec({ http: LAT }), windows: { rps: flat(200), concurrency: flat(40), p95LatencyMs: flat(150), readyReplicas: flat(4) } }),
    replicas: 4, direction: 'none',
  },
  {
    name: 'just under the panic threshold: no fast path, the window rules',
    input: input({ current: 4, ready: 4, windows: { rps: series((ago) => (ago <= 6 ? 350 : 100)) } }), // ceil(350 / 50) = 7 < 8
    replicas: 4, direction: 'none', heldBy: 'window',
  },
  // ---- saturation ----
  {
    name: 'every replica failing its checks while requests arrive: panic, double (a busy app is not left to its replacements)',
    input: input({ policy: spec({ http: undefined, cpu: { targetUtilizationPct: 50 } }), current: 1, ready: 0, starting: 0, notReady: 1, windows: { rps: flat(30) } }),
    replicas: 2, direction: 'out', reason: /^panic: scale out 1 -> 2: 1 replica\(s\) failing their checks and none ready while 30 requests\/s arrive/,
  },
  {
    name: 'saturation waits for replicas already starting',
    input: input({ policy: spec({ http: undefined, cpu: { targetUtilizationPct: 50 } }), current: 2, ready: 0, starting: 1, notReady: 1, windows: { rps: flat(30) } }),
    replicas: 2, direction: 'none', heldBy: 'missing-data', // no cpu samples: nothing else to go on
  },
  {
    name: 'replicas failing without traffic are no saturation (liveness handles a broken app)',
    input: input({ policy: spec({ http: undefined, cpu: { targetUtilizationPct: 50 } }), current: 1, ready: 0, starting: 0, notReady: 1, windows: { rps: flat(0) } }),
    replicas: 1, direction: 'none', heldBy: 'clamp',
  },
  // ---- scale in: stabilization ----
  {
    name: 'scale in to the highest recommendation over the 60 s stabilization window',
    input: input({ current: 6, ready: 6, windows: { rps: series((ago) => (ago <= 70 ? 100 : 330)) } }), // ceil(100 / 55) = 2
    replicas: 2, direction: 'in', reason: /^scale in 6 -> 2: the highest recommendation over the 60 s window is 2/,
  },
  {
    name: 'no scale in inside the stabilization window after a higher recommendation',
    input: input({ current: 6, ready: 6, windows: { rps: series((ago) => (ago <= 40 ? 20 : 330)) } }),
    replicas: 6, direction: 'none', heldBy: 'stabilization', reason: /highest recommendation over the 60 s window is 6/,
  },
  {
    name: 'load that came back after a dip: the 300 s window (periodic load holds its replicas through dips)',
    input: input({
      current: 6, ready: 6,
      windows: { rps: series((ago) => (ago <= 70 ? 30 : ago <= 150 ? 330 : ago <= 240 ? 30 : 330)) }, // high, 90 s dip, high, now 70 s low
    }),
    replicas: 6, direction: 'none', heldBy: 'stabilization', reason: /300 s window \(the load came back after a dip/,
  },
  {
    name: 'the recurring window covers the longest dip the load came back from',
    input: input({
      current: 6, ready: 6,
      windows: { rps: series((ago) => (ago <= 330 ? 30 : ago <= 400 ? 330 : ago <= 760 ? 30 : 330), 1100) }, // a 360 s dip came back; now 330 s low
    }),
    replicas: 6, direction: 'none', heldBy: 'stabilization', reason: /4\d\d s window/,
  },
  {
    name: 'cooldown holds a scale in',
    input: input({ current: 6, ready: 6, windows: { rps: series((ago) => (ago <= 70 ? 100 : 330)) }, lastScaleAtMs: NOW - 25_000 }),
    replicas: 6, direction: 'none', heldBy: 'cooldown', reason: /5 s left/,
  },
  {
    name: 'at minReplicas a scale in is held by the clamp',
    input: input({ current: 1, ready: 1, windows: { rps: flat(1) } }),
    replicas: 1, direction: 'none', heldBy: 'clamp',
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
    input: input({ windows: { rps: series(() => 5, 400, NOW - 30_000) } }),
    replicas: 4, direction: 'none', heldBy: 'missing-data',
  },
  {
    name: 'data that does not cover the stabilization window never scales in',
    input: input({ windows: { rps: flat(5, 30) } }),
    replicas: 4, direction: 'none', heldBy: 'missing-data', reason: /do not cover the last 60 s/,
  },
  {
    name: 'one metric low, another missing: no scale in',
    input: input({ policy: spec({ connections: { targetPerReplica: 10 } }), windows: { rps: flat(10) } }),
    replicas: 4, direction: 'none', heldBy: 'missing-data', reason: /connectionsPerReplica/,
  },
  {
    name: 'restart guard: no scale in until the controller has a stabilization window of fresh data',
    input: input({ controllerStartedAtMs: NOW - 10_000, windows: { rps: flat(20) } }),
    replicas: 4, direction: 'none', heldBy: 'window', reason: /controller started 10 s ago/,
  },
  {
    name: 'restart guard does not stop a scale out',
    input: input({ controllerStartedAtMs: NOW - 10_000, windows: { rps: flat(264) } }),
    replicas: 5, direction: 'out',
  },
  // ---- several metrics ----
  {
    name: 'several metrics: the largest ask wins',
    input: input({ policy: spec({ connections: { targetPerReplica: 10 } }), windows: { rps: flat(264), concurrency: flat(64) } }), // rps 5, connections ceil(64 / 11) = 6
    replicas: 6, direction: 'out', reason: /connections\/replica 16/,
  },
  {
    name: 'one metric high and the other missing still scales out',
    input: input({ policy: spec({ connections: { targetPerReplica: 10 } }), windows: { concurrency: flat(64) } }),
    replicas: 6, direction: 'out',
  },
  // ---- latency: Little's law ----
  {
    name: 'latency over the objective for the window at a steady rate: Little\'s law sizes it in one step (n x mean latency / objective)',
    input: input({ policy: spec({ http: LAT }), windows: { rps: flat(120), concurrency: flat(120 * 0.3), p95LatencyMs: flat(320), readyReplicas: flat(4) } }), // 4 x 300 / 200 = 6
    replicas: 6, direction: 'out', reason: /^scale out 4 -> 6: p95 320 ms \(max 200\) above the limit/,
  },
  {
    name: 'a latency step at most doubles',
    input: input({ policy: spec({ http: LAT }), windows: { rps: flat(120), concurrency: flat(120 * 5), p95LatencyMs: flat(6000), readyReplicas: flat(4) } }),
    replicas: 8, direction: 'out', reason: /^scale out 4 -> 8/,
  },
  {
    name: 'latency waits for starting replicas',
    input: input({ ready: 3, starting: 1, policy: spec({ http: LAT }), windows: { rps: flat(120), concurrency: flat(36), p95LatencyMs: flat(320) } }),
    replicas: 4, direction: 'none', heldBy: 'starting',
  },
  {
    name: 'latency measured before the current count was ready does not scale out',
    input: input({ policy: spec({ http: LAT }), windows: { rps: flat(120), concurrency: flat(36), p95LatencyMs: flat(320), readyReplicas: series((ago) => (ago <= 10 ? 4 : 2)) } }),
    replicas: 4, direction: 'none', heldBy: 'window', reason: /not measured at the current count/,
  },
  {
    name: 'a draining queue asks for no more replicas',
    input: input({ policy: spec({ http: LAT }), windows: { rps: flat(120), concurrency: series((ago) => 40 + ago), p95LatencyMs: flat(320), readyReplicas: flat(4) } }),
    replicas: 4, direction: 'none', heldBy: 'window', reason: /the queue drains/,
  },
  {
    name: 'while the rate asks for more, latency does not add its own step',
    input: input({ policy: spec({ http: LAT }), windows: { rps: flat(4 * 70), concurrency: flat(280), p95LatencyMs: flat(4000), readyReplicas: flat(4) } }),
    replicas: 6, direction: 'out', reason: /rps\/replica 70/,
  },
  {
    name: 'latency near the objective holds the count on a low rate',
    input: input({ policy: spec({ http: LAT }), windows: { rps: flat(20), p95LatencyMs: flat(190), readyReplicas: flat(4) } }),
    replicas: 4, direction: 'none', heldBy: 'stabilization',
  },
  {
    name: 'a breach at a settled count with a steady queue is the count\'s own: its step holds the count through the stabilization window',
    input: input({
      current: 6, ready: 6, policy: spec({ http: LAT }),
      windows: { rps: flat(100), concurrency: flat(25), p95LatencyMs: series((ago) => (ago > 30 && ago <= 50 ? 260 : 100)), readyReplicas: flat(6) },
    }),
    replicas: 6, direction: 'none', heldBy: 'stabilization',
  },
  {
    name: 'a surge\'s backlog draining after the scale out holds nothing once the rate is back: the breach was the load\'s, then the queue\'s',
    // 800 rps at 4 replicas from 90 s to 70 s ago, 10 replicas ready since 66 s ago, the backlog drains until 20 s ago.
    input: input({
      current: 10, ready: 10, lastScaleAtMs: NOW - 66_000, policy: spec({ http: LAT }),
      windows: {
        rps: series((ago) => (ago > 70 && ago <= 90 ? 800 : 200)),
        concurrency: series((ago) => (ago > 70 && ago <= 90 ? 40 + (90 - ago) * 50 : ago > 20 && ago <= 70 ? 40 + (ago - 20) * 20 : 40)),
        p95LatencyMs: series((ago) => (ago > 20 && ago <= 90 ? 3000 : 50)),
        readyReplicas: series((ago) => (ago > 66 ? 4 : 10)),
      },
    }),
    replicas: 4, direction: 'in', reason: /^scale in 10 -> 4/,
  },
  {
    name: 'latency memory: a count whose own breach was seen is not returned to while requests are as slow (the floor is one above it)',
    input: input({ current: 8, ready: 8, lastScaleAtMs: NOW - 95_000, policy: spec({ http: LAT }), windows: slowedRequests(80) }),
    replicas: 5, direction: 'in', reason: /^scale in 8 -> 5: .*held at 5: p95 600 ms breached the objective at 4 replica\(s\) 100 s ago and requests are no faster now/,
  },
  {
    name: 'latency memory ends once requests are faster than after the breach',
    input: input({ current: 8, ready: 8, lastScaleAtMs: NOW - 95_000, policy: spec({ http: LAT }), windows: slowedRequests(40) }),
    replicas: 4, direction: 'in', reason: /^scale in 8 -> 4: the highest recommendation over the 60 s window is 4$/,
  },
  {
    name: 'latency as the only metric scales in one replica at a time below the scale-in line',
    input: input({ policy: spec({ http: { maxP95LatencyMs: 200, scaleOutThresholdPct: 80, scaleInThresholdPct: 30, windowSeconds: 20 } }), windows: { p95LatencyMs: flat(20), readyReplicas: flat(4) } }),
    replicas: 3, direction: 'in',
  },
  // ---- cpu and memory ----
  {
    name: 'memory guard forces a scale out',
    input: input({ policy: spec({ memory: { targetUtilizationPct: 70 } }), windows: { rps: flat(120), memory: replicas(4, 0.9) } }), // 360 % / 77 -> 5
    replicas: 5, direction: 'out', reason: /memory % 90/,
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
    input: input({ policy: spec({ http: undefined, cpu: { targetUtilizationPct: 60 } }), windows: { cpu: replicas(4, 0.9) } }), // 360 / 66 -> 6
    replicas: 6, direction: 'out',
  },
  {
    name: 'cpu: saturated replicas at a 50 % target are a panic (200 % of target)',
    input: input({ current: 2, ready: 2, policy: spec({ http: undefined, cpu: { targetUtilizationPct: 50 } }), windows: { cpu: replicas(2, 1.0) } }), // ceil(200 / 50) = 4 >= 2 x 2
    replicas: 4, direction: 'out', reason: /^panic/,
  },
  {
    name: 'cpu of replicas in warm-up is ignored: hot new replicas do not scale out',
    input: input({ policy: spec({ http: undefined, cpu: { targetUtilizationPct: 60 } }), windows: { cpu: [...replicas(2, 0.3), ...replicas(2, 1.0, 20)] } }),
    replicas: 4, direction: 'none', heldBy: 'warmup',
  },
  {
    name: 'cpu: a replica in warm-up blocks a scale in',
    input: input({ policy: spec({ http: undefined, cpu: { targetUtilizationPct: 60 } }), windows: { cpu: [...replicas(3, 0.05), ...replicas(1, 0.05, 20)] } }),
    replicas: 4, direction: 'none', heldBy: 'warmup',
  },
  {
    // A Swarm manager's engine measures only its own tasks (docs/cluster.md, "Metrics").
    name: 'cpu: idle replicas measured, the others on other nodes unmeasured: no scale in on what is missing',
    input: input({ policy: spec({ http: undefined, cpu: { targetUtilizationPct: 60 } }), windows: { cpu: replicas(2, 0.05) } }),
    replicas: 4, direction: 'none', heldBy: 'missing-data',
  },
  {
    name: 'cpu: all replicas warm and idle scales in',
    input: input({ policy: spec({ http: undefined, cpu: { targetUtilizationPct: 60 } }), windows: { cpu: replicas(4, 0.05) } }),
    replicas: 1, direction: 'in',
  },
  // ---- host capacity, bounds, modes ----
  {
    name: 'host capacity: no room at all holds the count with ScalingLimited naming memory',
    input: input({
      windows: { rps: flat(264) },
      hostCapacity: { cpuCores: 8, memoryBytes: 8 * GiB, perReplica: { cpu: 0.5, memoryBytes: 1 * GiB }, otherAppsReserved: { cpu: 1, memoryBytes: 4 * GiB } },
    }),
    replicas: 4, direction: 'none', heldBy: 'host-capacity', reason: new RegExp(`^${SCALING_LIMITED}: host memory holds 4`),
  },
  {
    name: 'host capacity: a scale out is cut to what the CPU holds',
    input: input({
      windows: { rps: flat(4 * 80) },
      hostCapacity: { cpuCores: 3.5, memoryBytes: 64 * GiB, perReplica: { cpu: 0.5, memoryBytes: 1 * GiB }, otherAppsReserved: { cpu: 1, memoryBytes: 0 } },
    }),
    replicas: 5, direction: 'out', heldBy: 'host-capacity', reason: /ScalingLimited: host cpu holds 5/,
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
  });

  it('explains every rule it consulted: the one that fired and why the others did not', () => {
    const d = decideReplicas(input({ current: 6, ready: 6, windows: { rps: series((ago) => (ago <= 40 ? 20 : 330)) } }));
    expect(d.explanation.map((e) => [e.rule, e.fired])).toEqual([['manual', false], ['bounds', false], ['panic', false], ['scale-out', false], ['scale-in', false]]);
    expect(d.explanation.at(-1)?.detail).toBe(d.reason);
    const out = decideReplicas(input({ windows: { rps: flat(264) } }));
    expect(out.explanation.filter((e) => e.fired).map((e) => e.rule)).toEqual(['scale-out']);
  });

  it('reports each configured metric with its target and the plain recommendation', () => {
    const d = decideReplicas(input({ policy: spec({ connections: { targetPerReplica: 10 } }), windows: { rps: flat(264) } }));
    expect(d.metrics).toEqual({ rpsPerReplica: { value: 66, target: 50 }, connectionsPerReplica: { value: null, target: 10 } });
    expect(d.recommendation).toBe(5); // ceil(264 / 55)
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
    const rps = new MetricWindow();
    let current = start;
    let lastScaleAtMs: number | undefined;
    const directions: string[] = [];
    for (let s = 0; s < seconds; s++) {
      const now = s * 1000;
      rps.add(now, load(s));
      rps.prune(now, 1_200_000);
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

  it('load oscillating around a multiple of the target does not flap over two hours', () => {
    const result = run((s) => 200 * (1 + 0.15 * Math.sin((2 * Math.PI * s) / 14)) + ((s * 7919) % 11) - 5, 7200, 4);
    expect(result.reversals).toBe(0);
    expect(result.directions.length).toBeLessThanOrEqual(2);
  });

  it('periodic load (60 s high, 30 s low) scales out once and never sheds replicas in its dips', () => {
    const result = run((s) => (s % 90 < 60 ? 300 : 30), 1800, 2);
    expect(result.directions).toEqual(['out']);
    expect(result.current).toBe(6);
  });

  it('periodic load with dips longer than the 60 s window: at most one scale in before the dips are held', () => {
    const result = run((s) => (s % 240 < 120 ? 300 : 30), 2400, 2);
    expect(result.reversals).toBeLessThanOrEqual(2);
  });

  it('a slow up-and-down cycle changes direction only at its turning points', () => {
    const result = run((s) => 250 + 200 * Math.sin((2 * Math.PI * s) / 3600), 7200, 4);
    expect(result.reversals).toBeGreaterThanOrEqual(2); // it does follow the load...
    expect(result.reversals).toBeLessThanOrEqual(4); // ...turning only at the two cycles' peaks and troughs
  });
});
