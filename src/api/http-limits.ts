// The HTTP endpoint's bounds on its clients, named once (server.ts applies them; docs list them).

/**
 * Bounds on clients, so a slow or greedy one cannot hold the endpoint (docs/api.md, docs/security.md).
 * Timeouts bound receiving a request; an answer that streams (logs --follow, /watch) is not cut by
 * them (test/unit/api/http-limits.test.ts).
 */
export const DEFAULT_HTTP_LIMITS = {
  /** All request headers must arrive within this. */
  headersTimeoutMs: 10_000,
  /** The whole request (headers and body) must arrive within this. */
  requestTimeoutMs: 30_000,
  /** An idle kept-alive connection is closed after this. */
  keepAliveTimeoutMs: 5_000,
  /** Connections open at once; more are closed as they arrive. */
  maxConnections: 256,
  /**
   * Open `/watch` streams at once (503 beyond): each holds its connection for as long as a page is
   * open, so they stay well below maxConnections and open pages never take every connection.
   */
  maxWatchStreams: 64,
  /** How often the timeouts above are checked. */
  checkIntervalMs: 1_000,
};
export type HttpLimits = typeof DEFAULT_HTTP_LIMITS;
