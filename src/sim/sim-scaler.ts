// What the simulator asks of a scaling policy: given the simulated app's state and metric windows,
// how many replicas now. AutoServe's decideReplicas and the HPA baseline both implement it.

import type { ScalingSpec } from '../manifest/types.js';
import { decideReplicas } from '../controllers/scaler/decide-replicas.js';
import type { MetricWindows } from '../controllers/scaler/types.js';

export interface SimView {
  now: number;
  current: number;
  ready: number;
  starting: number;
  windows: MetricWindows;
  lastScaleAtMs?: number;
  controllerStartedAtMs: number;
}

export interface SimScaler {
  name: string;
  /** How often the policy decides. */
  intervalMs: number;
  decide(view: SimView): { replicas: number; reason: string };
}

/** AutoServe's controller decides every 2 s (metrics are scraped every second). */
export const AUTOSERVE_DECISION_INTERVAL_MS = 2_000;

export function createAutoServeScaler(spec: ScalingSpec, specReplicas: number): SimScaler {
  return {
    name: 'autoserve',
    intervalMs: AUTOSERVE_DECISION_INTERVAL_MS,
    decide(view) {
      const decision = decideReplicas({ policy: spec, specReplicas, ...view });
      return { replicas: decision.replicas, reason: decision.reason };
    },
  };
}
