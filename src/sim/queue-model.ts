// The simulator's model of one app for one second: ready replicas serve requests, the rest queue.
// Deliberately simple (docs/autoscaling.md, "The simulator's model"):
//  - capacity = ready replicas x per-replica capacity (rps);
//  - requests beyond capacity join a backlog, served first in later seconds; requests that would
//    wait longer than QUEUE_TIMEOUT_SECONDS are dropped (a client or nginx timeout);
//  - latency = service_time / (1 - utilization), capped at LATENCY_CAP_FACTOR x service_time (an
//    M/M/1-like curve for the pooled replicas), plus the time to drain the backlog; the simulator
//    reports it as the p95;
//  - concurrency (in flight) by Little's law: arrivals x latency.

/** Latency never exceeds this many service times from utilization alone (the 1/(1-u) curve's pole). */
export const LATENCY_CAP_FACTOR = 20;
/** Requests that would wait longer than this are dropped. */
export const QUEUE_TIMEOUT_SECONDS = 30;

export interface SecondOutcome {
  served: number;
  /** Requests still queued at the end of the second. */
  backlog: number;
  dropped: number;
  /** served / capacity, 0..1 (1 when there is no capacity). */
  utilization: number;
  latencyMs: number;
  /** Requests in flight (Little's law). */
  concurrency: number;
}

export function stepQueue(backlog: number, arrivals: number, serviceTimeMs: number, capacityRps: number): SecondOutcome {
  const work = backlog + arrivals;
  if (capacityRps <= 0) {
    // Nothing can serve: everything waits until the timeout and is then dropped.
    const latencyMs = QUEUE_TIMEOUT_SECONDS * 1000;
    return { served: 0, backlog: 0, dropped: work, utilization: 1, latencyMs, concurrency: arrivals * QUEUE_TIMEOUT_SECONDS };
  }
  const served = Math.min(work, capacityRps);
  const queued = work - served;
  const maxQueue = capacityRps * QUEUE_TIMEOUT_SECONDS;
  const dropped = Math.max(0, queued - maxQueue);
  const left = queued - dropped;
  const utilization = served / capacityRps;
  const serviceLatency = serviceTimeMs / Math.max(1 - utilization, 1 / LATENCY_CAP_FACTOR);
  const latencyMs = serviceLatency + (left / capacityRps) * 1000;
  return { served, backlog: left, dropped, utilization, latencyMs, concurrency: (arrivals * latencyMs) / 1000 };
}
