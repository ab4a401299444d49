// What the API server needs from the daemon, passed in (no singletons).
import type { Logger } from 'pino';
import type { Leadership } from '../core/leadership.js';
import type { ReplicaLoad } from '../history/history-views.js';
import type { MetricHistory } from '../history/metric-history.js';
import type { AutoserveMetrics } from '../observe/metrics.js';
import type { ContainerRuntime } from '../runtime/runtime.js';
import type { Store } from '../store/store.js';
import type { HttpLimits } from './http-limits.js';

export interface ApiDeps {
  store: Store;
  runtime: ContainerRuntime;
  /** Who leads (GET /leader); absent: a single controller. */
  leadership?: Pick<Leadership, 'status'>;
  /** Controller instance: the label scope of the containers whose logs are served. */
  instance: string;
  /** True once the first manifest load has been applied (readyz also pings Docker). */
  isReady: () => boolean;
  /** The watched manifest directory: write calls edit files here. */
  manifestsDir: string;
  /** Current live metrics of an app (the autoscaler's); shown by /apps/{name}/metrics. */
  appMetrics?: (app: string) => unknown;
  metrics: AutoserveMetrics;
  /** When set, every endpoint but /healthz requires `Authorization: Bearer <token>`. */
  authToken?: string;
  /** POST endpoints that edit manifests; requires authToken. */
  enableWriteApi: boolean;
  /** Answer literal env values of the manifests as "(redacted)" (valueFrom values are never shown). */
  redactEnvValues?: boolean;
  logger: Logger;
  /** Per-app metric history (/history, /apps/{name}/history, /top); without it those answer 404. */
  history?: MetricHistory;
  /** The latest CPU and memory reading of each running replica of an app (/top). */
  replicaLoads?: (app: string) => ReplicaLoad[];
  /** The built dashboard (index.html, assets/); default dist/ui of this package. */
  uiDir?: string;
  /** Client bounds; each defaults to DEFAULT_HTTP_LIMITS (tests shorten them). */
  httpLimits?: Partial<HttpLimits>;
}
