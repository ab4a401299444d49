import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { erlangC, queueWait, steadyP95Ms, stepQueue } from '../../../src/sim/queue-model.js';

const workers = (servers: number, serviceTimeMs = 50) => ({ servers, serverRps: 1000 / serviceTimeMs });

describe('Erlang C', () => {
  it('one server: the probability of waiting is the utilization (M/M/1)', () => {
    expect(erlangC(1, 0.6)).toBeCloseTo(0.6);
  });

  it('two servers at one erlang: 1/3', () => {
    expect(erlangC(2, 1)).toBeCloseTo(1 / 3);
  });

  it('M/M/1 p95 wait = ln(rho / 0.05) / (mu - lambda)', () => {
    // mu = 20/s, lambda = 15/s: rho 0.75
    expect(queueWait(15, workers(1)).p95Ms).toBeCloseTo((Math.log(0.75 / 0.05) / 5) * 1000);
    expect(queueWait(15, workers(1)).meanMs).toBeCloseTo((0.75 / 5) * 1000);
  });

  it('no wait below the 5 % line, infinite at saturation', () => {
    expect(queueWait(1, workers(8)).p95Ms).toBe(0);
    expect(queueWait(160, workers(8)).p95Ms).toBe(Infinity);
  });
});

describe('stepQueue', () => {
  it('under capacity: no backlog, the p95 is the service time plus the queueing wait', () => {
    const o = stepQueue(0, 120, 50, workers(8)); // 2 replicas x 4 workers, 160 rps capacity
    expect(o.backlog).toBe(0);
    expect(o.utilization).toBeCloseTo(0.75);
    expect(o.latencyMs).toBeGreaterThan(50);
    expect(o.latencyMs).toBeCloseTo(50 + queueWait(120, workers(8)).p95Ms);
  });

  it('pooled workers: 120 rps at 150 ms needs 6 replicas of 4 workers for a 200 ms p95, not 18', () => {
    expect(steadyP95Ms(120, 150, workers(24, 150))).toBeLessThan(200);
    expect(steadyP95Ms(120, 150, workers(20, 150))).toBeGreaterThan(200);
  });

  it('over capacity: the backlog grows and adds its drain time', () => {
    const o = stepQueue(0, 150, 50, workers(5)); // 100 rps capacity
    expect(o.served).toBe(100);
    expect(o.backlog).toBe(50);
    expect(o.latencyMs).toBeCloseTo(50 + 20 * 50 + 500);
    expect(o.concurrency).toBeGreaterThan(50);
  });

  it('a backlog drains only on the replicas that hold it: new ones take a share of the arrivals, not the queue', () => {
    // 4 replicas (16 workers, 320 rps); the backlog of 400 sits at the 1 replica that was ready when it formed.
    const pooled = stepQueue(400, 200, 50, workers(16));
    const owned = stepQueue(400, 200, 50, workers(16), 0.25);
    expect(pooled.backlog).toBe(280); // 600 of work, 320 served
    expect(owned.backlog).toBe(400 + 50 - 80); // its 80 rps serve the queue and its quarter of the arrivals
    expect(owned.latencyMs).toBeGreaterThan(pooled.latencyMs);
    expect(stepQueue(0, 200, 50, workers(16), 0.25)).toEqual(stepQueue(0, 200, 50, workers(16))); // no backlog: no owners
  });

  it('drops what would wait past the timeout; no capacity drops everything', () => {
    expect(stepQueue(3000, 200, 50, workers(5)).dropped).toBe(100); // 3100 queued, room for 30 s x 100
    expect(stepQueue(0, 10, 50, workers(0))).toMatchObject({ served: 0, dropped: 10, backlog: 0 });
  });

  it('property: more workers never make the p95 worse, and it never goes below the service time', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 200 }), fc.integer({ min: 0, max: 2000 }), fc.integer({ min: 1, max: 500 }), fc.integer({ min: 0, max: 5000 }), (servers, arrivals, st, backlog) => {
        const fewer = stepQueue(backlog, arrivals, st, workers(servers, st));
        const more = stepQueue(backlog, arrivals, st, workers(servers + 1, st));
        expect(more.latencyMs).toBeLessThanOrEqual(fewer.latencyMs + 1e-9);
        expect(fewer.latencyMs).toBeGreaterThanOrEqual(st);
        expect(fewer.served + fewer.backlog + fewer.dropped).toBeCloseTo(backlog + arrivals);
      }),
    );
  });
});
