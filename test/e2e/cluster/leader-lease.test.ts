// The leader lease against real Swarm state: a single-node swarm on a private test node (never the
// shared dockerd). Two or more contenders with short timings; exactly one leads, a standby takes
// over when the leader stops renewing, and concurrent attempts never yield two leaders.
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SwarmConfigLeaseStore } from '../../../src/runtime/swarm/config-lease-store.js';
import { LeaderLease, type LeaseTiming } from '../../../src/runtime/swarm/leader-lease.js';
import { eventually } from '../../support/eventually.js';
import { createTestCluster, testNodesUnsupported, type TestCluster } from '../../support/test-node/test-cluster.js';

const unsupported = await testNodesUnsupported();
const TIMING: LeaseTiming = { leaseDurationMs: 3_000, renewDeadlineMs: 2_000, retryPeriodMs: 500 };
const SAMPLE_MS = 10;

describe.skipIf(unsupported)('leader lease in Swarm state', () => {
  let cluster: TestCluster;
  let socketPath: string;
  let lease = 0;

  beforeAll(async () => {
    cluster = await createTestCluster({ swarm: true, purpose: 'e2e leader-lease' });
    socketPath = cluster.node(0).plan.dockerSocket;
  });
  afterAll(async () => {
    await cluster?.destroy();
  });

  /** A contender with its own client (as a second controller process would have). */
  function contender(name: string, leaseName: string): LeaderLease {
    return new LeaderLease({ store: new SwarmConfigLeaseStore(new Docker({ socketPath }), leaseName), identity: name, timing: TIMING });
  }

  /** A contender whose process can be "killed": from then on it reaches no manager, and writes nothing (not even a release). */
  function killableContender(name: string, leaseName: string) {
    const store = new SwarmConfigLeaseStore(new Docker({ socketPath }), leaseName);
    let dead = false;
    const writes = { lastResolvedAt: 0 };
    const guard = <T>(op: () => Promise<T>) => (dead ? Promise.reject(new Error(`${name} is dead`)) : op());
    const written = async <T>(op: () => Promise<T>) => {
      const result = await guard(op);
      writes.lastResolvedAt = Date.now();
      return result;
    };
    const lease = new LeaderLease({
      store: { read: () => guard(() => store.read()), create: (r) => written(() => store.create(r)), replace: (v, r) => written(() => store.replace(v, r)) },
      identity: name,
      timing: TIMING,
    });
    return { lease, writes, kill: () => (dead = true) };
  }

  /** Samples isLeader() of every contender until stopped; fails on any instant with two. */
  function watchForTwoLeaders(contenders: LeaderLease[]) {
    const overlaps: string[] = [];
    const timer = setInterval(() => {
      const leaders = contenders.filter((c) => c.isLeader()).map((c) => c.identity);
      if (leaders.length > 1) overlaps.push(`${new Date().toISOString()} ${leaders.join(' + ')}`);
    }, SAMPLE_MS);
    return { stop: () => clearInterval(timer), overlaps };
  }

  it('two contenders: exactly one leads and the other names it; the standby takes over once the leader stops renewing', async () => {
    const name = `lease-${++lease}`;
    const killable = { a: killableContender('a', name), b: killableContender('b', name) };
    const a = killable.a.lease;
    const b = killable.b.lease;
    const watch = watchForTwoLeaders([a, b]);
    const runA = new AbortController();
    const runB = new AbortController();
    const leaders: string[] = [];
    const loops = [
      a.run(runA.signal, { onStartedLeading: () => leaders.push('a') }),
      b.run(runB.signal, { onStartedLeading: () => leaders.push('b') }),
    ];
    try {
      const first = await eventually(() => {
        expect([a.isLeader(), b.isLeader()].filter(Boolean)).toHaveLength(1);
        return a.isLeader() ? a : b;
      }, { timeoutMs: 10_000 });
      const standby = first === a ? b : a;
      await eventually(() => expect(standby.holder()).toBe(first.identity), { timeoutMs: 5_000 });

      // The leader "dies" (kill -9): it writes nothing more, not even a release.
      const stoppedAt = Date.now();
      const dying = killable[first === a ? 'a' : 'b'];
      dying.kill();
      await eventually(() => expect(standby.isLeader()).toBe(true), { timeoutMs: 15_000, intervalMs: 20 });
      const takeoverMs = Date.now() - stoppedAt;
      const sinceLastRenewalMs = Date.now() - dying.writes.lastResolvedAt;
      console.log(`lease takeover after the leader stopped renewing: ${takeoverMs} ms, ${sinceLastRenewalMs} ms after its last renewal (lease ${TIMING.leaseDurationMs} ms, retry ${TIMING.retryPeriodMs} ms)`);
      // Never before the lease has run out since the last renewal was written (less the time its
      // answer took to come back, which a slow disk or a busy manager stretches), and not long after.
      expect(sinceLastRenewalMs).toBeGreaterThanOrEqual(TIMING.leaseDurationMs - 250);
      expect(takeoverMs).toBeLessThanOrEqual(TIMING.leaseDurationMs + 2 * TIMING.retryPeriodMs + 3_000);
      expect(leaders).toEqual([first.identity, standby.identity]);
    } finally {
      runA.abort();
      runB.abort();
      await Promise.all(loops);
      watch.stop();
    }
    expect(watch.overlaps).toEqual([]);
  });

  it('a leader that releases hands over at the standby\'s next retry', async () => {
    const name = `lease-${++lease}`;
    const a = contender('a', name);
    const b = contender('b', name);
    expect(await a.tryAcquireOrRenew()).toBe(true);
    expect(await b.tryAcquireOrRenew()).toBe(false);
    await a.release();
    expect(a.isLeader()).toBe(false);
    expect(await b.tryAcquireOrRenew()).toBe(true);
  });

  it('concurrent attempts on a free lease: exactly one winner every time, and the store counts each change of hands', async () => {
    const name = `lease-${++lease}`;
    const contenders = Array.from({ length: 5 }, (_, i) => contender(`c${i}`, name));
    const watch = watchForTwoLeaders(contenders);
    const rounds = 8;
    try {
      for (let round = 0; round < rounds; round++) {
        const results = await Promise.all(contenders.map((c) => c.tryAcquireOrRenew()));
        expect(results.filter(Boolean), `round ${round}`).toHaveLength(1);
        const winner = contenders[results.indexOf(true)]!;
        // Everyone else tries again while the winner holds it: nobody else wins.
        const again = await Promise.all(contenders.filter((c) => c !== winner).map((c) => c.tryAcquireOrRenew()));
        expect(again.some(Boolean)).toBe(false);
        await winner.release();
      }
    } finally {
      watch.stop();
    }
    expect(watch.overlaps).toEqual([]);
    const config = (await new Docker({ socketPath }).getConfig(name).inspect()) as unknown as { Spec: { Labels: Record<string, string> } };
    expect(config.Spec.Labels['autoserve.lease.transitions']).toBe(String(rounds));
    expect(config.Spec.Labels['autoserve.lease.holder']).toBe('');
  });
});
