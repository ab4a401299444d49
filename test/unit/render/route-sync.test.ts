import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ApplyResult } from '../../../src/controllers/routes/load-balancer.js';
import type { RouteTable } from '../../../src/core/routes.js';
import { RouteSync } from '../../../src/controllers/routes/route-sync.js';

const ok: ApplyResult = { changed: true, reloaded: true, degraded: [], durationMs: 1 };

function harness() {
  let version = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  const seen: number[] = [];
  const releases: (() => void)[] = [];
  const apply = vi.fn(async (table: RouteTable) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    seen.push(table.routes.length);
    await new Promise<void>((resolve) => releases.push(resolve));
    inFlight--;
    return ok;
  });
  const getTable = (): RouteTable => ({ routes: Array.from({ length: version }, (_, i) => ({ app: `a${i}`, host: 'h', pathPrefix: '/', servers: [] })) });
  const sync = new RouteSync({ getTable, apply, delayMs: 50 });
  return {
    sync,
    apply,
    seen,
    bump: () => version++,
    release: () => releases.shift()?.(),
    maxInFlight: () => maxInFlight,
  };
}

describe('RouteSync', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('coalesces a burst into one apply of the latest table', async () => {
    const h = harness();
    const results = [h.sync.request(), (h.bump(), h.sync.request()), (h.bump(), h.sync.request())];
    await vi.advanceTimersByTimeAsync(50);
    h.release();
    await expect(Promise.all(results)).resolves.toEqual([ok, ok, ok]);
    expect(h.apply).toHaveBeenCalledTimes(1);
    expect(h.seen).toEqual([2]);
  });

  it('an urgent request cuts the coalescing wait short, also for the requests already waiting', async () => {
    const h = harness();
    const first = h.sync.request();
    await vi.advanceTimersByTimeAsync(10);
    expect(h.apply).not.toHaveBeenCalled();
    const urgent = h.sync.request({ urgent: true });
    await vi.advanceTimersByTimeAsync(0);
    expect(h.apply).toHaveBeenCalledTimes(1);
    h.release();
    await expect(Promise.all([first, urgent])).resolves.toEqual([ok, ok]);
    // The next plain request waits again.
    const later = h.sync.request();
    await vi.advanceTimersByTimeAsync(10);
    expect(h.apply).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(40);
    expect(h.apply).toHaveBeenCalledTimes(2);
    h.release();
    await later;
  });

  it('an urgent request during an apply runs right after it', async () => {
    const h = harness();
    const first = h.sync.request();
    await vi.advanceTimersByTimeAsync(50);
    const urgent = h.sync.request({ urgent: true });
    h.release();
    await first;
    await vi.advanceTimersByTimeAsync(0);
    expect(h.apply).toHaveBeenCalledTimes(2);
    h.release();
    await urgent;
  });

  it('a request during an apply runs once more afterwards, never concurrently', async () => {
    const h = harness();
    const first = h.sync.request();
    await vi.advanceTimersByTimeAsync(50);
    expect(h.apply).toHaveBeenCalledTimes(1);
    h.bump();
    let secondDone = false;
    const second = h.sync.request().then((r) => ((secondDone = true), r));
    const third = h.sync.request();
    await vi.advanceTimersByTimeAsync(200);
    expect(h.apply).toHaveBeenCalledTimes(1); // still waiting for the first
    h.release();
    await first;
    expect(secondDone).toBe(false); // the first apply started before this request
    await vi.advanceTimersByTimeAsync(50);
    expect(h.apply).toHaveBeenCalledTimes(2);
    h.release();
    await Promise.all([second, third]);
    expect(h.seen).toEqual([0, 1]);
    expect(h.maxInFlight()).toBe(1);
  });

  it('rejects the waiters of a failed apply and keeps working', async () => {
    const apply = vi.fn().mockRejectedValueOnce(new Error('nginx gone')).mockResolvedValue(ok);
    const sync = new RouteSync({ getTable: () => ({ routes: [] }), apply, delayMs: 10 });
    const failed = sync.request();
    const assertion = expect(failed).rejects.toThrow('nginx gone');
    await vi.advanceTimersByTimeAsync(10);
    await assertion;
    const next = sync.request();
    await vi.advanceTimersByTimeAsync(10);
    await expect(next).resolves.toEqual(ok);
  });

  it('close rejects pending requests', async () => {
    const h = harness();
    const pending = h.sync.request();
    h.sync.close();
    await expect(pending).rejects.toThrow('closed');
    await expect(h.sync.request()).rejects.toThrow('closed');
  });
});
