// The metrics API the daemon and the autoscaler use: per-app request metrics from nginx. (Per-replica
// CPU and memory come from the runtime: ContainerRuntime.usage.)
export {
  AccessLogMetrics,
  DEFAULT_BACKFILL_BYTES,
  DEFAULT_POLL_INTERVAL_MS,
  type AccessLogMetricsOptions,
} from './nginx-metrics.js';
export { DEFAULT_WINDOW_SECONDS, type RequestMetric, type SeriesPoint } from './request-window.js';
export { parseAccessLogLine, type AccessLogEntry } from './access-log.js';
export { fetchNginxStatus, parseStubStatus, NGINX_STATUS_PATH, type NginxStatus } from './nginx-status.js';
