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
  return { app: 'web', revision: 'new', replicas: 3, maxSurge: 1, progressDeadlineMs: 60_000, ...over };
}

let nextId = 0;
function replica(over: Partial<ObservedReplica> = {}): ObservedReplica {
  const id = `c${nextId++}`;
  return { id, name: id, revision: 'new', slot: nextId, running: true, createdAtMs: NOW - 5_000, health: 'ready', draining: false, ...over };
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

  it('rolling update drains one old replica once a new one is ready', () => {
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

  it('halts a rollout whose new replicas miss the progress deadline; old ones keep serving', () => {
    const observed = [
      replica({ id: 'o0', name: 'o0', revision: 'old', slot: 0 }),
      replica({ id: 'n1', name: 'n1', slot: 1, health: 'starting', createdAtMs: NOW - 61_000 }),
    ];
    const plan = planContainers(desired({ replicas: 1 }), observed, NOW);
    expect(summary(plan.actions)).toEqual(['halt:new', 'remove:n1']);
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
});
