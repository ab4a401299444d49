import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { rolloutProgress } from '../../../src/store/rollout-progress.js';
import type { AppStatus, Condition, InstanceStatus } from '../../../src/store/status-model.js';
import { appStatus, instanceStatus } from '../../support/app-status.js';

const NOW = '2024-05-01T10:00:00.000Z';

const replica = (revision: string, extra: Partial<InstanceStatus> = {}) => instanceStatus(`id-${Math.random()}`, revision, extra);

function condition(type: string, reason = type, status: Condition['status'] = 'True'): Condition {
  return { type, status, reason, message: `${type} says why`, lastTransitionTime: NOW };
}

function app(over: Partial<AppStatus> = {}): AppStatus {
  return appStatus('web', {
    conditions: [condition('Ready', 'ReplicasReady')],
    replicas: { desired: 2, ready: 2, updated: 2 },
    instances: [replica('new'), replica('new')],
    containerRevision: 'new',
    spec: { state: 'up' } as AppStatus['spec'],
    ...over,
  });
}

describe('rolloutProgress', () => {
  it.each<[string, Partial<AppStatus>, string, RegExp]>([
    ['converged on the current revision', {}, 'complete', /successfully rolled out: revision new, 2\/2 replicas ready/],
    ['new replicas not created yet', { replicas: { desired: 3, ready: 2, updated: 2 } }, 'progressing', /2 of 3 new replicas have been updated/],
    ['old replica still running', { instances: [replica('new'), replica('new'), replica('old', { draining: true })] }, 'progressing', /1 old replica\(s\) pending termination/],
    ['new replicas not ready yet', { replicas: { desired: 2, ready: 1, updated: 2 } }, 'progressing', /1 of 2 updated replicas are ready/],
    ['exited old replica does not hold it', { instances: [replica('new'), replica('new'), replica('old', { state: 'exited' })] }, 'complete', /successfully/],
    ['not reconciled yet', { containerRevision: undefined }, 'progressing', /waiting for the controller/],
    ['generation not observed yet', { generation: 2, observedGeneration: 1 }, 'progressing', /waiting for the controller/],
    ['phase not Running', { phase: 'Degraded' }, 'progressing', /phase is Degraded/],
    ['rollout halted', { conditions: [condition('RolloutFailed', 'ProgressDeadlineExceeded')] }, 'failed', /^RolloutFailed \(ProgressDeadlineExceeded\): RolloutFailed says why$/],
    ['manifest invalid', { conditions: [condition('ManifestInvalid')] }, 'failed', /ManifestInvalid/],
    ['image missing', { conditions: [condition('ImagePullFailed')] }, 'failed', /ImagePullFailed/],
    ['route lost to another app', { conditions: [condition('RouteConflict', 'HostPathClaimed')] }, 'failed', /HostPathClaimed/],
    ['holding a contested route is fine', { conditions: [condition('RouteConflict', 'HoldsContestedRoute')] }, 'complete', /successfully/],
    ['a False RolloutFailed is fine', { conditions: [condition('RolloutFailed', 'x', 'False')] }, 'complete', /successfully/],
    ['down and stopped', { spec: { state: 'down' } as AppStatus['spec'], phase: 'Stopped', instances: [], replicas: { desired: 0, ready: 0, updated: 0 } }, 'complete', /stopped/],
    ['down, still stopping', { spec: { state: 'down' } as AppStatus['spec'], replicas: { desired: 0, ready: 1, updated: 0 } }, 'progressing', /stopping: 2 replica/],
  ])('%s', (_name, over, state, message) => {
    const p = rolloutProgress(app(over));
    expect(p.state).toBe(state);
    expect(p.message).toMatch(message);
  });

  it('with a commit, waits until the app names it (a prefix is enough)', () => {
    const at = (commit: string) => app({ revision: { commit, message: 'm', time: NOW } });
    expect(rolloutProgress(at('aaaa1111'), 'bbbb').message).toMatch(/waiting for commit bbbb to be applied \(the app is at commit aaaa1111\)/);
    expect(rolloutProgress(app(), 'bbbb').message).toMatch(/no commit yet/);
    expect(rolloutProgress(at('bbbb2222'), 'bbbb').state).toBe('complete');
  });

  it('never says complete while fewer replicas are ready or updated than desired, or an old one runs (property)', () => {
    fc.assert(
      fc.property(
        fc.nat(5), fc.nat(5), fc.nat(5),
        fc.array(fc.record({ revision: fc.constantFrom('new', 'old'), state: fc.constantFrom('running', 'exited') }), { maxLength: 6 }),
        fc.constantFrom<AppStatus['phase']>('Running', 'Progressing', 'Degraded'),
        (desired, ready, updated, instances, phase) => {
          const p = rolloutProgress(app({ phase, replicas: { desired, ready, updated }, instances: instances.map((i) => replica(i.revision, { state: i.state })) }));
          if (p.state !== 'complete') return;
          expect(ready).toBeGreaterThanOrEqual(desired);
          expect(updated).toBeGreaterThanOrEqual(desired);
          expect(instances.some((i) => i.revision === 'old' && i.state === 'running')).toBe(false);
          expect(phase).toBe('Running');
        },
      ),
    );
  });
});
