// An app's status and events after one container pass, as data (statusAfterPass, passEvents).
import { describe, expect, it } from 'vitest';
import { autoscalingStart, passEvents, statusAfterPass, type PassOutcome } from '../../../src/controllers/containers/app-status.js';
import type { ExecuteResult } from '../../../src/controllers/containers/container-executor.js';
import type { ContainerAction } from '../../../src/controllers/containers/plan-containers.js';
import { EnvMissingError, ImagePullFailedError, NetworkUnavailableError, UnsupportedByRuntimeError } from '../../../src/errors.js';
import type { AppSpec, LoadedApp } from '../../../src/manifest/types.js';
import { validateManifest } from '../../../src/manifest/validate-manifest.js';
import type { AppStatus, Condition } from '../../../src/store/status-model.js';
import { minimal } from '../manifest/fixtures.js';

const NOW = new Date('2024-05-01T10:00:00Z');

function spec(over: Partial<AppSpec> = {}): AppSpec {
  return { ...validateManifest(minimal('web', 'img:v1')).manifest!.spec, replicas: 2, ...over };
}

function loaded(over: Partial<AppSpec> = {}): LoadedApp {
  return { file: '/m/web.yaml', manifest: { apiVersion: 'v1', kind: 'App', metadata: { name: 'web' }, spec: spec(over) } } as LoadedApp;
}

function before(over: Partial<AppStatus> = {}): AppStatus {
  return {
    name: 'web',
    generation: 1,
    observedGeneration: 1,
    phase: 'Progressing',
    conditions: [],
    replicas: { desired: 2, ready: 0, updated: 0 },
    instances: [],
    spec: spec(),
    file: '/m/web.yaml',
    createdAt: 'then',
    updatedAt: 'then',
    ...over,
  };
}

function result(over: Partial<ExecuteResult> = {}): ExecuteResult {
  return { created: [], removed: [], draining: [], errors: [], ...over };
}

function executed(over: Partial<Extract<PassOutcome, { kind: 'executed' }>> = {}): PassOutcome {
  return {
    kind: 'executed',
    loaded: loaded(),
    revision: 'rev1',
    replicas: 2,
    plan: { actions: [], converged: true },
    result: result(),
    instances: [],
    live: 2,
    serving: 2,
    updated: 2,
    ...over,
  };
}

function stalled(over: Partial<Extract<PassOutcome, { kind: 'stalled' }>> = {}): PassOutcome {
  return { kind: 'stalled', loaded: loaded(), error: new EnvMissingError('web', 'TOKEN', 'WEB_TOKEN'), instances: [], live: 2, serving: 2, updated: 0, ...over };
}

const condition = (status: AppStatus, type: string): Condition | undefined => status.conditions.find((c) => c.type === type);
const cond = (type: string, status: Condition['status'], reason: string): Condition => ({ type, status, reason, message: '', lastTransitionTime: 'then' });

describe('statusAfterPass', () => {
  const rows: { name: string; before?: AppStatus; outcome: PassOutcome; phase: AppStatus['phase']; ready: [Condition['status'], string]; progressing?: string }[] = [
    { name: 'converged and every replica serving: Running', outcome: executed(), phase: 'Running', ready: ['True', 'ReplicasReady'], progressing: 'Converged' },
    {
      name: 'replicas starting: Progressing, not ready',
      outcome: executed({ plan: { actions: [], converged: false }, serving: 0 }),
      phase: 'Progressing',
      ready: ['False', 'ReplicasNotReady'],
      progressing: 'ReplicasChanging',
    },
    {
      name: 'healthy but not routed yet counts as not ready (serving decides)',
      outcome: executed({ serving: 1 }),
      phase: 'Progressing',
      ready: ['False', 'ReplicasNotReady'],
    },
    {
      name: 'image cannot be pulled and nothing serves: Failed',
      outcome: executed({ plan: { actions: [], converged: false }, serving: 0, live: 0, result: result({ errors: [new ImagePullFailedError('img:v1', 'no registry')] }) }),
      phase: 'Failed',
      ready: ['False', 'ImagePullFailed'],
    },
    {
      name: 'image cannot be pulled but the old replicas serve: Degraded',
      outcome: executed({ plan: { actions: [], converged: false }, serving: 1, result: result({ errors: [new ImagePullFailedError('img:v1', 'no registry')] }) }),
      phase: 'Degraded',
      ready: ['False', 'ImagePullFailed'],
    },
    {
      name: 'the replica network cannot be had but the old replicas serve: Degraded',
      outcome: executed({ plan: { actions: [], converged: false }, serving: 1, result: result({ errors: [new NetworkUnavailableError('autoserve', 'not ours')] }) }),
      phase: 'Degraded',
      ready: ['False', 'NetworkUnavailable'],
    },
    {
      name: 'the runtime cannot do what the shape asks and nothing serves: Failed',
      outcome: executed({ plan: { actions: [], converged: false }, serving: 0, live: 0, result: result({ errors: [new UnsupportedByRuntimeError('swarm', 'spec.network.isolated', 'one overlay')] }) }),
      phase: 'Failed',
      ready: ['False', 'UnsupportedByRuntime'],
    },
    {
      name: 'rollout halted, old revision serving: Degraded',
      outcome: executed({
        plan: { actions: [{ kind: 'haltRollout', revision: 'rev1', reason: 'deadline exceeded' }], converged: false },
        result: result({ haltedRevision: 'rev1' }),
        updated: 0,
      }),
      phase: 'Degraded',
      ready: ['True', 'ReplicasReady'],
      progressing: 'RolloutHalted',
    },
    {
      name: 'down with nothing live: Stopped',
      outcome: executed({ loaded: loaded({ state: 'down' }), replicas: 0, live: 0, serving: 0, updated: 0 }),
      phase: 'Stopped',
      ready: ['True', 'ReplicasReady'],
    },
    {
      name: 'down with replicas still live: Progressing',
      outcome: executed({ loaded: loaded({ state: 'down' }), replicas: 0, live: 1, serving: 1, plan: { actions: [], converged: false } }),
      phase: 'Progressing',
      ready: ['False', 'ReplicasNotReady'],
    },
    {
      name: 'lost a contested route: Degraded although converged',
      before: before({ conditions: [cond('RouteConflict', 'True', 'HostPathClaimed')] }),
      outcome: executed(),
      phase: 'Degraded',
      ready: ['True', 'ReplicasReady'],
    },
    {
      name: 'holding a contested route is not a fault: Running',
      before: before({ conditions: [cond('RouteConflict', 'True', 'HoldsContestedRoute')] }),
      outcome: executed(),
      phase: 'Running',
      ready: ['True', 'ReplicasReady'],
    },
    {
      name: 'a missing env value stalls a new app: Failed, with its own condition',
      outcome: stalled({ live: 0, serving: 0 }),
      phase: 'Failed',
      ready: ['False', 'EnvValueMissing'],
    },
    {
      name: 'a missing env value stalls an app whose last good revision still serves: Degraded, not Failed',
      outcome: stalled(),
      phase: 'Degraded',
      ready: ['False', 'EnvValueMissing'],
    },
    {
      name: 'a halted rollout whose old revision serves at full count: Degraded, Progressing False RolloutHalted',
      before: before({ haltedRevision: 'rev1', stable: { revision: 'rev0', spec: spec() } }),
      outcome: executed({ updated: 0 }),
      phase: 'Degraded',
      ready: ['True', 'ReplicasReady'],
      progressing: 'RolloutHalted',
    },
  ];
  for (const row of rows) {
    it(row.name, () => {
      const prior = row.before ?? before();
      const frozen = structuredClone(prior);
      const after = statusAfterPass(prior, row.outcome, NOW);
      expect(prior).toEqual(frozen); // the status before is data, never changed
      expect(after.phase).toBe(row.phase);
      expect([condition(after, 'Ready')?.status, condition(after, 'Ready')?.reason]).toEqual(row.ready);
      if (row.progressing) expect(condition(after, 'Progressing')?.reason).toBe(row.progressing);
      expect(after.observedGeneration).toBe(after.generation);
    });
  }

  it('records counts, revision and instances; a changed spec bumps the generation once', () => {
    const instances = [{ id: 'c1', name: 'web-0', revision: 'rev1', slot: 0, state: 'running', health: 'ready', draining: false, hostPort: 32000, startedAt: 'x' }];
    const changed = executed({ loaded: loaded({ replicas: 3 }), replicas: 3, serving: 1, updated: 1, instances });
    const after = statusAfterPass(before(), changed, NOW);
    expect(after).toMatchObject({ generation: 2, observedGeneration: 2, containerRevision: 'rev1', replicas: { desired: 3, ready: 1, updated: 1 }, instances });
    expect(statusAfterPass(after, changed, NOW).generation).toBe(2);
  });

  it('clears a failure to create (pull, network, runtime) once a replica is created or the app converges, and a halt once the revision changes', () => {
    const failed = statusAfterPass(before(), executed({ result: result({ errors: [new ImagePullFailedError('img:v1', 'x')] }), plan: { actions: [], converged: false } }), NOW);
    expect(condition(failed, 'ImagePullFailed')?.status).toBe('True');
    const recovered = statusAfterPass(failed, executed({ result: result({ created: ['web-1'] }), plan: { actions: [], converged: false } }), NOW);
    expect(condition(recovered, 'ImagePullFailed')).toBeUndefined();
    const unsupported = statusAfterPass(before(), executed({ result: result({ errors: [new UnsupportedByRuntimeError('swarm', 'spec.ports[].publish', 'w')] }), plan: { actions: [], converged: false } }), NOW);
    expect(condition(unsupported, 'UnsupportedByRuntime')).toMatchObject({ status: 'True', message: expect.stringContaining('spec.ports[].publish') });
    expect(condition(statusAfterPass(unsupported, executed(), NOW), 'UnsupportedByRuntime')).toBeUndefined(); // converged (the manifest changed back)

    const halted = statusAfterPass(before(), executed({ result: result({ haltedRevision: 'rev1' }), plan: { actions: [{ kind: 'haltRollout', revision: 'rev1', reason: 'r' }], converged: false } }), NOW);
    expect(halted.haltedRevision).toBe('rev1');
    expect(condition(halted, 'RolloutFailed')?.status).toBe('True');
    const next = statusAfterPass(halted, executed({ revision: 'rev2' }), NOW);
    expect(next.haltedRevision).toBeUndefined();
    expect(condition(next, 'RolloutFailed')).toBeUndefined();
  });

  it('a condition keeps its transition time while its status stays', () => {
    const first = statusAfterPass(before(), executed(), NOW);
    const later = statusAfterPass(first, executed(), new Date('2024-05-01T11:00:00Z'));
    expect(condition(later, 'Ready')?.lastTransitionTime).toBe(NOW.toISOString());
  });
});

describe('passEvents', () => {
  it('drift first, then each removal and halt, then one Created line, then each failure', () => {
    const actions: ContainerAction[] = [
      { kind: 'create', revision: 'rev1', slot: 1, reason: 'replace dead replica' },
      { kind: 'remove', id: 'a', name: 'web-a', drain: true, reason: 'scale down' },
      { kind: 'remove', id: 'b', name: 'web-b', drain: false, reason: 'exited' },
      { kind: 'haltRollout', revision: 'rev1', reason: 'deadline exceeded' },
    ];
    const outcome = executed({
      plan: { actions, converged: false },
      result: result({ created: ['web-1'], errors: [new Error('boom')] }),
      drift: { created: 1, removed: 0 },
    });
    expect(passEvents('web', outcome).map((e) => `${e.type} ${e.reason}: ${e.message}`)).toEqual([
      'Warning DriftCorrected: replicas were changed outside AutoServe; recreating 1 missing to match the manifest',
      'Normal Draining: web-a: scale down',
      'Normal Removed: web-b: exited',
      'Warning RolloutFailed: deadline exceeded',
      'Normal Created: replace dead replica: started web-1',
      'Warning ActionFailed: boom',
    ]);
  });

  it('a stalled pass is one warning named by its reason; a quiet pass has none', () => {
    expect(passEvents('web', stalled())).toEqual([expect.objectContaining({ app: 'web', type: 'Warning', reason: 'EnvValueMissing' })]);
    expect(passEvents('web', executed())).toEqual([]);
  });

  it('remembers the last converged revision and its spec (what a halted rollout falls back to), and the rollout clock', () => {
    const rollout = { revision: 'rev2', startedAtMs: 1, progressAtMs: 2, available: 1 };
    const rolling = statusAfterPass(before(), executed({ plan: { actions: [], converged: false, rollout } }), NOW);
    expect(rolling.rollout).toEqual(rollout);
    expect(rolling.stable).toBeUndefined();
    const done = statusAfterPass(rolling, executed({ revision: 'rev2' }), NOW);
    expect(done.rollout).toBeUndefined();
    expect(done.stable).toEqual({ revision: 'rev2', spec: spec() });
    const halted = statusAfterPass(before({ haltedRevision: 'rev3', stable: done.stable }), executed({ revision: 'rev3' }), NOW);
    expect(halted.stable).toEqual(done.stable); // a halted revision never becomes the fallback
  });

  it('the autoscaler\'s count lives only in auto mode: dropped in manual mode, taken from the desired count when missing', () => {
    const auto = loaded({ scaling: { minReplicas: 1, maxReplicas: 8, policy: { mode: 'auto', cooldownSeconds: 30, cpu: { targetUtilizationPct: 50 } } } });
    expect(statusAfterPass(before(), executed({ loaded: auto, replicas: 5 }), NOW).autoscaledReplicas).toBe(5);
    expect(statusAfterPass(before({ autoscaledReplicas: 7 }), executed({ loaded: auto, replicas: 7 }), NOW).autoscaledReplicas).toBe(7);
    expect(statusAfterPass(before({ autoscaledReplicas: 7 }), executed(), NOW).autoscaledReplicas).toBeUndefined();
  });

  it('autoscalingStart: a count given to running replicas is a scaling record (the cooldown runs from it); a new app or a kept count is not', () => {
    expect(autoscalingStart('web', undefined, 3, 3, NOW)).toEqual({ time: NOW.toISOString(), app: 'web', from: 3, to: 3, reason: 'autoscaling starts from the 3 replica(s) that run', metrics: {} });
    expect(autoscalingStart('web', undefined, 2, 0, NOW)).toBeUndefined(); // a new app: nothing runs yet
    expect(autoscalingStart('web', 3, 3, 3, NOW)).toBeUndefined(); // the count was kept
    expect(autoscalingStart('web', undefined, undefined, 3, NOW)).toBeUndefined(); // manual mode
  });
});

describe('replicas lost with a node (Swarm)', () => {
  const lost = (replica: string, nodeId: string, taskId: string) => ({ replica, node: `host-${nodeId}`, nodeId, taskId });

  it('NodeLost is True while a node that ran replicas is down, naming node and replicas; gone when nothing is lost', () => {
    const down = statusAfterPass(before(), executed({ lost: [lost('web-0', 'n1', 't1'), lost('web-1', 'n1', 't2')] }), NOW);
    expect(condition(down, 'NodeLost')).toMatchObject({ status: 'True', reason: 'NodeDown', message: 'node host-n1 (n1) is down: web-0, web-1 ran there' });
    expect(down.phase).toBe('Running'); // readiness alone decides the phase
    expect(condition(statusAfterPass(down, executed(), NOW), 'NodeLost')).toBeUndefined();
  });

  it('one warning per node for the tasks first seen lost in this pass', () => {
    const outcome = executed({
      lost: [lost('web-0', 'n1', 't1'), lost('web-1', 'n2', 't2'), lost('web-2', 'n1', 't3')],
      newlyLost: [lost('web-0', 'n1', 't1'), lost('web-2', 'n1', 't3'), lost('web-1', 'n2', 't2')],
    });
    expect(passEvents('web', outcome).map((e) => `${e.type} ${e.reason}: ${e.message}`)).toEqual([
      'Warning ReplicasLostWithNode: node host-n1 (n1) is down: web-0, web-2 ran there; Swarm runs them elsewhere',
      'Warning ReplicasLostWithNode: node host-n2 (n2) is down: web-1 ran there; Swarm runs them elsewhere',
    ]);
    expect(passEvents('web', executed({ lost: outcome.kind === 'executed' ? outcome.lost : [] }))).toEqual([]);
  });
});

describe('a standby\'s pass (following)', () => {
  const scaled = loaded({ scaling: { minReplicas: 1, maxReplicas: 10, policy: { mode: 'auto', cooldownSeconds: 0, http: { targetRPSPerReplica: 10, scaleOutThresholdPct: 100, scaleInThresholdPct: 50, windowSeconds: 20 } } } });

  it('remembers the count the leader runs for an autoscaled app, so a takeover goes on from it', () => {
    expect(statusAfterPass(before(), executed({ loaded: scaled, following: true, live: 6 }), NOW).autoscaledReplicas).toBe(6);
    // The leader keeps its desired count (a store without one takes it); its scaler decides from there.
    expect(statusAfterPass(before(), executed({ loaded: scaled, live: 6 }), NOW).autoscaledReplicas).toBe(2); // executed() desires 2
    expect(statusAfterPass(before(), executed({ following: true, live: 6 }), NOW).autoscaledReplicas).toBeUndefined(); // a fixed count stays the manifest's
  });
});
