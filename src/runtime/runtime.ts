// The runtime seam: everything AutoServe asks of whatever runs containers. Controllers, planners,
// the API and the CLI speak only this interface; Docker is one implementation (runtime/docker/),
// Docker Swarm the second (runtime/swarm/). The semantics below are what the controllers rely on, and
// test/e2e/runtime/ checks them against each implementation with one contract suite.
//
// Every call is bounded in time by the implementation: a hung engine costs a call its bound, never
// a wedged caller. Past the bound a call rejects with RuntimeUnresponsiveError; an aborted
// `signal` ends the wait sooner, with the signal's reason.
import type { ContainerShape, ReplicaFacts } from '../core/replica.js';

/** Which replicas a call concerns: one controller instance's, of one app or of all. */
export interface ReplicaScope {
  instance: string;
  app?: string;
}

/** One replica to create: its identity (name and labels follow from it) and its shape. */
export interface ReplicaRequest {
  instance: string;
  app: string;
  revision: string;
  slot: number;
  shape: ContainerShape;
  /** Grace between SIGTERM and SIGKILL when the runtime itself stops the replica. */
  stopTimeoutSeconds: number;
  /** Extra labels (tests mark what they start). */
  labels?: Record<string, string>;
}

export interface LogLine {
  /** The replica (container name) the line came from. */
  replica: string;
  stream: 'stdout' | 'stderr';
  /** RFC3339Nano, as the runtime wrote it; '' when it gave none. */
  time: string;
  line: string;
}

export interface LogQuery {
  tail: number;
  /** Epoch milliseconds; only lines at or after it. */
  sinceMs?: number;
}

/** A replica's resource limits, as shares are computed against them. */
export interface ReplicaLimits {
  /** Billionths of a CPU; 0 or absent: no CPU limit (CPU is then a share of one core). */
  nanoCpus?: number;
  /** Bytes; 0 or absent: no limit (memory is then a share of host memory). */
  memoryBytes?: number;
}

export interface UsageTarget {
  id: string;
  /** When absent, the runtime looks the limits up itself (once per replica). */
  limits?: ReplicaLimits;
}

export interface ReplicaUsage {
  /**
   * CPU used since the previous sample of this replica, as a share of its CPU limit (of one core
   * without a limit). null when there is no earlier reading to take a delta from. Not clamped.
   */
  cpu: number | null;
  /** Memory in use (without inactive file cache) as a share of its limit, or of host memory. */
  memory: number | null;
  memoryBytes: number;
  /** When the reading was taken, ms since the epoch. */
  at: number;
  /** How it was read (implementation-specific, for diagnostics). */
  source: string;
}

export interface ReplicaEventHandlers {
  /** Something happened to a replica of `app` (start, die, destroy, ...): look at the app again. */
  onApp(app: string, action: string): void;
  /** The stream was lost and is open again: events may have been missed, so resync everything. */
  onReconnect(): void;
}

/** The caller's abort signal (the queue stopping, a shutdown): it ends the wait before the bound. */
export interface CallOptions {
  signal?: AbortSignal;
}

/** What the engine says about itself that changes how its faults play out. */
export interface EngineFacts {
  /** Replicas keep running while the engine restarts (Docker: live-restore). */
  replicasSurviveRestart: boolean;
}

/** Per-replica CPU and memory readings, keeping between calls what a CPU delta needs. */
export interface UsageReader {
  /**
   * One usage reading of each target. A replica that cannot be measured (not running, gone) is
   * absent from the result; never rejects. The reader may keep state per replica between calls
   * (open files, the previous reading): `forgetUsage` drops it.
   */
  usage(targets: readonly UsageTarget[]): Promise<Map<string, ReplicaUsage>>;
  forgetUsage(id: string): void;
}

export interface ContainerRuntime extends UsageReader {
  /** Resolves when the engine answers; rejects with its error otherwise. */
  ping(options?: CallOptions): Promise<void>;

  engine(options?: CallOptions): Promise<EngineFacts>;

  /**
   * Every replica of the scope, running or not, with the addresses its ports are reached at (on the
   * replica's network, from this host) and the host addresses of the ports it publishes.
   * Ownership is proven by label only: nothing without our labels is ever listed.
   */
  list(scope: ReplicaScope, options?: CallOptions): Promise<ReplicaFacts[]>;

  /** One replica's facts; undefined when it does not exist (a missing replica is not an error). */
  inspect(id: string, options?: CallOptions): Promise<ReplicaFacts | undefined>;

  /** Whether the image is present (no pull). */
  hasImage(image: string, options?: CallOptions): Promise<boolean>;

  /**
   * Pulls the image. Rejects with ImagePullFailedError when it cannot be had; at the
   * implementation's bound (minutes) the pull itself is cancelled, so once this settles no pull of
   * ours is left running. Slow by nature: callers run it outside a reconcile pass.
   */
  pullImage(image: string, options?: CallOptions): Promise<void>;

  /**
   * Creates (does not start) a replica under its deterministic name (core/labels containerName),
   * labelled as ours, on the network its shape names (made when missing, adopted when ours;
   * NetworkUnavailableError when it cannot be had). A shape the runtime cannot honour (a published
   * port or a network of the app's own on a Swarm) rejects with UnsupportedByRuntimeError. Never
   * makes two replicas of one name: when the name is taken it rejects with ReplicaExistsError and
   * changes nothing (the caller's observation was stale). A create that timed out may still have
   * been made by the engine: the next listing shows it, not started.
   */
  create(request: ReplicaRequest, options?: CallOptions): Promise<{ id: string; name: string }>;

  /**
   * Removes the networks of the app's own (isolated) that no replica uses any more, and resolves
   * with their names. The instance's shared network is never removed; a network still in use is
   * left alone.
   */
  pruneNetworks(scope: Required<ReplicaScope>, options?: CallOptions): Promise<string[]>;

  /** Starts a created replica; starting a running one resolves. */
  start(id: string, options?: CallOptions): Promise<void>;

  /**
   * Stops a replica: SIGTERM, then SIGKILL after `timeoutSeconds`. A replica that is already
   * stopped or already gone resolves (stopping is idempotent). Bounded by `timeoutSeconds` plus
   * the implementation's bound.
   */
  stop(id: string, timeoutSeconds: number, options?: CallOptions): Promise<void>;

  /** Removes a replica (forcibly, with its anonymous volumes). A missing replica is "already gone": resolves. */
  remove(id: string, options?: CallOptions): Promise<void>;

  /**
   * Follows the runtime's events about the scope's replicas and names the app of each (events
   * only say where to look). The stream is re-opened with backoff whenever it is lost, and
   * `onReconnect` is called after each re-open. Runs until closed.
   */
  watch(scope: ReplicaScope, handlers: ReplicaEventHandlers): { close(): void };

  /** The last `tail` lines of a replica's output (since `sinceMs`); [] when the replica is gone. */
  logs(replica: { id: string; name: string }, query: LogQuery, options?: CallOptions): Promise<LogLine[]>;

  /**
   * A usage reader with state of its own, for a second loop that samples on its own schedule. CPU
   * is a delta between two readings of one reader: two loops reading through one would each get
   * the time since the other's last reading. The runtime itself is the first reader; `close()`
   * releases this one.
   */
  usageReader(): UsageReader & { close(): void };

  /** Releases what the runtime holds (open files, streams). */
  close(): void;
}
