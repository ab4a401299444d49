// AppStatus records for tests that read status (formatting, rollout progress, the history loop):
// a Running app with 2 desired replicas and no instances; `extra` overrides any field.
import type { AppStatus, InstanceStatus } from '../../src/store/status-model.js';

export function appStatus(name: string, extra: Partial<AppStatus> = {}): AppStatus {
  return {
    name,
    generation: 1,
    observedGeneration: 1,
    phase: 'Running',
    conditions: [],
    replicas: { desired: 2, ready: 1, updated: 2 },
    instances: [],
    createdAt: '2024-05-01T11:00:00Z',
    updatedAt: '2024-05-01T11:00:00Z',
    ...extra,
  };
}

/** A running, ready replica of `revision`; `extra` overrides any field. */
export function instanceStatus(id: string, revision = 'r1', extra: Partial<InstanceStatus> = {}): InstanceStatus {
  return { id, name: `r-${id}`, revision, slot: 0, state: 'running', health: 'ready', draining: false, startedAt: '2024-05-01T11:00:00Z', ...extra };
}
