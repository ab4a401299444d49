// The oracle: the physical limit of any policy under the simulator's model. With perfect foresight
// and replicas ready exactly when needed, each second runs the fewest replicas (within the app's
// min/max) whose p95 meets the objective. Its replica-seconds are the floor no policy can beat.
// When no count within max meets the objective (the service time alone is above it, or max is too
// small), it runs the fewest replicas at which no request waits (the best latency the app can
// have), capped at max; those seconds count as over the objective for every policy.

import type { ScalingSpec } from '../manifest/types.js';
import { queueWait, stepQueue } from './queue-model.js';
import { capacityOf, ResultTally, type ReplicaModel, type SimulationResult } from './simulate.js';
import type { TracePoint } from './trace.js';

export interface OracleOptions extends ReplicaModel {
  spec: Pick<ScalingSpec, 'minReplicas' | 'maxReplicas'>;
  trace: readonly TracePoint[];
  sloMs: number;
}

export const ORACLE_POLICY = 'oracle';

/** The fewest replicas in [min, max] for one second (see the file comment). */
export function oracleReplicas(point: TracePoint, options: Omit<OracleOptions, 'trace'>): number {
  const { minReplicas, maxReplicas } = options.spec;
  if (point.arrivalsPerSecond <= 0) return minReplicas;
  for (let n = Math.max(1, minReplicas); n <= maxReplicas; n++) {
    const capacity = capacityOf(n, point, options);
    if (stepQueue(0, point.arrivalsPerSecond, point.serviceTimeMs, capacity).latencyMs <= options.sloMs) return n;
  }
  for (let n = Math.max(1, minReplicas); n <= maxReplicas; n++) {
    if (queueWait(point.arrivalsPerSecond, capacityOf(n, point, options)).p95Ms === 0) return n;
  }
  return maxReplicas;
}

export function runOracle(options: OracleOptions): SimulationResult {
  const { trace } = options;
  const first = trace[0];
  const tally = new ResultTally(ORACLE_POLICY, trace.length, first ? oracleReplicas(first, options) : options.spec.minReplicas, options.sloMs);
  let backlog = 0;
  let previous: number | undefined;
  for (const point of trace) {
    const n = oracleReplicas(point, options);
    if (previous !== undefined) tally.change(point.second, previous, n, 'perfect foresight');
    previous = n;
    const outcome = stepQueue(backlog, point.arrivalsPerSecond, point.serviceTimeMs, capacityOf(n, point, options));
    backlog = outcome.backlog;
    tally.second(n, outcome);
  }
  return tally.finish();
}
