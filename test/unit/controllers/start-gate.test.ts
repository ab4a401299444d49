// The start gate: never more starts at once than its limit; waiting starts go lowest priority
// first (an app without replicas before another app's second), ties in arrival order; an aborted
// wait leaves the queue and the others still run.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StartGate } from '../../../src/controllers/containers/start-gate.js';

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}
const tick = () => new Promise((r) => setImmediate(r));

describe('StartGate', () => {
  it('after an outage every app gets its first replica before any app its second', async () => {
    const gate = new StartGate(1);
    const order: string[] = [];
    const blocker = deferred();
    const first = gate.run(0, () => blocker.promise);
    // Two apps with no live replica ask for 3 starts each: priorities 0, 1, 2.
    const runs = ['a', 'b'].flatMap((app) => [0, 1, 2].map((i) => gate.run(i, async () => void order.push(`${app}${i}`))));
    blocker.resolve();
    await Promise.all([first, ...runs]);
    expect(order).toEqual(['a0', 'b0', 'a1', 'b1', 'a2', 'b2']);
  });

  it('an aborted wait rejects with the reason and frees nothing it did not hold', async () => {
    const gate = new StartGate(1);
    const blocker = deferred();
    const held = gate.run(0, () => blocker.promise);
    const abort = new AbortController();
    const waiting = gate.run(0, async () => 'never', abort.signal);
    abort.abort(new Error('stopping'));
    await expect(waiting).rejects.toThrow('stopping');
    const after = gate.run(5, async () => 'ran');
    blocker.resolve();
    await held;
    await expect(after).resolves.toBe('ran');
  });

  it('property: never more than the limit at once, and every start runs once', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 4 }), fc.array(fc.record({ priority: fc.integer({ min: 0, max: 5 }), fails: fc.boolean() }), { maxLength: 30 }), async (limit, starts) => {
        const gate = new StartGate(limit);
        let running = 0;
        let most = 0;
        let ran = 0;
        const all = starts.map(({ priority, fails }) =>
          gate
            .run(priority, async () => {
              running++;
              most = Math.max(most, running);
              await tick();
              running--;
              ran++;
              if (fails) throw new Error('start failed');
            })
            .catch(() => undefined),
        );
        await Promise.all(all);
        expect(most).toBeLessThanOrEqual(limit);
        expect(ran).toBe(starts.length);
      }),
      { numRuns: 100 },
    );
  });
});
