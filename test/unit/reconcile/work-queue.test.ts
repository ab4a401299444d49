import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { WorkQueue, type WorkErrorEvent, type Worker } from '../../../src/reconcile/work-queue.js';

/** A worker whose passes the test finishes by hand: `release(key)` resolves the oldest open pass. */
function controlledWorker() {
  const calls: string[] = [];
  const open: Array<{ key: string; resolve: () => void; reject: (e: unknown) => void; signal: AbortSignal }> = [];
  const worker: Worker = (key, signal) => {
    calls.push(key);
    return new Promise<void>((resolve, reject) => open.push({ key, resolve, reject, signal }));
  };
  const take = (key: string) => {
    const i = open.findIndex((p) => p.key === key);
    const pass = open[i];
    if (!pass) throw new Error(`no open pass for ${key}`);
    open.splice(i, 1);
    return pass;
  };
  return {
    worker,
    calls,
    open,
    release: (key: string) => take(key).resolve(),
    fail: (key: string, error: unknown = new Error('boom')) => take(key).reject(error),
  };
}

/** Lets promise callbacks (the queue's bookkeeping after a pass) run. */
const settle = () => vi.advanceTimersByTimeAsync(0);

describe('WorkQueue', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('collapses duplicate adds of a waiting key', async () => {
    const w = controlledWorker();
    const q = new WorkQueue({ worker: w.worker, concurrency: 1 });
    q.add('busy');
    q.add('a');
    q.add('a');
    q.add('a');
    await settle();
    w.release('busy');
    await settle();
    w.release('a');
    await settle();
    expect(w.calls).toEqual(['busy', 'a']);
    expect(q.stats()).toEqual({ waiting: 0, inFlight: 0, delayed: 0 });
  });

  it('never runs one key twice at once, and runs it exactly once more after adds during flight', async () => {
    const w = controlledWorker();
    const q = new WorkQueue({ worker: w.worker, concurrency: 4 });
    q.add('a');
    await settle();
    q.add('a');
    q.add('a');
    await settle();
    expect(w.open.map((p) => p.key)).toEqual(['a']);
    w.release('a');
    await settle();
    expect(w.calls).toEqual(['a', 'a']);
    w.release('a');
    await settle();
    expect(w.calls).toEqual(['a', 'a']);
    await expect(q.onIdle()).resolves.toBeUndefined();
  });

  it('runs different keys in parallel up to the concurrency limit, in order', async () => {
    const w = controlledWorker();
    const q = new WorkQueue({ worker: w.worker, concurrency: 2 });
    for (const key of ['a', 'b', 'c', 'd']) q.add(key);
    await settle();
    expect(w.calls).toEqual(['a', 'b']);
    expect(q.stats()).toMatchObject({ waiting: 2, inFlight: 2 });
    w.release('b');
    await settle();
    expect(w.calls).toEqual(['a', 'b', 'c']);
    w.release('a');
    w.release('c');
    await settle();
    expect(w.calls).toEqual(['a', 'b', 'c', 'd']);
  });

  it('retries a throwing worker with growing, capped backoff and resets it after a clean pass', async () => {
    const errors: WorkErrorEvent[] = [];
    let failing = true;
    const calls: number[] = [];
    const q = new WorkQueue({
      worker: async () => {
        calls.push(Date.now());
        if (failing) throw new Error('docker down');
      },
      baseBackoffMs: 100,
      maxBackoffMs: 500,
      jitter: 0,
      onError: (e) => errors.push(e),
    });
    q.add('a');
    await vi.advanceTimersByTimeAsync(100 + 200 + 400 + 500 + 500);
    expect(errors.map((e) => [e.attempt, e.delayMs])).toEqual([
      [1, 100],
      [2, 200],
      [3, 400],
      [4, 500],
      [5, 500],
      [6, 500],
    ]);
    expect(errors[0]?.key).toBe('a');
    expect(errors[0]?.error).toBeInstanceOf(Error);
    expect(q.failureCount('a')).toBe(6);

    failing = false;
    await vi.advanceTimersByTimeAsync(500);
    expect(q.failureCount('a')).toBe(0);
    expect(q.stats().delayed).toBe(0);

    failing = true;
    q.add('a');
    await settle();
    expect(errors.at(-1)).toMatchObject({ attempt: 1, delayMs: 100 });
    await q.stop();
  });

  it('applies jitter below the capped delay', async () => {
    const errors: WorkErrorEvent[] = [];
    const q = new WorkQueue({
      worker: async () => {
        throw new Error('x');
      },
      baseBackoffMs: 1000,
      jitter: 0.2,
      random: () => 0.5,
      onError: (e) => errors.push(e),
    });
    q.add('a');
    await settle();
    expect(errors[0]?.delayMs).toBe(900);
    await q.stop();
  });

  it('folds an add during a failed pass into the backoff retry', async () => {
    const w = controlledWorker();
    const q = new WorkQueue({ worker: w.worker, baseBackoffMs: 1000, jitter: 0 });
    q.add('a');
    await settle();
    q.add('a');
    w.fail('a');
    await settle();
    expect(w.calls).toEqual(['a']);
    await vi.advanceTimersByTimeAsync(999);
    expect(w.calls).toEqual(['a']);
    await vi.advanceTimersByTimeAsync(1);
    expect(w.calls).toEqual(['a', 'a']);
    w.release('a');
    await settle();
    expect(w.calls).toEqual(['a', 'a']);
  });

  it('add() during a backoff wait runs the key now', async () => {
    const w = controlledWorker();
    const q = new WorkQueue({ worker: w.worker, baseBackoffMs: 10_000, jitter: 0 });
    q.add('a');
    await settle();
    w.fail('a');
    await settle();
    q.add('a');
    await settle();
    expect(w.calls).toEqual(['a', 'a']);
    w.release('a');
    await vi.advanceTimersByTimeAsync(20_000);
    expect(w.calls).toEqual(['a', 'a']);
  });

  it('resync() leaves a key in its backoff wait alone; the retry still comes', async () => {
    const w = controlledWorker();
    const q = new WorkQueue({ worker: w.worker, baseBackoffMs: 10_000, jitter: 0 });
    q.add('a');
    await settle();
    w.fail('a');
    await settle();
    q.resync(['a', 'b']);
    await settle();
    expect(w.calls).toEqual(['a', 'b']);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(w.calls).toEqual(['a', 'b', 'a']);
  });

  it('forgiveFailures(): a resync runs keys in backoff at once, and the next failure waits the base delay', async () => {
    const w = controlledWorker();
    const errors: WorkErrorEvent[] = [];
    const q = new WorkQueue({ worker: w.worker, baseBackoffMs: 1_000, maxBackoffMs: 60_000, jitter: 0, onError: (e) => errors.push(e) });
    q.add('a');
    for (let i = 0; i < 6; i++) {
      await settle();
      w.fail('a');
      await settle();
      await vi.advanceTimersByTimeAsync(errors.at(-1)!.delayMs!);
    }
    await settle();
    w.fail('a');
    await settle();
    expect(errors.at(-1)!.delayMs).toBe(60_000); // the outage left a long backoff
    q.forgiveFailures();
    q.resync(['a']);
    await settle();
    expect(w.calls).toHaveLength(8); // ran at once, not after 60 s
    w.fail('a');
    await settle();
    expect(errors.at(-1)).toMatchObject({ attempt: 1, delayMs: 1_000 });
  });

  it('counts a synchronously throwing worker as a failed pass', async () => {
    const errors: WorkErrorEvent[] = [];
    const q = new WorkQueue({
      worker: () => {
        throw new Error('sync');
      },
      onError: (e) => errors.push(e),
    });
    q.add('a');
    await settle();
    expect(errors).toHaveLength(1);
    await q.stop();
  });

  it('schedules a later pass for requeueAfterMs', async () => {
    const times: number[] = [];
    const start = Date.now();
    let requeue: number | undefined = 5000;
    const q = new WorkQueue({
      worker: async () => {
        times.push(Date.now() - start);
        const result = { requeueAfterMs: requeue };
        requeue = undefined;
        return result;
      },
    });
    q.add('a');
    await vi.advanceTimersByTimeAsync(4999);
    expect(times).toEqual([0]);
    await vi.advanceTimersByTimeAsync(1);
    expect(times).toEqual([0, 5000]);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(times).toEqual([0, 5000]);
  });

  it('runs again now, not after requeueAfterMs, when the key was added during the pass', async () => {
    let release = () => {};
    let calls = 0;
    const q = new WorkQueue({
      worker: () => {
        calls++;
        return new Promise((resolve) => {
          release = () => resolve({ requeueAfterMs: 5000 });
        });
      },
    });
    q.add('a');
    await settle();
    q.add('a');
    release();
    await settle();
    expect(calls).toBe(2);
    release();
    await vi.advanceTimersByTimeAsync(4999);
    expect(calls).toBe(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls).toBe(3);
    const draining = q.drain();
    release();
    await draining;
  });

  it('addAfter keeps the earliest timer per key', async () => {
    const w = controlledWorker();
    const q = new WorkQueue({ worker: w.worker });
    q.addAfter('a', 1000);
    q.addAfter('a', 5000);
    q.addAfter('a', 300);
    expect(q.stats().delayed).toBe(1);
    await vi.advanceTimersByTimeAsync(300);
    expect(w.calls).toEqual(['a']);
    w.release('a');
    await vi.advanceTimersByTimeAsync(10_000);
    expect(w.calls).toEqual(['a']);
  });

  it('resync adds every key', async () => {
    const w = controlledWorker();
    const q = new WorkQueue({ worker: w.worker });
    q.resync(['a', 'b']);
    await settle();
    expect(w.calls).toEqual(['a', 'b']);
  });

  it('drain waits for in-flight passes without aborting them, and starts nothing new', async () => {
    const w = controlledWorker();
    const q = new WorkQueue({ worker: w.worker, concurrency: 1 });
    q.add('a');
    q.add('b');
    q.addAfter('c', 100);
    await settle();
    let drained = false;
    const draining = q.drain().then(() => {
      drained = true;
    });
    expect(q.add('d')).toBe(false);
    await vi.advanceTimersByTimeAsync(1000);
    expect(drained).toBe(false);
    expect(w.open[0]?.signal.aborted).toBe(false);
    w.release('a');
    await draining;
    expect(drained).toBe(true);
    expect(w.calls).toEqual(['a']);
    expect(q.stats()).toEqual({ waiting: 0, inFlight: 0, delayed: 0 });
  });

  it('does not retry a pass that fails while draining', async () => {
    const w = controlledWorker();
    const errors: WorkErrorEvent[] = [];
    const q = new WorkQueue({ worker: w.worker, onError: (e) => errors.push(e) });
    q.add('a');
    await settle();
    const draining = q.drain();
    w.fail('a');
    await draining;
    expect(errors).toMatchObject([{ key: 'a', attempt: 1, delayMs: undefined }]);
    expect(q.stats().delayed).toBe(0);
  });

  it('stop aborts in-flight signals and pending timers', async () => {
    const w = controlledWorker();
    const q = new WorkQueue({ worker: w.worker });
    q.add('a');
    q.addAfter('b', 100);
    await settle();
    const stopping = q.stop();
    expect(w.open[0]?.signal.aborted).toBe(true);
    w.fail('a', w.open[0]?.signal.reason);
    await stopping;
    await vi.advanceTimersByTimeAsync(1000);
    expect(w.calls).toEqual(['a']);
  });

  it('survives a throwing onError hook and reports pass durations', async () => {
    const durations: number[] = [];
    const q = new WorkQueue({
      worker: async () => {
        await new Promise((r) => setTimeout(r, 250));
        throw new Error('x');
      },
      onError: () => {
        throw new Error('hook');
      },
      onPass: (e) => durations.push(e.durationMs),
    });
    q.add('a');
    await vi.advanceTimersByTimeAsync(250);
    expect(durations).toEqual([250]);
    expect(q.failureCount('a')).toBe(1);
    await q.stop();
  });
});
