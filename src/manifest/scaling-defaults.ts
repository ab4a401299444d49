// The scaling policy's defaults, in one place: the schema fills them into every manifest, and the
// autoscaler falls back on them for a policy built by hand (tests, the simulator's callers).

/** The seed's documented defaults: scale out above 80 % of target, in below 30 %, over 20 s, 30 s apart. */
export const DEFAULT_SCALE_OUT_THRESHOLD_PCT = 80;
export const DEFAULT_SCALE_IN_THRESHOLD_PCT = 30;
export const DEFAULT_WINDOW_SECONDS = 20;
export const DEFAULT_COOLDOWN_SECONDS = 30;

/**
 * Scale-in stabilization for load that has only gone down: 60 s, the stable window of Knative's
 * autoscaler. Longer than a short dip (periodic load at a 90 s period dips for 30 s).
 */
export const DEFAULT_STABILIZATION_SECONDS = 60;
/** Scale-in stabilization once the load has come back after a dip: 300 s, the Kubernetes HPA's default. */
export const DEFAULT_RECURRING_STABILIZATION_SECONDS = 300;
/** The panic (fast path) window: 6 s, Knative's (10 % of its 60 s stable window). */
export const DEFAULT_PANIC_WINDOW_SECONDS = 6;
/** Panic when the panic window asks for 200 % of the ready replicas: Knative's panic threshold. */
export const DEFAULT_PANIC_THRESHOLD_PCT = 200;
