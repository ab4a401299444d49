// Send schedules for LoadGenerator's `sendAtMs`: when request i is due, in ms after the start.
// Poisson arrivals (what the simulator's queue model assumes, and what many independent clients
// look like) and a per-second trace replay. Deterministic: seeded.
import { seededRandom } from '../../src/sim/synthetic-traces.js';

/** Exponential gaps at `ratePerSec` on average: request i is due at the sum of i gaps. */
export function poissonArrivals(ratePerSec: number, seed = 1): (index: number) => number {
  const random = seededRandom(seed);
  const times: number[] = [];
  let t = 0;
  return (index) => {
    while (times.length <= index) {
      t += (-Math.log(1 - random()) / ratePerSec) * 1000;
      times.push(t);
    }
    return times[index]!;
  };
}

/**
 * `perSecond[s]` requests in second s, at Poisson times within it (the count is the trace's, the
 * spacing random); Infinity after the last second.
 */
export function traceArrivals(perSecond: readonly number[], seed = 1): { sendAtMs: (index: number) => number; secondOf: (index: number) => number; total: number } {
  const random = seededRandom(seed);
  const times: number[] = [];
  const seconds: number[] = [];
  perSecond.forEach((count, s) => {
    const n = Math.max(0, Math.round(count));
    const within = Array.from({ length: n }, () => random()).sort((a, b) => a - b);
    for (const u of within) {
      times.push((s + u) * 1000);
      seconds.push(s);
    }
  });
  return { sendAtMs: (i) => times[i] ?? Infinity, secondOf: (i) => seconds[i] ?? -1, total: times.length };
}
