// A leader lease for standby controllers, kept in a store that offers compare-and-swap (Swarm's
// replicated state, see config-lease-store.ts). At most one contender acts at a time; when the
// leader stops renewing (killed, hung, cut off from the managers), another takes over once the
// lease has gone unrenewed for its duration.
//
// The rules, after Kubernetes' client-go leader election:
// - Expiry is judged on the contender's own monotonic clock, never on times written in the
//   record: a contender takes over only after it has seen the same record version for a whole
//   lease duration. Wall clocks of different managers may disagree; rates of monotonic clocks
//   agree closely enough.
// - Every write names the version it read; the store refuses it if anyone wrote in between, so
//   two contenders that both see an expired lease cannot both win.
// - The leader counts itself leader until (send time of its last successful write) +
//   renewDeadline, with renewDeadline < leaseDuration. A contender's clock for that version
//   starts after the write committed, which is after it was sent, so the old leader has stopped
//   (by its own clock) before anyone else may start: never two leaders.
// - A request in flight cannot be fenced (Docker has no fencing tokens): the controller checks
//   isLeader() before each action and stops its work queue when leadership ends.
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { sleep } from '../../core/with-timeout.js';

/** What the store holds. Times are wall-clock ISO strings for people (status); the logic ignores them. */
export interface LeaseRecord {
  /** Identity of the leader; '' once released. */
  holder: string;
  acquiredAt: string;
  renewedAt: string;
  /** The holder's lease duration: a contender waits at least this long (and its own). */
  leaseDurationMs: number;
  /** How many times the lease changed hands. */
  transitions: number;
}

export interface VersionedLease {
  /** Store version (Swarm: the object's Raft index); changes on every write. */
  version: number;
  record: LeaseRecord;
}

/** A single lease object with compare-and-swap writes. */
export interface LeaseStore {
  read(): Promise<VersionedLease | undefined>;
  /** Creates the lease; false when it exists already (someone else created it first). */
  create(record: LeaseRecord): Promise<boolean>;
  /** Writes `record` if the lease is still at `version`; false when someone wrote in between or it is gone. */
  replace(version: number, record: LeaseRecord): Promise<boolean>;
}

export interface LeaseTiming {
  /** How long a lease stays valid without renewal, as seen by the other contenders. */
  leaseDurationMs: number;
  /** How long the leader keeps acting after its last successful renewal was sent. */
  renewDeadlineMs: number;
  /** How often the leader renews and the others retry. */
  retryPeriodMs: number;
}

/** Takeover after a leader dies: between leaseDuration and leaseDuration + retryPeriod (+ one request). */
export const DEFAULT_LEASE_TIMING: LeaseTiming = { leaseDurationMs: 10_000, renewDeadlineMs: 7_000, retryPeriodMs: 2_000 };

export function validateLeaseTiming(timing: LeaseTiming): void {
  const { leaseDurationMs, renewDeadlineMs, retryPeriodMs } = timing;
  if (!(retryPeriodMs > 0 && renewDeadlineMs > retryPeriodMs && leaseDurationMs > renewDeadlineMs)) {
    throw new RangeError(
      `lease timing needs 0 < retryPeriod < renewDeadline < leaseDuration (got ${retryPeriodMs} < ${renewDeadlineMs} < ${leaseDurationMs} ms)`,
    );
  }
}

export type LeaseStep =
  | { kind: 'create'; record: LeaseRecord }
  | { kind: 'write'; reason: 'renew' | 'acquire-released' | 'acquire-expired'; record: LeaseRecord }
  | { kind: 'wait'; holder: string; expiresInMs: number };

export interface LeaseView {
  current: VersionedLease | undefined;
  /** Monotonic time at which this contender first saw `current.version`. */
  observedAt: number;
  now: number;
  identity: string;
  timing: LeaseTiming;
  /** Wall clock for the record's human-readable times. */
  wallClock: Date;
}

/** The pure decision of one round: create the lease, write it (renew or take over), or wait. */
export function decideLeaseStep(view: LeaseView): LeaseStep {
  const { current, identity, timing } = view;
  const stamp = view.wallClock.toISOString();
  const fresh = (transitions: number): LeaseRecord => ({
    holder: identity,
    acquiredAt: stamp,
    renewedAt: stamp,
    leaseDurationMs: timing.leaseDurationMs,
    transitions,
  });
  if (!current) return { kind: 'create', record: fresh(1) };
  const held = current.record;
  if (held.holder === identity) {
    return { kind: 'write', reason: 'renew', record: { ...held, renewedAt: stamp, leaseDurationMs: timing.leaseDurationMs } };
  }
  if (held.holder === '') return { kind: 'write', reason: 'acquire-released', record: fresh(held.transitions + 1) };
  const expiresAt = view.observedAt + Math.max(timing.leaseDurationMs, held.leaseDurationMs);
  if (view.now < expiresAt) return { kind: 'wait', holder: held.holder, expiresInMs: expiresAt - view.now };
  return { kind: 'write', reason: 'acquire-expired', record: fresh(held.transitions + 1) };
}

export interface LeaderLeaseOptions {
  store: LeaseStore;
  /** Unique per contender; default hostname:pid:random. */
  identity?: string;
  timing?: LeaseTiming;
  /** Monotonic milliseconds (tests pass a fake). */
  clock?: () => number;
  wallClock?: () => Date;
}

export interface LeadershipCallbacks {
  onStartedLeading?: () => void;
  onStoppedLeading?: () => void;
  /** The holder changed (including to '' or to us). */
  onNewLeader?: (holder: string) => void;
  /** A round failed (store unreachable, timeout); the lease logic carries on. */
  onError?: (err: unknown) => void;
}

export class LeaderLease {
  readonly identity: string;
  readonly timing: LeaseTiming;
  private readonly store: LeaseStore;
  private readonly clock: () => number;
  private readonly wallClock: () => Date;
  private observed: { version: number; holder: string; at: number } | undefined;
  /** Monotonic time until which we may act; undefined while not leading. */
  private leaderUntil: number | undefined;

  constructor(options: LeaderLeaseOptions) {
    this.store = options.store;
    this.identity = options.identity ?? defaultIdentity();
    this.timing = options.timing ?? DEFAULT_LEASE_TIMING;
    validateLeaseTiming(this.timing);
    this.clock = options.clock ?? (() => performance.now());
    this.wallClock = options.wallClock ?? (() => new Date());
  }

  /** True while the last successful write is younger than renewDeadline (by this contender's clock). */
  isLeader(): boolean {
    return this.leaderUntil !== undefined && this.clock() < this.leaderUntil;
  }

  /** The holder as last seen ('' when released, undefined before the first read). */
  holder(): string | undefined {
    return this.isLeader() ? this.identity : this.observed?.holder;
  }

  /**
   * One round: read, decide, maybe write. Resolves with isLeader(). A rejected write (someone was
   * faster) ends our leadership at once; a store error is thrown and leaves the deadline as it is.
   */
  async tryAcquireOrRenew(): Promise<boolean> {
    const current = await this.store.read();
    const now = this.clock();
    if (!current) this.observed = undefined;
    else if (current.version !== this.observed?.version) this.observed = { version: current.version, holder: current.record.holder, at: now };
    const step = decideLeaseStep({
      current,
      observedAt: this.observed?.at ?? now,
      now,
      identity: this.identity,
      timing: this.timing,
      wallClock: this.wallClock(),
    });
    if (step.kind === 'wait') {
      this.leaderUntil = undefined;
      return false;
    }
    const sentAt = this.clock();
    const written = step.kind === 'create' ? await this.store.create(step.record) : await this.store.replace(current!.version, step.record);
    if (!written) {
      this.leaderUntil = undefined;
      this.observed = undefined; // re-read before judging expiry again
      return false;
    }
    this.leaderUntil = sentAt + this.timing.renewDeadlineMs;
    this.observed = undefined; // our own write: the next read sees a new version
    return this.isLeader();
  }

  /** Gives the lease up (holder ''), so a standby takes over at its next retry. Best effort. */
  async release(): Promise<void> {
    const wasLeader = this.isLeader();
    this.leaderUntil = undefined; // stop acting before anyone can start
    if (!wasLeader) return;
    const current = await this.store.read();
    if (current?.record.holder !== this.identity) return;
    const stamp = this.wallClock().toISOString();
    await this.store.replace(current.version, { ...current.record, holder: '', renewedAt: stamp });
  }

  /**
   * Contends until `signal` aborts: renews while leading, retries while not, and reports
   * transitions. Leadership also ends when renewals fail until renewDeadline passes. On abort the
   * lease is released if held.
   */
  async run(signal: AbortSignal, callbacks: LeadershipCallbacks = {}): Promise<void> {
    let leading = false;
    let lastHolder: string | undefined;
    const report = () => {
      const now = this.isLeader();
      if (now !== leading) {
        leading = now;
        (now ? callbacks.onStartedLeading : callbacks.onStoppedLeading)?.();
      }
      const holder = this.holder();
      if (holder !== undefined && holder !== lastHolder) {
        lastHolder = holder;
        callbacks.onNewLeader?.(holder);
      }
    };
    while (!signal.aborted) {
      try {
        await this.tryAcquireOrRenew();
      } catch (err) {
        callbacks.onError?.(err);
      }
      report();
      // Wake for the next round, or at the deadline if it comes first (to step down on time).
      const untilDeadline = this.leaderUntil === undefined ? Infinity : this.leaderUntil - this.clock();
      await sleep(Math.max(0, Math.min(this.timing.retryPeriodMs, untilDeadline)), signal);
      report();
    }
    await this.release().catch((err: unknown) => callbacks.onError?.(err));
    report();
  }
}

export function defaultIdentity(): string {
  return `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
}
