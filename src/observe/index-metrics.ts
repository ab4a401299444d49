// The metrics API the daemon and the autoscaler use: per-replica CPU/memory, per-app request metrics.
export {
  ContainerMetricsSampler,
  DEFAULT_API_CONCURRENCY,
  type ContainerLimits,
  type ContainerMetricsSamplerOptions,
  type ContainerRef,
  type ContainerSample,
  type MetricsSource,
} from './container-metrics.js';
export { readCgroupLayout, type CgroupLayout, type CgroupVersion } from './cgroup-stats.js';
export {
  AccessLogMetrics,
  DEFAULT_BACKFILL_BYTES,
  DEFAULT_POLL_INTERVAL_MS,
  type AccessLogMetricsOptions,
} from './nginx-metrics.js';
export { DEFAULT_WINDOW_SECONDS, type RequestMetric, type SeriesPoint } from './request-window.js';
export { parseAccessLogLine, type AccessLogEntry } from './access-log.js';
export { fetchNginxStatus, parseStubStatus, NGINX_STATUS_PATH, type NginxStatus } from './nginx-status.js';
