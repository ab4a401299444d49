// The autoscaler's input and output: metric windows in, one replica decision out.
import type { ScalingSpec } from '../../manifest/types.js';
import type { ScalingRecord } from '../../store/status-model.js';
import type { SampleWindow } from './metric-window.js';

/** One replica's utilization series (0..1 of its limit) and when it started, for the warm-up rule. */
export interface ReplicaSeries {
  replicaId: string;
  /** When the container started (epoch ms). Its samples from the first warm-up period are ignored. */
  startedAtMs: number;
  samples: SampleWindow;
}

/**
 * What the collectors observed for one app, as time series (epoch ms, value). Every field is
 * optional: a metric nobody collects is simply missing data, which can scale out on other metrics
 * but never scales in. Collectors should add a sample per scrape (every 1-2 s).
 */
export interface MetricWindows {
  /** Requests per second, app total (as nginx sees them). */
  rps?: SampleWindow;
  /** 95th percentile latency in ms, app wide. A scrape with no requests adds no sample. */
  p95LatencyMs?: SampleWindow;
  /** Requests in flight, app total. */
  concurrency?: SampleWindow;
  /** Per-replica CPU utilization, 0..1 of the replica's CPU limit (or of one core without a limit). */
  cpu?: readonly ReplicaSeries[];
  /** Per-replica memory utilization, 0..1 of the replica's memory limit. */
  memory?: readonly ReplicaSeries[];
  /**
   * Ready replicas over time, one sample per scrape. Lets latency samples be read against the count
   * that produced them; without it, the current `ready` count stands for the past.
   */
  readyReplicas?: SampleWindow;
}

/** What the host can hold, for capping scale out. Without it, scale out is capped by maxReplicas only. */
export interface HostCapacity {
  cpuCores: number;
  memoryBytes: number;
  /** One replica's limits (spec.resources); an absent limit does not constrain the count. */
  perReplica: { cpu?: number; memoryBytes?: number };
  /** Limits already held by every other app on the host. */
  otherAppsReserved: { cpu: number; memoryBytes: number };
}

export interface ScalingInput {
  policy: ScalingSpec;
  /** spec.replicas: what `mode: manual` holds. Defaults to `current`. */
  specReplicas?: number;
  windows: MetricWindows;
  /** The replica count currently desired (the last decision, or spec.replicas at first). */
  current: number;
  /** Replicas passing their readiness probe. */
  ready: number;
  /** Replicas created but not ready yet (never passed a check). */
  starting: number;
  /**
   * Replicas that passed their checks and fail them now (out of the rotation, still running): busy
   * or broken. Counted neither as ready nor as starting. Default 0.
   */
  notReady?: number;
  /** When the count last changed (epoch ms). Takes precedence over `history`. */
  lastScaleAtMs?: number;
  /** This app's scaling history; the newest record's time is the last scale time. */
  history?: readonly ScalingRecord[];
  now: number;
  /** When this controller process started: no scale in until a full window of fresh data. */
  controllerStartedAtMs: number;
  hostCapacity?: HostCapacity;
  /** Override of CPU_WARMUP_MS (tests, simulator). */
  cpuWarmupMs?: number;
}

export type ScalingDirection = 'out' | 'in' | 'none';

/** What holds the count back right now. */
export type HoldReason = 'window' | 'cooldown' | 'clamp' | 'missing-data' | 'starting' | 'host-capacity' | 'warmup' | 'stabilization';

/** The rules of a decision, in the order they are consulted. */
export type ScalingRule = 'manual' | 'bounds' | 'panic' | 'scale-out' | 'scale-in';

/** Why a rule decided, or why not: one line each, in rule order (the "why / why not" of a decision). */
export interface RuleOutcome {
  rule: ScalingRule;
  /** True for the rule that chose the count. */
  fired: boolean;
  detail: string;
}

export interface MetricReading {
  /** The recent observed value (per replica for rps and connections, percent for cpu and memory); null without data. */
  value: number | null;
  target: number;
}

export interface ScalingDecision {
  /** The replica count to run. Equal to `current` unless `direction` is "out" or "in". */
  replicas: number;
  direction: ScalingDirection;
  /** One line for humans: what was decided, or what holds the count back now. */
  reason: string;
  /** Every rule consulted, whether it fired and why (not). */
  explanation: RuleOutcome[];
  heldBy?: HoldReason;
  /** Set with heldBy "host-capacity": the resource that ran out (status reason ScalingLimited). */
  limitedBy?: 'cpu' | 'memory';
  /** Keys: rpsPerReplica, p95LatencyMs, connectionsPerReplica, cpuPct, memoryPct (those configured). */
  metrics: Record<string, MetricReading>;
  /**
   * The plain recommendation now: the most replicas any metric asks for (rate metrics:
   * ceil(load / target)), clamped to min/max, before windows, gates, stabilization, cooldown and
   * guards. Informational (status, `simulate`).
   */
  recommendation: number;
}
