// Scale to zero's view of requests, as the load balancer records them at arrival (the access log
// only sees completions, and a held request may never complete): per app, the last arrival,
// requests in flight and held, and whether a request asked for a wake. Times are epoch ms.

export interface AppActivity {
  /** When the last request arrived; undefined when none arrived since nginx (re)started. */
  lastArrivalMs?: number;
  /** Requests arrived and not yet answered (held ones included). */
  inFlight: number;
  /** Requests waiting for a replica now. */
  held: number;
  /** A request found no replica at this time and asked for a wake; cleared once one serves. */
  wakeRequestedAtMs?: number;
  /** Held requests since nginx started, and those of them answered 503 at the wake timeout. */
  heldTotal: number;
  timeouts: number;
}

export interface ActivitySnapshot {
  /** Bumped by every request that asks for a wake: read again "after" it to wait for the next. */
  seq: number;
  apps: Record<string, AppActivity>;
}

/** What a held request is told about its app, besides "wait". */
export type HoldState =
  /** Keep holding; a timed-out request gets this reason (why no replica is ready yet). */
  | { kind: 'hold'; reason: string }
  /** The app is stopped: held and new requests get 503 with this reason at once. */
  | { kind: 'stop'; reason: string };

/** The load balancer's side of scale to zero: activity in, hold states and cleared wakes out. */
export interface ActivityChannel {
  /**
   * The activity, once a wake is asked for after `afterSeq` or `waitMs` passed (a long poll; without
   * `afterSeq` at once). Undefined when the load balancer cannot say (not running, no endpoint).
   */
  read(afterSeq: number | undefined, waitMs: number): Promise<ActivitySnapshot | undefined>;
  /**
   * Replaces every app's hold state (apps not named have none) and forgets the wakes asked for at
   * or before the given times (an app put to sleep). False when the load balancer cannot take it.
   */
  publish(states: Record<string, HoldState>, clearWakesUpTo: Record<string, number>): Promise<boolean>;
}

/**
 * Whether the load balancer can hold requests for sleeping apps: only nginx with the Lua module
 * can (an app it cannot hold for never sleeps). Unknown until the load balancer has started.
 */
export type HoldSupport =
  | { kind: 'unknown' }
  | { kind: 'yes'; channel: ActivityChannel }
  | { kind: 'no'; reason: string };
