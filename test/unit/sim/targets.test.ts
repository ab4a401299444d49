import { describe, expect, it } from 'vitest';
import { describeVerdict, judgeTargets, type SimulationResult } from '../../../src/sim/index.js';

const row = (policy: string, secondsOverSlo: number, replicaSeconds: number, directionChanges: number): SimulationResult => ({
  policy, secondsOverSlo, replicaSeconds, directionChanges, seconds: 600, maxReplicas: 0, requestsDropped: 0, changes: [], replicasPerSecond: [], p95PerSecond: [],
});

describe('judgeTargets', () => {
  const baselines = [row('hpa', 40, 4000, 0), row('kpa', 15, 3700, 20), row('oracle', 0, 2600, 40)];

  it('met: no more seconds over than the better baseline, replica-seconds within max(hpa, 1.2 x oracle), at most hpa + 2 direction changes', () => {
    const v = judgeTargets([row('autoserve', 15, 4000, 2), ...baselines])!;
    expect(v.met).toBe(true);
    expect(v.checks.map((c) => c.limit)).toEqual([15, 4000, 2]);
    expect(describeVerdict(v)).toBe('met');
  });

  it('1.2 x oracle is the replica-seconds limit when the HPA under-provisions', () => {
    const v = judgeTargets([row('autoserve', 0, 3100, 0), row('hpa', 250, 1800, 0), row('kpa', 250, 1800, 0), row('oracle', 0, 2600, 1)])!;
    expect(v.checks[1]).toMatchObject({ limit: 3120, met: true });
  });

  it('says what missed', () => {
    const v = judgeTargets([row('autoserve', 16, 4001, 3), ...baselines]);
    expect(describeVerdict(v)).toBe('missed: over SLO 16 > 15, replica-s 4001 > 4000, dir. changes 3 > 2');
  });

  it('needs every row', () => {
    expect(judgeTargets([row('autoserve', 0, 1, 0), row('hpa', 0, 1, 0)])).toBeUndefined();
    expect(describeVerdict(undefined)).toBe('n/a');
  });
});
