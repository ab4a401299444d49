// How many replicas a load needs at a per-replica target: the one formula every rule that sizes a
// rate (panic, scale out, the recommendations scale in is stabilized on) shares.

/**
 * A rate metric within 10 % of its target holds the count (the Kubernetes HPA's tolerance): noise
 * around a multiple of the target must not add a replica.
 */
export const TOLERANCE = 0.1;

/**
 * The fewest replicas that carry `load` with none more than the tolerance past its target:
 * ceil(load / (target x 1.1)). `load` is the app total (rps, connections) or utilization x replicas.
 */
export function formulaReplicas(load: number, target: number): number {
  // A tiny epsilon keeps float noise (4 x 0.66 x 100 / 60) from adding a replica.
  return Math.max(0, Math.ceil(load / (target * (1 + TOLERANCE)) - 1e-9));
}
