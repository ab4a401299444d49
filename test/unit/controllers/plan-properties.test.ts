// Properties of the container planner over random desired specs and observed worlds (running,
// dead, draining, failing and unhealthy replicas of old and new revisions, halted rollouts, stale
// rollout clocks), and a tiny world model that applies each plan and plans again.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { planContainers, type ContainerPlan, type DesiredReplicaSet } from '../../../src/controllers/containers/plan-containers.js';
import type { ObservedReplica, ReplicaHealth } from '../../../src/core/replica.js';

const NOW = 10_000_000;
const NEW = 'r2';

const desiredArb: fc.Arbitrary<DesiredReplicaSet> = fc
  .record({
    replicas: fc.integer({ min: 0, max: 5 }),
    maxSurge: fc.integer({ min: 1, max: 3 }),
    minReadyMs: fc.constantFrom(0, 1_000, 3_000),
    deadlineSteps: fc.integer({ min: 5, max: 30 }),
    halted: fc.boolean(),
    fallbackRevision: fc.option(fc.constantFrom('r0', 'r1'), { nil: undefined }),
    // A rollout clock either long past its deadline (the first pass halts) or fresh.
    rollout: fc.option(fc.record({ startedAgo: fc.integer({ min: 0, max: 60_000 }), overdue: fc.boolean(), lately: fc.integer({ min: 0, max: 1_000 }), available: fc.integer({ min: 0, max: 3 }) }), { nil: undefined }),
  })
  .map((d) => ({ ...d, progressDeadlineMs: d.minReadyMs + d.deadlineSteps * 1_000 }))
  .map((d) => ({
    app: 'web',
    revision: NEW,
    replicas: d.replicas,
    maxSurge: d.maxSurge,
    minReadyMs: d.minReadyMs,
    // Long enough for a healthy new replica to become available (it is ready one step after its create).
    progressDeadlineMs: d.progressDeadlineMs,
    ...(d.halted ? { haltedRevision: NEW } : {}),
    ...(d.fallbackRevision ? { fallbackRevision: d.fallbackRevision } : {}),
    ...(d.rollout
      ? { rollout: rolloutClock(d.rollout, d.progressDeadlineMs) }
      : {}),
  }));

function rolloutClock(r: { startedAgo: number; overdue: boolean; lately: number; available: number }, deadlineMs: number) {
  const progressAgo = r.overdue ? deadlineMs + 1 + r.lately : r.lately;
  return { revision: NEW, startedAtMs: NOW - Math.max(r.startedAgo, progressAgo), progressAtMs: NOW - progressAgo, available: r.available };
}

const replicaArb = fc.record({
  revision: fc.constantFrom('r0', 'r1', NEW),
  running: fc.boolean().map((dead) => !dead || Math.random() < 0.5), // mostly running
  health: fc.constantFrom<ReplicaHealth>('starting', 'ready', 'ready', 'not-ready', 'unhealthy'),
  draining: fc.constantFrom(false, false, false, true),
  age: fc.integer({ min: 0, max: 120_000 }),
  readyFor: fc.integer({ min: 0, max: 10_000 }),
});

const worldArb: fc.Arbitrary<ObservedReplica[]> = fc
  .uniqueArray(fc.integer({ min: 0, max: 9 }), { maxLength: 8 })
  .chain((slots) => fc.tuple(...slots.map(() => replicaArb)).map((rs) => rs.map((r, i) => replicaOf(slots[i]!, r))));

type ReplicaDraw = typeof replicaArb extends fc.Arbitrary<infer T> ? T : never;

function replicaOf(slot: number, r: ReplicaDraw): ObservedReplica {
  const id = `${r.revision}-${slot}`;
  return {
    id,
    name: id,
    revision: r.revision,
    slot,
    running: r.running,
    createdAtMs: NOW - r.age,
    health: r.health,
    ...(r.health === 'ready' ? { readySinceMs: NOW - r.readyFor } : {}),
    draining: r.draining,
  };
}

const removedIds = (plan: ContainerPlan) => new Set(plan.actions.flatMap((a) => (a.kind === 'remove' ? [a.id] : [])));
const creates = (plan: ContainerPlan) => plan.actions.filter((a) => a.kind === 'create').length;
const isServingCandidate = (r: ObservedReplica) => r.running && !r.draining && r.health === 'ready';

describe('planContainers properties (one step, any world)', () => {
  it('never creates beyond replicas + maxSurge live replicas', () => {
    fc.assert(
      fc.property(desiredArb, worldArb, (desired, world) => {
        const plan = planContainers(desired, world, NOW);
        if (creates(plan) === 0) return;
        const removed = removedIds(plan);
        const staying = world.filter((r) => r.running && !r.draining && !removed.has(r.id));
        expect(staying.length + creates(plan)).toBeLessThanOrEqual(desired.replicas + desired.maxSurge);
      }),
      { numRuns: 2_000 },
    );
  });

  it('never removes the last ready replica while replicas are wanted', () => {
    fc.assert(
      fc.property(desiredArb, worldArb, (desired, world) => {
        fc.pre(desired.replicas > 0 && world.some(isServingCandidate));
        const removed = removedIds(planContainers(desired, world, NOW));
        expect(world.filter((r) => isServingCandidate(r) && !removed.has(r.id)).length).toBeGreaterThan(0);
      }),
      { numRuns: 2_000 },
    );
  });

  it('keeps min(ready before, replicas) ready replicas, not counting those of a halted revision', () => {
    fc.assert(
      fc.property(desiredArb, worldArb, (desired, world) => {
        const plan = planContainers(desired, world, NOW);
        const haltedNow = plan.actions.some((a) => a.kind === 'haltRollout');
        const halted = haltedNow ? NEW : desired.haltedRevision;
        const counted = (r: ObservedReplica) => isServingCandidate(r) && r.revision !== halted;
        const removed = removedIds(plan);
        const before = world.filter(counted).length;
        const after = world.filter((r) => counted(r) && !removed.has(r.id)).length;
        expect(after).toBeGreaterThanOrEqual(Math.min(before, desired.replicas));
      }),
      { numRuns: 2_000 },
    );
  });

  it('never removes a replica twice, nor one that is already draining', () => {
    fc.assert(
      fc.property(desiredArb, worldArb, (desired, world) => {
        const ids = planContainers(desired, world, NOW).actions.flatMap((a) => (a.kind === 'remove' ? [a.id] : []));
        expect(new Set(ids).size).toBe(ids.length);
        for (const id of ids) expect(world.find((r) => r.id === id)?.draining).toBe(false);
      }),
      { numRuns: 1_000 },
    );
  });
});

/**
 * The world model: each step plans, applies the actions (a create is a new starting replica, a
 * drain a draining one, a remove is gone), remembers what the store would (halt, rollout clock),
 * then lets a second pass: starting and failing replicas turn ready, drains finish.
 */
function run(desired: DesiredReplicaSet, initial: ObservedReplica[], maxSteps = 80) {
  let world = initial.map((r) => ({ ...r }));
  let now = NOW;
  let halted = desired.haltedRevision;
  let rollout = desired.rollout;
  const created = new Set<string>();
  const undone: string[] = [];
  let quiet = 0;
  for (let step = 0; step < maxSteps; step++) {
    const plan = planContainers({ ...desired, haltedRevision: halted, rollout }, world, now);
    if (plan.converged) return { converged: true, world, halted, undone, created };
    quiet = plan.actions.length === 0 ? quiet + 1 : 0;
    if (quiet >= 20) return { converged: false, world, halted, undone, created };
    for (const action of plan.actions) {
      if (action.kind === 'create') {
        const id = `new-${step}-${action.slot}`;
        world.push({ id, name: id, revision: action.revision, slot: action.slot, running: true, createdAtMs: now, health: 'starting', draining: false });
        created.add(id);
      } else if (action.kind === 'remove') {
        if (created.has(action.id)) undone.push(`${action.name}: ${action.reason}`);
        world = action.drain ? world.map((r) => (r.id === action.id ? { ...r, draining: true } : r)) : world.filter((r) => r.id !== action.id);
      } else {
        halted = action.revision;
      }
    }
    rollout = plan.rollout;
    now += 1_000;
    world = world
      .filter((r) => !r.draining)
      .map((r) => (r.running && (r.health === 'starting' || r.health === 'not-ready') ? { ...r, health: 'ready' as const, readySinceMs: now } : r));
  }
  return { converged: false, world, halted, undone, created };
}

describe('planContainers in a world model (apply, advance, plan again)', () => {
  it('converges in a healthy world without undoing its own actions', () => {
    fc.assert(
      fc.property(desiredArb, worldArb, (arbitrary, world) => {
        // A healthy rollout of a few replicas takes some steps: give the deadline room, unless the
        // clock is meant to be overdue.
        const overdue = arbitrary.rollout !== undefined && NOW - arbitrary.rollout.progressAtMs > arbitrary.progressDeadlineMs;
        const desired = overdue ? arbitrary : { ...arbitrary, progressDeadlineMs: 120_000 };
        const end = run(desired, world);
        // A rollout clock already past its deadline may halt (and remove the new revision) as soon
        // as an old replica is ready to fall back to; anything else undone is ping-pong.
        if (!overdue) expect(end.undone).toEqual([]);
        else expect(end.undone.every((u) => u.endsWith('rollout halted'))).toBe(true);
        const haltHolds = end.halted === NEW && end.world.some((r) => r.running && r.revision !== NEW);
        if (!end.converged) {
          // Only a halted rollout with no remembered old spec may rest short of the count: it
          // keeps what runs and creates nothing.
          expect(haltHolds && desired.fallbackRevision === undefined).toBe(true);
          return;
        }
        const live = end.world.filter((r) => r.running && !r.draining);
        expect(live).toHaveLength(desired.replicas);
        expect(live.every((r) => r.health === 'ready')).toBe(true);
        const onNew = live.filter((r) => r.revision === NEW).length;
        if (end.halted !== NEW) expect(onNew).toBe(live.length);
        // Halted: the others serve; the halted revision is retried only when nothing else is left to serve.
        else if (desired.fallbackRevision !== undefined) expect(onNew).toBe(0);
        else expect([0, live.length]).toContain(onNew);
      }),
      { numRuns: 1_000 },
    );
  });

  it('a converged world stays converged (no action on a second look)', () => {
    fc.assert(
      fc.property(desiredArb, worldArb, (desired, world) => {
        const end = run(desired, world);
        fc.pre(end.converged);
        const again = planContainers({ ...desired, haltedRevision: end.halted, rollout: undefined }, end.world, NOW + 1_000_000);
        expect(again.actions).toEqual([]);
      }),
      { numRuns: 500 },
    );
  });
});
