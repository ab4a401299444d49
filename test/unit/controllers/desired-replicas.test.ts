// How many replicas an app should run: the manifest, the autoscaler's count, or (an autoscaled app
// the store lost its count for) what runs.
import { describe, expect, it } from 'vitest';
import { desiredReplicaCount } from '../../../src/controllers/containers/desired-replicas.js';
import type { AppSpec } from '../../../src/manifest/types.js';
import { validateManifest } from '../../../src/manifest/validate-manifest.js';
import { minimal } from '../manifest/fixtures.js';

const base = validateManifest(minimal('web')).manifest!.spec;
const auto: AppSpec = { ...base, replicas: 2, scaling: { minReplicas: 1, maxReplicas: 6, policy: { mode: 'auto', cooldownSeconds: 30, cpu: { targetUtilizationPct: 50 } } } };
const manual: AppSpec = { ...auto, scaling: { ...auto.scaling!, policy: { ...auto.scaling!.policy, mode: 'manual' } } };
const running = (revision: string, n: number, alive = true) => Array.from({ length: n }, () => ({ revision, running: alive }));

describe('desiredReplicaCount', () => {
  const rows: { name: string; spec: AppSpec; autoscaled?: number; live?: { revision: string; running: boolean }[]; want: number }[] = [
    { name: 'no scaling block: spec.replicas', spec: { ...base, replicas: 3 }, autoscaled: 9, want: 3 },
    { name: 'down: 0', spec: { ...auto, state: 'down' }, autoscaled: 4, want: 0 },
    { name: 'manual mode: spec.replicas, whatever the autoscaler said before', spec: manual, autoscaled: 5, want: 2 },
    { name: 'auto: the autoscaler\'s count', spec: auto, autoscaled: 5, want: 5 },
    { name: 'auto: the autoscaler\'s count, clamped to maxReplicas', spec: auto, autoscaled: 9, want: 6 },
    { name: 'auto, no stored count, nothing runs: spec.replicas', spec: auto, live: [], want: 2 },
    { name: 'auto, no stored count (store lost): what runs, never a scale in', spec: auto, live: running('a', 5), want: 5 },
    { name: 'auto, no stored count, mid-rollout: the largest revision, not old + new', spec: auto, live: [...running('a', 4), ...running('b', 1)], want: 4 },
    { name: 'auto, no stored count: exited replicas do not count', spec: auto, live: [...running('a', 3), ...running('a', 2, false)], want: 3 },
  ];
  for (const row of rows) it(row.name, () => expect(desiredReplicaCount(row.spec, row.autoscaled, row.live)).toBe(row.want));
});
