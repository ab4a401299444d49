// The simulator's model of one app for one second (docs/autoscaling.md, "The model"):
//  - the ready replicas pool their workers: `replicas x concurrencyPerReplica` servers, each
//    serving one request at a time in `serviceTimeMs` (nginx spreads requests over every replica,
//    so a request waits only when every worker is busy);
//  - the p95 is the service time plus the 95th percentile of the queueing wait of an M/M/c queue
//    (Erlang C: P(wait > t) = C(c, a) x exp(-(c mu - lambda) t)), capped at LATENCY_CAP_FACTOR
//    service times as utilization nears 1;
//  - requests beyond capacity join a backlog, served first in later seconds, and add its drain
//    time; requests that would wait longer than QUEUE_TIMEOUT_SECONDS are dropped (a client or
//    nginx timeout). The backlog stays with the replicas that queued it (a new replica takes new
//    arrivals, never queued ones), so it drains on their capacity only (bench/calibrate.ts);
//  - requests in flight by Little's law: arrivals x mean latency, plus the backlog.

/** The queueing wait alone never exceeds this many service times (the M/M/c wait's pole at utilization 1). */
export const LATENCY_CAP_FACTOR = 20;
/** Requests that would wait longer than this are dropped. */
export const QUEUE_TIMEOUT_SECONDS = 30;
/** The percentile the model reports (and the objective is judged on). */
const PERCENTILE = 0.95;

export interface QueueCapacity {
  /** Workers across the ready replicas (replicas x requests one replica serves at once). */
  servers: number;
  /** Requests per second one worker completes. */
  serverRps: number;
}

export interface SecondOutcome {
  served: number;
  /** Requests still queued at the end of the second. */
  backlog: number;
  dropped: number;
  /** served / capacity, 0..1 (1 when there is no capacity): what each replica's CPU shows. */
  utilization: number;
  /** The second's p95 latency. */
  latencyMs: number;
  /** Requests in flight (Little's law), queued ones included. */
  concurrency: number;
}

/**
 * Serves one second. `backlog` is what the previous second left queued; `arrivals` the requests
 * arriving in this one. Pure; never throws for finite, non-negative inputs.
 */
export function stepQueue(backlog: number, arrivals: number, serviceTimeMs: number, capacity: QueueCapacity, backlogShare = 1): SecondOutcome {
  const work = backlog + arrivals;
  const capacityRps = capacity.servers * capacity.serverRps;
  if (capacityRps <= 0) {
    // Nothing can serve: everything waits until the timeout and is then dropped.
    return { served: 0, backlog: 0, dropped: work, utilization: 1, latencyMs: QUEUE_TIMEOUT_SECONDS * 1000, concurrency: arrivals * QUEUE_TIMEOUT_SECONDS };
  }
  // A backlog stays with the replicas that queued it: nginx spreads new arrivals over every ready
  // replica but never moves a queued request to a new one. Those replicas (`backlogShare` of the
  // capacity) serve the backlog and their share of the arrivals; the others only their share.
  const share = Math.min(1, Math.max(0, backlogShare));
  const owned = Math.min(backlog + share * arrivals, share * capacityRps);
  const others = Math.min((1 - share) * arrivals, (1 - share) * capacityRps);
  const served = backlog > 0 && share < 1 ? owned + others : Math.min(work, capacityRps);
  const queued = work - served;
  // The capacity that drains the backlog: its owners' while one exists, else every replica's.
  const drainRps = capacityRps * (backlog > 0 && share > 0 ? share : 1);
  const dropped = Math.max(0, queued - drainRps * QUEUE_TIMEOUT_SECONDS);
  const left = queued - dropped;
  const wait = queueWait(arrivals, capacity);
  const capMs = LATENCY_CAP_FACTOR * serviceTimeMs;
  const drainMs = (left / drainRps) * 1000;
  const latencyMs = serviceTimeMs + Math.min(wait.p95Ms, capMs) + drainMs;
  // In the system: this second's requests in service or waiting (Little's law), plus the backlog.
  const inSystem = (arrivals * (serviceTimeMs + Math.min(wait.meanMs, capMs))) / 1000 + left;
  return { served, backlog: left, dropped, utilization: served / capacityRps, latencyMs, concurrency: inSystem };
}

/** The p95 latency of `arrivals` per second on `capacity` with no backlog: what the oracle asks of a count. */
export function steadyP95Ms(arrivals: number, serviceTimeMs: number, capacity: QueueCapacity): number {
  return stepQueue(0, arrivals, serviceTimeMs, capacity).latencyMs;
}

/**
 * The M/M/c queueing wait (ms) for `arrivals` per second: its mean and its 95th percentile.
 * Infinite at or past saturation.
 */
export function queueWait(arrivals: number, capacity: QueueCapacity): { meanMs: number; p95Ms: number } {
  const { servers, serverRps } = capacity;
  if (arrivals <= 0) return { meanMs: 0, p95Ms: 0 };
  const spare = servers * serverRps - arrivals; // c mu - lambda
  if (spare <= 0) return { meanMs: Infinity, p95Ms: Infinity };
  const waitProbability = erlangC(servers, arrivals / serverRps);
  const meanMs = (waitProbability / spare) * 1000;
  const tail = 1 - PERCENTILE;
  const p95Ms = waitProbability <= tail ? 0 : (Math.log(waitProbability / tail) / spare) * 1000;
  return { meanMs, p95Ms };
}

/**
 * Erlang C: the probability that an arrival waits, for `servers` servers and `offered` erlangs
 * (offered < servers). Computed through the Erlang B recurrence, which stays stable for large counts.
 */
export function erlangC(servers: number, offered: number): number {
  const c = Math.max(1, Math.round(servers));
  let blocking = 1;
  for (let k = 1; k <= c; k++) blocking = (offered * blocking) / (k + offered * blocking);
  const rho = offered / c;
  return blocking / (1 - rho * (1 - blocking));
}
