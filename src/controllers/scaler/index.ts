// Public API of the autoscaler: metric windows in, a replica decision out. The daemon keeps one
// MetricWindow per app and metric, feeds them from the collectors, and calls decideReplicas.

export { decideReplicas, lastScaleAt, SCALING_LIMITED } from './decide-replicas.js';
export {
  aggregateUtilization,
  CPU_WARMUP_MS,
  DEFAULT_SCALE_IN_THRESHOLD_PCT,
  DEFAULT_SCALE_OUT_THRESHOLD_PCT,
  DEFAULT_WINDOW_SECONDS,
  MAX_LATENCY_STEP_FACTOR,
  RECENT_SPAN_MS,
  resolveThresholds,
  TOLERANCE,
  type Thresholds,
} from './evaluate-metrics.js';
export { combineHistories, highestSince, loadRecurred } from './stabilization.js';
export { hostReplicaLimit, type HostReplicaLimit } from './host-capacity.js';
export {
  coveredMs,
  coversWindow,
  DEFAULT_MAX_SAMPLE_GAP_MS,
  DEFAULT_MAX_SAMPLES,
  MetricWindow,
  type Sample,
  type SampleWindow,
} from './metric-window.js';
export type {
  HoldReason,
  HostCapacity,
  MetricReading,
  MetricWindows,
  ReplicaSeries,
  RuleOutcome,
  ScalingRule,
  ScalingDecision,
  ScalingDirection,
  ScalingInput,
} from './types.js';
