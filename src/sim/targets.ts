// The benchmark's targets for AutoServe's row on one trace (issue 12, docs/autoscaling.md):
//  - seconds over the objective: no more than the better baseline (HPA-like or KPA-like);
//  - replica-seconds: no more than the larger of the HPA-like baseline's and 1.2 x the oracle's
//    (the HPA-like baseline under-provisions when latency, not the rate, is what rises);
//  - direction changes: at most 2 more than the HPA-like baseline.

import type { SimulationResult } from './simulate.js';

export const ORACLE_SLACK = 1.2;
export const EXTRA_DIRECTION_CHANGES = 2;

export interface TargetCheck {
  name: 'secondsOverSlo' | 'replicaSeconds' | 'directionChanges';
  value: number;
  limit: number;
  met: boolean;
}

export interface TargetVerdict {
  met: boolean;
  checks: TargetCheck[];
}

/** Judges the `autoserve` row against `hpa`, `kpa` and `oracle`; undefined when one of them is missing. */
export function judgeTargets(results: readonly SimulationResult[]): TargetVerdict | undefined {
  const row = (policy: string) => results.find((r) => r.policy === policy);
  const [autoserve, hpa, kpa, oracle] = ['autoserve', 'hpa', 'kpa', 'oracle'].map(row);
  if (!autoserve || !hpa || !kpa || !oracle) return undefined;
  const check = (name: TargetCheck['name'], value: number, limit: number): TargetCheck => ({ name, value, limit, met: value <= limit });
  const checks = [
    check('secondsOverSlo', autoserve.secondsOverSlo, Math.min(hpa.secondsOverSlo, kpa.secondsOverSlo)),
    check('replicaSeconds', autoserve.replicaSeconds, Math.max(hpa.replicaSeconds, Math.round(ORACLE_SLACK * oracle.replicaSeconds))),
    check('directionChanges', autoserve.directionChanges, hpa.directionChanges + EXTRA_DIRECTION_CHANGES),
  ];
  return { met: checks.every((c) => c.met), checks };
}

/** "met", or what missed: "replica-seconds 4100 > 3984". */
export function describeVerdict(verdict: TargetVerdict | undefined): string {
  if (!verdict) return 'n/a';
  if (verdict.met) return 'met';
  const label = { secondsOverSlo: 'over SLO', replicaSeconds: 'replica-s', directionChanges: 'dir. changes' } as const;
  return `missed: ${verdict.checks.filter((c) => !c.met).map((c) => `${label[c.name]} ${c.value} > ${c.limit}`).join(', ')}`;
}
