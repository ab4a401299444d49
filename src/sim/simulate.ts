// Replays a trace through a scaling policy, one simulated second at a time: the queue model
// serves the second, the collectors' samples are appended to metric windows, and every policy
// interval the policy decides. New replicas serve only after the start-up time.

import type { ScalingSpec } from '../manifest/types.js';
import { MetricWindow } from '../controllers/scaler/metric-window.js';
import type { MetricWindows, ReplicaSeries } from '../controllers/scaler/types.js';
import { stepQueue, type QueueCapacity, type SecondOutcome } from './queue-model.js';
import type { SimScaler } from './sim-scaler.js';
import type { TracePoint } from './trace.js';

export const DEFAULT_STARTUP_SECONDS = 5;
/**
 * How old the newest request metrics are when the policy decides: the access log is read every
 * second and only complete seconds count, so the daemon's newest rps/p95 sample is about 2 s old
 * (measured by bench/calibrate.ts). CPU and the ready count are read at the tick itself.
 */
export const DEFAULT_METRIC_DELAY_SECONDS = 2;
/** Requests one replica works on at once (its workers), for its capacity and the queue model. */
export const DEFAULT_CONCURRENCY_PER_REPLICA = 4;
/** Samples older than this are pruned from the simulated windows (the recurrence memory at default settings is 20 min). */
const WINDOW_RETENTION_MS = 1_200_000;

/** How one replica serves: shared by the policies' runs and the oracle. */
export interface ReplicaModel {
  /** Requests one replica works on at once (a whole number >= 1). */
  concurrencyPerReplica?: number;
  /** Fixed per-replica capacity (rps); without it, concurrencyPerReplica x 1000 / service_time_ms. */
  capacityRpsPerReplica?: number;
}

export interface SimulationOptions extends ReplicaModel {
  spec: ScalingSpec;
  /** spec.replicas: the count at the start, clamped to min/max. */
  specReplicas: number;
  trace: readonly TracePoint[];
  scaler: SimScaler;
  sloMs: number;
  startupSeconds?: number;
  /** Request metrics (rps, p95, in flight) reach the policy this many seconds late. */
  metricDelaySeconds?: number;
}

export interface ReplicaChange {
  second: number;
  from: number;
  to: number;
  reason: string;
}

export interface SimulationResult {
  policy: string;
  seconds: number;
  /** Seconds whose p95 latency exceeded the objective. */
  secondsOverSlo: number;
  /** Sum over seconds of the replicas running (ready or starting). */
  replicaSeconds: number;
  maxReplicas: number;
  /** Times the scaling direction reversed (out then in, or in then out). */
  directionChanges: number;
  requestsDropped: number;
  changes: ReplicaChange[];
  replicasPerSecond: number[];
  p95PerSecond: number[];
}

/** The queue capacity of `ready` replicas for one trace second. */
export function capacityOf(ready: number, point: TracePoint, model: ReplicaModel): QueueCapacity {
  const concurrency = Math.max(1, Math.round(model.concurrencyPerReplica ?? DEFAULT_CONCURRENCY_PER_REPLICA));
  const perReplicaRps = model.capacityRpsPerReplica ?? (concurrency * 1000) / point.serviceTimeMs;
  return { servers: ready * concurrency, serverRps: perReplicaRps / concurrency };
}

/** The running totals of a result: one per-second record and one change at a time. */
export class ResultTally {
  readonly result: SimulationResult;
  #lastDirection: 'out' | 'in' | undefined;

  constructor(policy: string, seconds: number, initial: number, private readonly sloMs: number) {
    this.result = {
      policy, seconds, secondsOverSlo: 0, replicaSeconds: 0, maxReplicas: initial,
      directionChanges: 0, requestsDropped: 0, changes: [], replicasPerSecond: [], p95PerSecond: [],
    };
  }

  second(running: number, outcome: SecondOutcome): void {
    const r = this.result;
    r.replicaSeconds += running;
    r.maxReplicas = Math.max(r.maxReplicas, running);
    r.requestsDropped += outcome.dropped;
    if (outcome.latencyMs > this.sloMs) r.secondsOverSlo++;
    r.replicasPerSecond.push(running);
    r.p95PerSecond.push(Math.round(outcome.latencyMs));
  }

  change(second: number, from: number, to: number, reason: string): void {
    if (to === from) return;
    const direction = to > from ? 'out' : 'in';
    if (this.#lastDirection !== undefined && direction !== this.#lastDirection) this.result.directionChanges++;
    this.#lastDirection = direction;
    this.result.changes.push({ second, from, to, reason });
  }

  finish(): SimulationResult {
    this.result.requestsDropped = Math.round(this.result.requestsDropped);
    return this.result;
  }
}

interface SimReplica {
  id: string;
  startedAtMs: number;
  readyAtMs: number;
  cpu: MetricWindow;
}

export function runSimulation(options: SimulationOptions): SimulationResult {
  const { spec, trace, scaler } = options;
  const startupMs = (options.startupSeconds ?? DEFAULT_STARTUP_SECONDS) * 1000;
  const metricDelayMs = (options.metricDelaySeconds ?? DEFAULT_METRIC_DELAY_SECONDS) * 1000;
  /** Request metrics not yet visible to the policy (the access log's lag). */
  const pending: { t: number; rps: number; p95: number | undefined; inFlight: number }[] = [];
  const rps = new MetricWindow();
  const p95 = new MetricWindow();
  const inFlight = new MetricWindow();
  const readyCount = new MetricWindow();
  let nextId = 0;
  const newReplica = (startedAtMs: number, readyAtMs: number): SimReplica => ({ id: `r${nextId++}`, startedAtMs, readyAtMs, cpu: new MetricWindow() });

  const initial = Math.min(spec.maxReplicas, Math.max(spec.minReplicas, options.specReplicas));
  // The initial replicas have been running for a long time: warm, ready.
  let replicas: SimReplica[] = Array.from({ length: initial }, () => newReplica(-3_600_000, -3_600_000));
  let backlog = 0;
  let backlogOwners: number | undefined;
  let lastScaleAtMs: number | undefined;
  const tally = new ResultTally(scaler.name, trace.length, initial, options.sloMs);

  for (const point of trace) {
    const now = point.second * 1000;
    const ready = replicas.filter((r) => r.readyAtMs <= now);
    const share = backlog > 0 && backlogOwners !== undefined && ready.length > 0 ? Math.min(1, backlogOwners / ready.length) : 1;
    const outcome = stepQueue(backlog, point.arrivalsPerSecond, point.serviceTimeMs, capacityOf(ready.length, point, options), share);
    backlog = outcome.backlog;
    // The replicas ready when a backlog forms own it until it is gone (see stepQueue).
    if (backlog <= 0) backlogOwners = undefined;
    else backlogOwners ??= ready.length;

    pending.push({ t: now, rps: point.arrivalsPerSecond, p95: point.arrivalsPerSecond > 0 ? outcome.latencyMs : undefined, inFlight: outcome.concurrency });
    while ((pending[0]?.t ?? Infinity) <= now - metricDelayMs) {
      const m = pending.shift()!;
      rps.add(m.t, m.rps);
      if (m.p95 !== undefined) p95.add(m.t, m.p95);
      inFlight.add(m.t, m.inFlight);
    }
    readyCount.add(now, ready.length);
    for (const r of ready) r.cpu.add(now, outcome.utilization);
    for (const w of [rps, p95, inFlight, readyCount, ...replicas.map((r) => r.cpu)]) w.prune(now, WINDOW_RETENTION_MS);
    tally.second(replicas.length, outcome);

    if (now % scaler.intervalMs !== 0 || now === 0) continue;
    const windows: MetricWindows = {
      rps,
      p95LatencyMs: p95,
      concurrency: inFlight,
      readyReplicas: readyCount,
      cpu: replicas.map((r): ReplicaSeries => ({ replicaId: r.id, startedAtMs: r.startedAtMs, samples: r.cpu })),
    };
    const current = replicas.length;
    const decision = scaler.decide({
      now, current, ready: ready.length, starting: current - ready.length, windows, controllerStartedAtMs: 0,
      ...(lastScaleAtMs !== undefined ? { lastScaleAtMs } : {}),
    });
    if (decision.replicas === current) continue;
    lastScaleAtMs = now;
    tally.change(point.second, current, decision.replicas, decision.reason);
    if (decision.replicas > current) {
      for (let i = current; i < decision.replicas; i++) replicas.push(newReplica(now, now + startupMs));
    } else {
      // Remove starting replicas first, then the newest (as the container planner does).
      replicas = [...replicas].sort((a, b) => Number(a.readyAtMs > now) - Number(b.readyAtMs > now) || a.startedAtMs - b.startedAtMs).slice(0, decision.replicas);
    }
  }
  return tally.finish();
}
