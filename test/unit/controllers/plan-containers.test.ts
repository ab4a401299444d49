import { describe, expect, it } from 'vitest';
import {
  crashBackoffMs,
  planContainers,
  type ContainerAction,
  type DesiredReplicaSet,
} from '../../../src/controllers/containers/plan-containers.js';
import type { ObservedReplica } from '../../../src/core/replica.js';

const NOW = 1_000_000;

function desired(over: Partial<DesiredReplicaSet> = {}): DesiredReplicaSet {
  return { app: 'web', revision: 'new', replicas: 3, maxSurge: 1, progressDeadlineMs: 60_000, minReadyMs: 0, ...over };
}

let nextId = 0;
function replica(over: Partial<ObservedReplica> = {}): ObservedReplica {
  const id = `c${nextId++}`;
  return { id, name: id, revision: 'new', slot: nextId, running: true, createdAtMs: NOW - 5_000, health: 'ready', readySinceMs: NOW - 4_000, draining: false, ...over };
}

function summary(actions: ContainerAction[]): string[] {
  return actions.map((a) => (a.kind === 'remove' ? `remove:${a.name}${a.drain ? ':drain' : ''}` : a.kind === 'create' ? `create:${a.revision}:${a.slot}` : `halt:${a.revision}`));
}

describe('planContainers', () => {
  it('scale up from nothing creates every replica in distinct slots', () => {
    const plan = planContainers(desired(), [], NOW);
    expect(summary(plan.actions)).toEqual(['create:new:0', 'create:new:1', 'create:new:2']);
    expect(plan.converged).toBe(false);
  });

  it('adopts existing replicas: nothing to do when the count and revision match', () => {
    const observed = [replica({ slot: 0 }), replica({ slot: 1 }), replica({ slot: 2 })];
    const plan = planContainers(desired(), observed, NOW);
    expect(plan.actions).toEqual([]);
    expect(plan.converged).toBe(true);
  });

  it('scale up fills the lowest free slots', () => {
    const plan = planContainers(desired(), [replica({ slot: 1 })], NOW);
    expect(summary(plan.actions)).toEqual(['create:new:0', 'create:new:2']);
  });

  it('scale down removes not-ready replicas first, then the highest slots, draining ready ones', () => {
    const observed = [
      replica({ id: 'a', name: 'a', slot: 0 }),
      replica({ id: 'b', name: 'b', slot: 1 }),
      replica({ id: 'c', name: 'c', slot: 2, health: 'starting' }),
      replica({ id: 'd', name: 'd', slot: 3 }),
    ];
    const plan = planContainers(desired({ replicas: 2 }), observed, NOW);
    expect(summary(plan.actions)).toEqual(['remove:c', 'remove:d:drain']);
  });

  it('replaces a dead replica: the exited one is removed and a new one created', () => {
    const observed = [replica({ slot: 0 }), replica({ id: 'dead', name: 'dead', slot: 1, running: false }), replica({ slot: 2 })];
    const plan = planContainers(desired(), observed, NOW);
    expect(summary(plan.actions)).toEqual(['remove:dead', 'create:new:3']);
  });

  it('replaces a replica that failed its health checks: out of nginx first, no drain wait', () => {
    const observed = [replica({ slot: 0 }), replica({ id: 'sick', name: 'sick', slot: 1, health: 'unhealthy' }), replica({ slot: 2 })];
    const plan = planContainers(desired(), observed, NOW);
    expect(summary(plan.actions)).toEqual(['remove:sick:drain', 'create:new:3']);
    expect(plan.actions[0]).toMatchObject({ skipDrainWait: true });
  });

  it('keeps a replica that is only not ready (busy, out of the rotation): readiness never replaces', () => {
    const observed = [replica({ slot: 0 }), replica({ id: 'busy', name: 'busy', slot: 1, health: 'not-ready' }), replica({ slot: 2 })];
    const plan = planContainers(desired(), observed, NOW);
    expect(plan.actions).toEqual([]);
    expect(plan.converged).toBe(false); // it is watched until it is ready again
  });

  it('scale down removes a not-ready replica before ready ones, without a drain (it is out of the rotation)', () => {
    const observed = [replica({ slot: 0 }), replica({ id: 'busy', name: 'busy', slot: 1, health: 'not-ready' }), replica({ slot: 2 })];
    const plan = planContainers(desired({ replicas: 2 }), observed, NOW);
    expect(summary(plan.actions)).toEqual(['remove:busy']);
  });

  it('a new-revision replica that passed once and is busy now does not halt a rollout past its deadline', () => {
    const observed = [
      replica({ revision: 'old', slot: 0 }), replica({ revision: 'old', slot: 1 }), replica({ revision: 'old', slot: 2 }),
      replica({ id: 'n', name: 'n', slot: 3, health: 'not-ready', createdAtMs: NOW - 120_000 }),
    ];
    const plan = planContainers(desired(), observed, NOW);
    expect(plan.actions.some((a) => a.kind === 'haltRollout')).toBe(false);
  });

  it('ignores draining replicas: they count nowhere and are not removed twice', () => {
    const observed = [replica({ slot: 0 }), replica({ slot: 1 }), replica({ slot: 2 }), replica({ slot: 3, draining: true })];
    const plan = planContainers(desired(), observed, NOW);
    expect(plan.actions).toEqual([]);
    expect(plan.converged).toBe(false); // still waiting for the drain to finish
  });

  it('rolling update surges one new replica first and removes no old one yet', () => {
    const observed = [0, 1, 2].map((slot) => replica({ revision: 'old', slot }));
    const plan = planContainers(desired(), observed, NOW);
    expect(summary(plan.actions)).toEqual(['create:new:3']);
  });

  it('rolling update drains one old replica once a new one is ready (minReadySeconds 0)', () => {
    const observed = [
      replica({ id: 'o0', name: 'o0', revision: 'old', slot: 0 }),
      replica({ id: 'o1', name: 'o1', revision: 'old', slot: 1 }),
      replica({ id: 'o2', name: 'o2', revision: 'old', slot: 2 }),
      replica({ id: 'n3', name: 'n3', slot: 3 }),
    ];
    const plan = planContainers(desired(), observed, NOW);
    expect(summary(plan.actions)).toEqual(['remove:o2:drain']);
  });

  it('rolling update waits while the new replica is still starting', () => {
    const observed = [0, 1, 2].map((slot) => replica({ revision: 'old', slot })).concat(replica({ slot: 3, health: 'starting' }));
    const plan = planContainers(desired(), observed, NOW);
    expect(plan.actions).toEqual([]);
    expect(plan.requeueAfterMs).toBeGreaterThan(0);
  });

  it('rolling update with maxSurge 2 starts two new replicas at once', () => {
    const observed = [0, 1, 2].map((slot) => replica({ revision: 'old', slot }));
    const plan = planContainers(desired({ maxSurge: 2 }), observed, NOW);
    expect(summary(plan.actions)).toEqual(['create:new:3', 'create:new:4']);
  });

  it('halts a rollout that made no progress within the deadline of its start; old ones keep serving', () => {
    const observed = [
      replica({ id: 'o0', name: 'o0', revision: 'old', slot: 0 }),
      replica({ id: 'n1', name: 'n1', slot: 1, health: 'starting', createdAtMs: NOW - 1_000 }),
    ];
    const rollout = { revision: 'new', startedAtMs: NOW - 61_000, progressAtMs: NOW - 61_000, available: 0 };
    const plan = planContainers(desired({ replicas: 1, rollout }), observed, NOW);
    expect(summary(plan.actions)).toEqual(['halt:new', 'remove:n1']);
    expect(plan.rollout).toBeUndefined();
  });

  it('a halted revision is not retried: leftovers go, the old revision stays', () => {
    const observed = [replica({ id: 'o0', name: 'o0', revision: 'old', slot: 0 }), replica({ id: 'n1', name: 'n1', slot: 1, health: 'starting' })];
    const plan = planContainers(desired({ replicas: 1, haltedRevision: 'new' }), observed, NOW);
    expect(summary(plan.actions)).toEqual(['remove:n1']);
    const settled = planContainers(desired({ replicas: 1, haltedRevision: 'new' }), [observed[0]!], NOW);
    expect(settled).toEqual({ actions: [], converged: true });
  });

  it('a halted revision with no old replica left to serve is tried anyway', () => {
    const plan = planContainers(desired({ replicas: 1, haltedRevision: 'new' }), [], NOW);
    expect(summary(plan.actions)).toEqual(['create:new:0']);
  });

  it('prune: zero replicas wanted removes everything, draining the ready ones', () => {
    const observed = [replica({ id: 'a', name: 'a', slot: 0 }), replica({ id: 'b', name: 'b', revision: 'old', slot: 1, health: 'starting' })];
    const plan = planContainers(desired({ replicas: 0 }), observed, NOW);
    expect(summary(plan.actions)).toEqual(['remove:a:drain', 'remove:b']);
  });

  it('crash loop: replacing a replica that died young waits out the backoff', () => {
    const crash = { failures: 3, lastFailureAtMs: NOW - 1_000 };
    const held = planContainers(desired({ replicas: 1 }), [], NOW, crash);
    expect(held.actions).toEqual([]);
    expect(held.requeueAfterMs).toBe(crashBackoffMs(3) - 1_000);
    const later = planContainers(desired({ replicas: 1 }), [], NOW + crashBackoffMs(3), crash);
    expect(summary(later.actions)).toEqual(['create:new:0']);
  });

  it('crash backoff doubles and is capped', () => {
    expect([0, 1, 2, 3, 10].map(crashBackoffMs)).toEqual([0, 1_000, 2_000, 4_000, 60_000]);
  });

  it('failing replicas (readiness) stay; unhealthy ones (liveness) are replaced', () => {
    const observed = [replica({ slot: 0 }), replica({ id: 'busy', name: 'busy', slot: 1, health: 'not-ready' }), replica({ id: 'dead', name: 'dead', slot: 2, health: 'unhealthy' })];
    const plan = planContainers(desired(), observed, NOW);
    expect(summary(plan.actions)).toEqual(['remove:dead:drain', 'create:new:3']);
  });
});

describe('planContainers: rollouts are per rollout, gated by minReadySeconds', () => {
  const olds = () => [0, 1, 2].map((slot) => replica({ id: `o${slot}`, name: `o${slot}`, revision: 'old', slot }));

  it('starts the rollout clock at the first pass that sees old and new together', () => {
    const plan = planContainers(desired(), olds(), NOW);
    expect(plan.rollout).toEqual({ revision: 'new', startedAtMs: NOW, progressAtMs: NOW, available: 0 });
  });

  it('a new replica ready for less than minReadySeconds retires nothing; once available it retires one and is progress', () => {
    const fresh = replica({ id: 'n3', name: 'n3', slot: 3, readySinceMs: NOW - 1_000 });
    const early = planContainers(desired({ minReadyMs: 3_000 }), [...olds(), fresh], NOW);
    expect(early.actions).toEqual([]);
    expect(early.rollout).toMatchObject({ available: 0 });
    const rollout = { revision: 'new', startedAtMs: NOW - 10_000, progressAtMs: NOW - 10_000, available: 0 };
    const later = planContainers(desired({ minReadyMs: 3_000, rollout }), [...olds(), fresh], NOW + 2_000);
    expect(summary(later.actions)).toEqual(['remove:o2:drain']);
    expect(later.rollout).toEqual({ ...rollout, available: 1, progressAtMs: NOW + 2_000 });
  });

  it('a crash-looping revision (each new replica young) fails at the deadline of the rollout, not of each replica', () => {
    const rollout = { revision: 'new', startedAtMs: NOW - 61_000, progressAtMs: NOW - 61_000, available: 0 };
    const young = replica({ id: 'n3', name: 'n3', slot: 3, health: 'starting', createdAtMs: NOW - 2_000 });
    const plan = planContainers(desired({ rollout }), [...olds(), young], NOW);
    expect(summary(plan.actions)).toEqual(['halt:new', 'remove:n3']);
  });

  it('a flapping revision (available once, then its replicas fail and are replaced) fails a deadline after its best', () => {
    const rollout = { revision: 'new', startedAtMs: NOW - 90_000, progressAtMs: NOW - 61_000, available: 1 };
    const again = replica({ id: 'n3', name: 'n3', slot: 3, readySinceMs: NOW - 5_000 }); // available again, but no more than before
    const plan = planContainers(desired({ rollout }), [...olds().slice(0, 2), again], NOW);
    expect(plan.actions[0]).toMatchObject({ kind: 'haltRollout' });
  });

  it('old replicas not ready (starting: adopted after a restart, their first check still to come) stay until new ones serve', () => {
    const adopted = [0, 1].map((slot) => replica({ id: `o${slot}`, name: `o${slot}`, revision: 'old', slot, health: 'starting' }));
    const plan = planContainers(desired({ replicas: 2 }), adopted, NOW);
    expect(summary(plan.actions)).toEqual(['create:new:2']);
    const covered = planContainers(desired({ replicas: 2 }), [...adopted, replica({ id: 'n2', name: 'n2', slot: 2 }), replica({ id: 'n3', name: 'n3', slot: 3 })], NOW);
    expect(summary(covered.actions)).toEqual(['remove:o0', 'remove:o1']);
  });

  it('old replicas failing their checks (out of rotation) are retired before ready ones', () => {
    const observed = [
      replica({ id: 'o0', name: 'o0', revision: 'old', slot: 0 }),
      replica({ id: 'o1', name: 'o1', revision: 'old', slot: 1, health: 'not-ready' }),
      replica({ id: 'o2', name: 'o2', revision: 'old', slot: 2 }),
      replica({ id: 'n3', name: 'n3', slot: 3 }),
      replica({ id: 'n4', name: 'n4', slot: 4 }),
    ];
    const plan = planContainers(desired(), observed, NOW);
    expect(summary(plan.actions)).toEqual(['remove:o1', 'remove:o2:drain']);
  });
});

describe('planContainers: a halted rollout keeps the old revision at full capacity', () => {
  const halted = (over: Partial<DesiredReplicaSet> = {}) => desired({ haltedRevision: 'new', fallbackRevision: 'old', ...over });
  const old = (slot: number, over: Partial<ObservedReplica> = {}) => replica({ id: `o${slot}`, name: `o${slot}`, revision: 'old', slot, ...over });

  it('replaces a dead old replica with one of the old revision', () => {
    const plan = planContainers(halted(), [old(0), old(1), old(2, { running: false })], NOW);
    expect(summary(plan.actions)).toEqual(['remove:o2', 'create:old:3']);
  });

  it('follows a scale change of the manifest while halted, both ways', () => {
    expect(summary(planContainers(halted({ replicas: 5 }), [old(0), old(1), old(2)], NOW).actions)).toEqual(['create:old:3', 'create:old:4']);
    expect(summary(planContainers(halted({ replicas: 1 }), [old(0), old(1), old(2)], NOW).actions)).toEqual(['remove:o2:drain', 'remove:o1:drain']);
  });

  it('is converged at the wanted count of the old revision, and never retries the halted one', () => {
    const plan = planContainers(halted(), [old(0), old(1), old(2)], NOW);
    expect(plan).toEqual({ actions: [], converged: true });
  });

  it('brings the old revision back when none of it is left, keeping a ready new replica until an old one is ready', () => {
    const keptNew = replica({ id: 'n5', name: 'n5', slot: 5 });
    const plan = planContainers(halted({ replicas: 2 }), [keptNew], NOW);
    expect(summary(plan.actions)).toEqual(['create:old:0', 'create:old:1']); // 2 wanted + 1 surge, 1 kept
    const next = planContainers(halted({ replicas: 2 }), [keptNew, old(0), old(1, { health: 'starting' })], NOW);
    expect(summary(next.actions)).toEqual(['remove:n5:drain']);
  });

  it('without a remembered old spec, keeps what runs and creates nothing', () => {
    const plan = planContainers(desired({ haltedRevision: 'new' }), [old(0), old(1, { running: false })], NOW);
    expect(summary(plan.actions)).toEqual(['remove:o1']);
  });
});
