// Public API of the autoscaling simulator: replay a request trace through AutoServe's decision
// (or the HPA baseline) and measure latency objective misses and replica-seconds.

export { parseTraceCsv, formatTraceCsv, TRACE_HEADER, type TracePoint } from './trace.js';
export { stepQueue, LATENCY_CAP_FACTOR, QUEUE_TIMEOUT_SECONDS, type SecondOutcome } from './queue-model.js';
export {
  runSimulation,
  DEFAULT_CONCURRENCY_PER_REPLICA,
  DEFAULT_STARTUP_SECONDS,
  type ReplicaChange,
  type SimulationOptions,
  type SimulationResult,
} from './simulate.js';
export { createAutoServeScaler, AUTOSERVE_DECISION_INTERVAL_MS, type SimScaler, type SimView } from './sim-scaler.js';
export { createHpaBaseline, hpaMetricOf, HPA_SYNC_PERIOD_MS, HPA_TOLERANCE, HPA_SCALE_DOWN_STABILIZATION_MS } from './hpa-baseline.js';
export { formatMarkdownRows, formatSummaryTable, formatTimeline, MARKDOWN_HEADER, sparkline } from './format-report.js';
export { dailyTrace, seededRandom, spikeTrace, stepTrace } from './synthetic-traces.js';
export { loadSimulation, simulateFiles, type SimulateFilesOptions, type SimulateFilesResult } from './simulate-files.js';
