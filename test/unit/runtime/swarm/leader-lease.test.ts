// The leader lease: its decision table, and a simulation of contenders against a compare-and-swap
// store with random latencies, crashes and pauses, checking that no two contenders ever act as
// leader at once and that a standby takes over in bounded time.
import { describe, expect, it } from 'vitest';
import {
  decideLeaseStep,
  LeaderLease,
  type LeaseRecord,
  type LeaseStore,
  type LeaseTiming,
  type LeaseView,
  type VersionedLease,
} from '../../../../src/runtime/swarm/leader-lease.js';
import { seededRandom } from '../../../../src/sim/synthetic-traces.js';

const TIMING: LeaseTiming = { leaseDurationMs: 10_000, renewDeadlineMs: 7_000, retryPeriodMs: 2_000 };
const WALL = new Date('2026-01-01T00:00:00Z');

function record(holder: string, extra: Partial<LeaseRecord> = {}): LeaseRecord {
  return { holder, acquiredAt: 'a', renewedAt: 'r', leaseDurationMs: TIMING.leaseDurationMs, transitions: 1, ...extra };
}

function view(current: VersionedLease | undefined, observedAt: number, now: number, extra: Partial<LeaseView> = {}): LeaseView {
  return { current, observedAt, now, identity: 'me', timing: TIMING, wallClock: WALL, ...extra };
}

describe('decideLeaseStep', () => {
  it.each([
    ['no lease yet: create it', view(undefined, 0, 0), { kind: 'create' }],
    ['we hold it: renew', view({ version: 3, record: record('me') }, 0, 50_000), { kind: 'write', reason: 'renew' }],
    ['released: take it at once', view({ version: 3, record: record('') }, 100, 100), { kind: 'write', reason: 'acquire-released' }],
    ['another holds it, seen 9.9 s unchanged: wait', view({ version: 3, record: record('other') }, 0, 9_900), { kind: 'wait', holder: 'other', expiresInMs: 100 }],
    ['another holds it, seen 10 s unchanged: take over', view({ version: 3, record: record('other') }, 0, 10_000), { kind: 'write', reason: 'acquire-expired' }],
    [
      'the holder asked for a longer lease than ours: wait that long',
      view({ version: 3, record: record('other', { leaseDurationMs: 30_000 }) }, 0, 20_000),
      { kind: 'wait', holder: 'other', expiresInMs: 10_000 },
    ],
  ])('%s', (_name, input, expected) => {
    expect(decideLeaseStep(input)).toMatchObject(expected);
  });

  it('counts a change of hands, keeps the acquisition time on renewal', () => {
    const renew = decideLeaseStep(view({ version: 3, record: record('me', { acquiredAt: 'then', transitions: 4 }) }, 0, 1));
    expect(renew).toMatchObject({ record: { holder: 'me', acquiredAt: 'then', renewedAt: WALL.toISOString(), transitions: 4 } });
    const takeover = decideLeaseStep(view({ version: 3, record: record('other', { transitions: 4 }) }, 0, 10_000));
    expect(takeover).toMatchObject({ record: { holder: 'me', acquiredAt: WALL.toISOString(), transitions: 5 } });
  });

  it('rejects a timing where the leader could outlive its lease', () => {
    expect(() => new LeaderLease({ store: new MemoryStore(new Sim(0)), timing: { leaseDurationMs: 5_000, renewDeadlineMs: 5_000, retryPeriodMs: 1_000 } })).toThrow(
      /renewDeadline < leaseDuration/,
    );
  });
});

// --- simulation ------------------------------------------------------------------------------

interface SimEvent {
  at: number;
  seq: number;
  run: () => void;
}

/** Simulated time and a store whose operations commit, then answer, after random delays. */
class Sim {
  now = 0;
  private seq = 0;
  private readonly events: SimEvent[] = [];
  readonly random: () => number;

  constructor(
    seed: number,
    /** Longest delay from send to commit, and from commit to answer. */
    readonly maxLatencyMs = 0,
    /** Probability that an answer is lost (the caller sees a timeout; the write may have committed). */
    readonly lossRate = 0,
  ) {
    this.random = seededRandom(seed); // deterministic: a failing seed reproduces
  }

  at(time: number, run: () => void): void {
    this.events.push({ at: time, seq: this.seq++, run });
    this.events.sort((a, b) => a.at - b.at || a.seq - b.seq);
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.at(this.now + ms, resolve));
  }

  /** `apply` runs at the commit time; the promise settles at the answer time. */
  operation<T>(apply: () => T): Promise<T> {
    return new Promise((resolve, reject) => {
      const commitAt = this.now + this.random() * this.maxLatencyMs;
      const answerAt = commitAt + this.random() * this.maxLatencyMs;
      const lost = this.random() < this.lossRate;
      let result: T;
      this.at(commitAt, () => (result = apply()));
      this.at(answerAt, () => (lost ? reject(new Error('request timed out')) : resolve(result)));
    });
  }

  /** Runs events until `end`, calling `check` after each (once all promise callbacks settled). */
  async runUntil(end: number, check: () => void): Promise<void> {
    for (;;) {
      await new Promise((resolve) => setImmediate(resolve));
      check();
      const next = this.events.shift();
      if (!next || next.at > end) return;
      this.now = next.at;
      next.run();
    }
  }
}

class MemoryStore implements LeaseStore {
  state: VersionedLease | undefined;
  private version = 0;
  writes = 0;

  constructor(private readonly sim: Sim) {}

  read(): Promise<VersionedLease | undefined> {
    return this.sim.operation(() => (this.state ? structuredClone(this.state) : undefined));
  }
  create(record: LeaseRecord): Promise<boolean> {
    return this.sim.operation(() => {
      if (this.state) return false;
      this.state = { version: ++this.version, record: structuredClone(record) };
      this.writes++;
      return true;
    });
  }
  replace(version: number, record: LeaseRecord): Promise<boolean> {
    return this.sim.operation(() => {
      if (this.state?.version !== version) return false;
      this.state = { version: ++this.version, record: structuredClone(record) };
      this.writes++;
      return true;
    });
  }
}

/**
 * A controller process: contends in rounds; may crash for good, pause (SIGSTOP) for a while, or be
 * cut off from the store (its requests fail after a delay, without committing) while it runs on.
 */
class Contender {
  readonly lease: LeaderLease;
  crashed = false;
  pausedUntil = 0;
  cutOffUntil = 0;

  constructor(
    readonly name: string,
    private readonly sim: Sim,
    store: LeaseStore,
    private readonly timing: LeaseTiming = TIMING,
  ) {
    const cutOff = <T>(op: () => Promise<T>): Promise<T> =>
      sim.now < this.cutOffUntil ? sim.sleep(sim.random() * sim.maxLatencyMs + 1).then(() => Promise.reject(new Error('unreachable'))) : op();
    const reachable: LeaseStore = {
      read: () => cutOff(() => store.read()),
      create: (record) => cutOff(() => store.create(record)),
      replace: (version, record) => cutOff(() => store.replace(version, record)),
    };
    this.lease = new LeaderLease({ store: reachable, identity: name, timing, clock: () => sim.now, wallClock: () => new Date(sim.now) });
  }

  /** Acting means: alive, running, and isLeader() says so. */
  acting(): boolean {
    return !this.crashed && this.sim.now >= this.pausedUntil && this.lease.isLeader();
  }

  async loop(): Promise<void> {
    while (!this.crashed) {
      if (this.sim.now < this.pausedUntil) {
        await this.sim.sleep(this.pausedUntil - this.sim.now);
        continue;
      }
      await this.lease.tryAcquireOrRenew().catch(() => undefined);
      await this.sim.sleep(this.timing.retryPeriodMs);
    }
  }
}

describe('leader lease in simulation', () => {
  it.each([
    ['dies', (c: Contender) => (c.crashed = true)],
    ['is cut off from the store but runs on', (c: Contender) => (c.cutOffUntil = Infinity)],
  ])('one of two contenders leads; when the leader %s, the other takes over after it stopped acting, within leaseDuration + retryPeriod', async (_name, fail) => {
    const sim = new Sim(1);
    const store = new MemoryStore(sim);
    const a = new Contender('a', sim, store);
    const b = new Contender('b', sim, store);
    void a.loop();
    sim.at(100, () => void b.loop()); // b reads 100 ms after each of a's renewals: the tightest case
    let takeoverAt: number | undefined;
    let aStoppedAt: number | undefined;
    const failAt = 30_000;
    sim.at(failAt, () => fail(a));
    await sim.runUntil(60_000, () => {
      expect(a.acting() && b.acting()).toBe(false);
      if (sim.now < failAt) expect(sim.now === 0 || a.acting()).toBe(true);
      if (aStoppedAt === undefined && sim.now >= failAt && !a.acting()) aStoppedAt = sim.now;
      if (takeoverAt === undefined && b.acting()) takeoverAt = sim.now;
    });
    // a renewed last at 28 000 (every 2 s from 0); a cut-off a acts until 28 000 + renewDeadline.
    expect(takeoverAt).toBeDefined();
    expect(takeoverAt!).toBeGreaterThanOrEqual(28_000 + TIMING.renewDeadlineMs);
    expect(takeoverAt!).toBeLessThanOrEqual(28_000 + TIMING.leaseDurationMs + TIMING.retryPeriodMs);
    expect(aStoppedAt!).toBeLessThanOrEqual(takeoverAt!);
    expect(store.state?.record).toMatchObject({ holder: 'b', transitions: 2 });
  });

  it('a released lease is taken at the next retry', async () => {
    const sim = new Sim(2);
    const store = new MemoryStore(sim);
    const a = new Contender('a', sim, store);
    const b = new Contender('b', sim, store);
    void a.loop();
    sim.at(100, () => void b.loop());
    sim.at(10_000, () => {
      a.crashed = true;
      void a.lease.release();
    });
    let takeoverAt: number | undefined;
    await sim.runUntil(20_000, () => {
      if (takeoverAt === undefined && b.acting()) takeoverAt = sim.now;
    });
    expect(takeoverAt!).toBeLessThanOrEqual(10_000 + TIMING.retryPeriodMs);
  });

  it('never lets two contenders act at once: 300 random worlds of 5 contenders with latency, lost answers, crashes, pauses and cut-offs', async () => {
    // Tight margins (renewDeadline only 500 ms short of the lease, answers up to 600 ms late) so
    // that any slack in the rules shows up as two leaders.
    const tight: LeaseTiming = { leaseDurationMs: 3_000, renewDeadlineMs: 2_500, retryPeriodMs: 500 };
    for (let seed = 1; seed <= 300; seed++) {
      const sim = new Sim(seed, 300, 0.05);
      const store = new MemoryStore(sim);
      const contenders = Array.from({ length: 5 }, (_, i) => new Contender(`c${i}`, sim, store, tight));
      for (const c of contenders) sim.at(sim.random() * 3_000, () => void c.loop());
      for (let k = 0; k < 6; k++) {
        const victim = contenders[Math.floor(sim.random() * contenders.length)]!;
        const at = sim.random() * 20_000;
        const fault = sim.random();
        if (fault < 0.3) sim.at(at, () => (victim.crashed = true));
        else if (fault < 0.6) sim.at(at, () => (victim.pausedUntil = at + sim.random() * 6_000));
        else sim.at(at, () => (victim.cutOffUntil = at + sim.random() * 6_000));
      }
      let ledMs = 0;
      let last = 0;
      await sim.runUntil(30_000, () => {
        const acting = contenders.filter((c) => c.acting()).map((c) => c.name);
        if (acting.length > 1) throw new Error(`seed ${seed}: ${acting.join(' and ')} both act at ${sim.now} ms`);
        if (acting.length === 1) ledMs += sim.now - last;
        last = sim.now;
      });
      // Liveness: with someone alive most of the time, there is a leader most of the time.
      if (contenders.some((c) => !c.crashed)) expect(ledMs, `seed ${seed}`).toBeGreaterThan(0);
    }
  });
});
