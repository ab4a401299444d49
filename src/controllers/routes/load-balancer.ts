// The contract between the routes controller and whatever load-balances: our own nginx master or
// a system nginx. Both take the whole routing table every time (level-triggered).
import type { HoldSupport } from '../../core/activity.js';
import type { RouteTable } from '../../core/routes.js';

/** An app whose new route was held back (its last good route, if any, keeps serving). */
export interface DegradedRoute {
  app: string;
  message: string;
  /**
   * The condition reason: NginxValidationFailed (nginx rejects the app's block: waits for a
   * change) or NginxConfigWriteFailed (the config could not be written, e.g. a full disk: passes
   * by itself, and the apply is retried).
   */
  reason?: 'NginxValidationFailed' | 'NginxConfigWriteFailed';
}

export interface ApplyResult {
  /** What nginx routes by differs from before this apply (rendered config or, in Lua mode, membership). */
  changed: boolean;
  /** A graceful reload happened and the new config was seen live. */
  reloaded: boolean;
  /** Lua membership mode: the peers nginx picks from changed (no reload needed for that). */
  membershipChanged?: boolean;
  degraded: DegradedRoute[];
  durationMs: number;
  /** The config on disk had been changed by hand and was restored. */
  drift?: boolean;
  /** Changes were held back for a reason that passes by itself (a config write failed): apply again later. */
  retryLater?: boolean;
}

export interface LoadBalancer {
  /**
   * Makes the served config match `table` as far as nginx accepts it: unchanged config means no
   * reload; a config nginx rejects keeps the running one and holds back only the apps whose change
   * breaks it (`degraded`). Resolves once the new config is live. Throws when nginx cannot be
   * reached, tested or reloaded at all (the caller backs off and retries).
   */
  apply(table: RouteTable): Promise<ApplyResult>;
  /** Whether the nginx serving our routes runs. */
  isAlive(): Promise<boolean>;
  /** Makes nginx reopen its log files (after they were renamed for rotation). */
  reopenLogs(): Promise<void>;
  /** Stops serving our routes (own master: graceful quit; system nginx: our conf removed). */
  stop(): Promise<void>;
  /** Scale to zero: whether requests can be held for a sleeping app, and the channel to them. */
  holdSupport(): HoldSupport;
}
