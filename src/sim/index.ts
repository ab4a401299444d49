// Public API of the autoscaling simulator: replay a request trace through AutoServe's decision
// (or the HPA-like and KPA-like baselines, or the oracle) and measure latency objective misses and replica-seconds.

export { parseTraceCsv, formatTraceCsv, TRACE_HEADER, type TracePoint } from './trace.js';
export { erlangC, queueWait, steadyP95Ms, stepQueue, LATENCY_CAP_FACTOR, QUEUE_TIMEOUT_SECONDS, type QueueCapacity, type SecondOutcome } from './queue-model.js';
export { oracleReplicas, runOracle, ORACLE_POLICY, type OracleOptions } from './oracle.js';
export { createKpaBaseline, kpaMetricOf, KPA_PANIC_THRESHOLD, KPA_PANIC_WINDOW_MS, KPA_STABLE_WINDOW_MS, KPA_TICK_MS } from './kpa-baseline.js';
export { describeVerdict, judgeTargets, ORACLE_SLACK, EXTRA_DIRECTION_CHANGES, type TargetCheck, type TargetVerdict } from './targets.js';
export {
  runSimulation,
  capacityOf,
  ResultTally,
  DEFAULT_CONCURRENCY_PER_REPLICA,
  DEFAULT_STARTUP_SECONDS,
  DEFAULT_METRIC_DELAY_SECONDS,
  type ReplicaChange,
  type ReplicaModel,
  type SimulationOptions,
  type SimulationResult,
} from './simulate.js';
export { createAutoServeScaler, AUTOSERVE_DECISION_INTERVAL_MS, type SimScaler, type SimView } from './sim-scaler.js';
export { createHpaBaseline, hpaMetricOf, HPA_SYNC_PERIOD_MS, HPA_TOLERANCE, HPA_SCALE_DOWN_STABILIZATION_MS } from './hpa-baseline.js';
export { formatMarkdownRows, formatSummaryTable, formatTimeline, MARKDOWN_HEADER, sparkline } from './format-report.js';
export { HOLDOUT_TRACES, HOLDOUT2_TRACES, SERVICE_TIME_MS, seededRandom, TRACE_LIBRARY, traceGenerator, type TraceGenerator } from './synthetic-traces.js';
export { BASELINES, loadSimulation, simulateFiles, type BaselineName, type SimulateFilesOptions, type SimulateFilesResult, type SimulateFilesRun } from './simulate-files.js';
export { renderHtmlReport, type ReportInput } from './html-report.js';
