// A work queue keyed by app name: runs one worker pass per key at a time, with per-key backoff.

import { setMaxListeners } from 'node:events';
import type { ReconcileResult } from './reconciler.js';

export const DEFAULT_BASE_BACKOFF_MS = 500;
export const DEFAULT_MAX_BACKOFF_MS = 60_000;
/**
 * Passes of different apps at once. A pass mostly waits on the runtime, so this is cheap; it is
 * sized so that after an outage (every app replacing its replicas at once) apps do not queue
 * behind each other for their first replica.
 */
export const DEFAULT_CONCURRENCY = 8;
/** Backoff delays are drawn from [delay * (1 - jitter), delay]: never above the cap. */
export const DEFAULT_BACKOFF_JITTER = 0.2;

export type Worker = (key: string, signal: AbortSignal) => Promise<ReconcileResult | void>;

export interface WorkErrorEvent {
  key: string;
  error: unknown;
  /** Consecutive failed passes of this key, this one included (1 on the first failure). */
  attempt: number;
  /** When the retry runs; undefined when the queue is draining or stopped and won't retry. */
  delayMs: number | undefined;
}

export interface WorkPassEvent {
  key: string;
  durationMs: number;
  ok: boolean;
  requeueAfterMs: number | undefined;
}

export interface QueueTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  now(): number;
}

export interface WorkQueueOptions {
  worker: Worker;
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  /** Passes of different keys that may run at once. */
  concurrency?: number;
  /** Fraction of a backoff delay taken off at random, 0..1. */
  jitter?: number;
  /** Returns [0, 1); injectable for deterministic tests. */
  random?: () => number;
  /** Defaults to the global timers, looked up at call time, so vi.useFakeTimers() applies. */
  timers?: QueueTimers;
  /** Called after each failed pass. A hook that throws is ignored. */
  onError?: (event: WorkErrorEvent) => void;
  /** Called after each pass, failed or not (for duration metrics). A hook that throws is ignored. */
  onPass?: (event: WorkPassEvent) => void;
}

export interface WorkQueueStats {
  waiting: number;
  inFlight: number;
  delayed: number;
}

const globalTimers: QueueTimers = {
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof globalThis.setTimeout>),
  now: () => Date.now(),
};

interface Delayed {
  handle: unknown;
  dueAt: number;
}

/**
 * Runs `worker(key, signal)` for keys handed to `add`, after controller-runtime's workqueue.
 *
 * Contract:
 * - **One pass per key at a time.** A key is never processed twice at once; different keys run
 *   in parallel up to `concurrency`, in the order they became due.
 * - **Duplicates collapse.** Adding a key that is already waiting is a no-op. Adding a key that is
 *   in flight marks it dirty: it runs exactly once more after the current pass, however many
 *   times it was added meanwhile.
 * - **`add(key)` means "look now"** and supersedes a pending delayed add of that key (a backoff
 *   retry or a requeueAfterMs), because the pass it triggers decides its own next requeue.
 * - **Worker resolves** (a clean pass): the key's backoff resets. `{ requeueAfterMs }` schedules
 *   `addAfter(key, requeueAfterMs)`; if the key was added during the pass it runs again now instead.
 * - **Worker throws / rejects**: the key is retried after a per-key exponential backoff
 *   (`baseBackoffMs * 2^(attempt-1)`, capped at `maxBackoffMs`, minus up to `jitter` of it), and
 *   `onError({ key, error, attempt, delayMs })` is called. An add during a failed pass is folded
 *   into that retry; an add after it runs at once (it means "look now"), so events can still
 *   re-run a failing key early: crash loops are slowed by the container planner's own backoff,
 *   not here. Reconcilers record stalled errors themselves and resolve (see reconciler.ts); the
 *   queue retries everything that throws.
 * - **`addAfter(key, ms)`** keeps one timer per key, the earliest due one.
 * - **`forgiveFailures()`** resets every key's backoff (after an outage of the runtime ended).
 * - **`drain()`** stops accepting work, cancels timers and drops waiting keys, aborts nothing and
 *   resolves once in-flight passes have finished (SIGTERM). **`stop()`** does the same but also
 *   aborts the in-flight passes' signals. Neither can be undone.
 */
export class WorkQueue {
  private readonly worker: Worker;
  private readonly baseBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly concurrency: number;
  private readonly jitter: number;
  private readonly random: () => number;
  private readonly timers: QueueTimers;
  private readonly onError: ((event: WorkErrorEvent) => void) | undefined;
  private readonly onPass: ((event: WorkPassEvent) => void) | undefined;

  private readonly waiting: string[] = [];
  private readonly waitingSet = new Set<string>();
  private readonly inFlight = new Map<string, AbortController>();
  private readonly dirty = new Set<string>();
  private readonly delayed = new Map<string, Delayed>();
  private readonly failures = new Map<string, number>();
  private accepting = true;
  private idleWaiters: Array<() => void> = [];

  constructor(options: WorkQueueOptions) {
    this.worker = options.worker;
    this.baseBackoffMs = options.baseBackoffMs ?? DEFAULT_BASE_BACKOFF_MS;
    this.maxBackoffMs = options.maxBackoffMs ?? DEFAULT_MAX_BACKOFF_MS;
    this.concurrency = Math.max(1, options.concurrency ?? DEFAULT_CONCURRENCY);
    this.jitter = Math.min(1, Math.max(0, options.jitter ?? DEFAULT_BACKOFF_JITTER));
    this.random = options.random ?? Math.random;
    this.timers = options.timers ?? globalTimers;
    this.onError = options.onError;
    this.onPass = options.onPass;
  }

  /** Makes `key` due now. Returns false when the queue no longer accepts work. */
  add(key: string): boolean {
    if (!this.accepting) return false;
    this.cancelDelayed(key);
    if (this.inFlight.has(key)) {
      this.dirty.add(key);
    } else if (!this.waitingSet.has(key)) {
      this.waitingSet.add(key);
      this.waiting.push(key);
      this.pump();
    }
    return true;
  }

  /** Makes `key` due after `ms` (now when ms <= 0); an earlier pending timer for it wins. */
  addAfter(key: string, ms: number): boolean {
    if (!this.accepting) return false;
    if (!(ms > 0)) return this.add(key);
    const dueAt = this.timers.now() + ms;
    const existing = this.delayed.get(key);
    if (existing && existing.dueAt <= dueAt) return true;
    this.cancelDelayed(key);
    const handle = this.timers.setTimeout(() => {
      if (this.delayed.get(key)?.handle !== handle) return;
      this.delayed.delete(key);
      this.add(key);
    }, ms);
    this.delayed.set(key, { handle, dueAt });
    return true;
  }

  /** Adds every key: the periodic resync that catches missed events. */
  resync(keys: Iterable<string>): void {
    for (const key of keys) {
      // A key waiting out its backoff keeps waiting: a periodic resync must not defeat it.
      if (this.failureCount(key) > 0 && this.delayed.has(key)) continue;
      this.add(key);
    }
  }

  /**
   * Forgets every key's failures: what failed while a dependency was away (the container engine
   * restarting) says nothing about the next try. Keys waiting out a backoff stay scheduled, but
   * the next add() or resync() runs them at once, and a new failure starts from the base delay.
   */
  forgiveFailures(): void {
    this.failures.clear();
  }

  /** Consecutive failed passes of `key` since its last clean pass. */
  failureCount(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  stats(): WorkQueueStats {
    return { waiting: this.waiting.length, inFlight: this.inFlight.size, delayed: this.delayed.size };
  }

  /** Resolves when nothing waits and nothing runs (delayed keys may still be pending). */
  onIdle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops accepting work and resolves when in-flight passes have finished; aborts nothing. */
  drain(): Promise<void> {
    this.close();
    return this.onIdle();
  }

  /** Like drain(), and aborts the signals of in-flight passes. */
  stop(): Promise<void> {
    this.close();
    for (const controller of this.inFlight.values()) controller.abort(new Error('work queue stopped'));
    return this.onIdle();
  }

  private close(): void {
    this.accepting = false;
    for (const key of [...this.delayed.keys()]) this.cancelDelayed(key);
    this.waiting.length = 0;
    this.waitingSet.clear();
    this.dirty.clear();
  }

  private cancelDelayed(key: string): void {
    const existing = this.delayed.get(key);
    if (!existing) return;
    this.timers.clearTimeout(existing.handle);
    this.delayed.delete(key);
  }

  private pump(): void {
    while (this.inFlight.size < this.concurrency) {
      const key = this.waiting.shift();
      if (key === undefined) break;
      this.waitingSet.delete(key);
      this.start(key);
    }
    this.notifyIfIdle();
  }

  private start(key: string): void {
    const controller = new AbortController();
    // One pass waits on its signal once per replica it creates (the start gate, each Docker call):
    // more than Node's default 10 listeners is the normal case, not a leak.
    setMaxListeners(0, controller.signal);
    this.inFlight.set(key, controller);
    const startedAt = this.timers.now();
    // Promise.resolve().then: a worker that throws synchronously counts as a failed pass.
    Promise.resolve()
      .then(() => this.worker(key, controller.signal))
      .then(
        (result) => this.finish(key, startedAt, { ok: true, requeueAfterMs: result?.requeueAfterMs }),
        (error: unknown) => this.finish(key, startedAt, { ok: false, error }),
      );
  }

  private finish(
    key: string,
    startedAt: number,
    outcome: { ok: true; requeueAfterMs: number | undefined } | { ok: false; error: unknown },
  ): void {
    this.inFlight.delete(key);
    const wasDirty = this.dirty.delete(key);
    const requeueAfterMs = outcome.ok ? outcome.requeueAfterMs : undefined;
    safeCall(this.onPass, { key, durationMs: this.timers.now() - startedAt, ok: outcome.ok, requeueAfterMs });

    if (outcome.ok) {
      this.failures.delete(key);
      if (wasDirty) this.add(key);
      else if (requeueAfterMs !== undefined) this.addAfter(key, requeueAfterMs);
    } else {
      const attempt = (this.failures.get(key) ?? 0) + 1;
      this.failures.set(key, attempt);
      const delayMs = this.accepting ? this.backoffMs(attempt) : undefined;
      safeCall(this.onError, { key, error: outcome.error, attempt, delayMs });
      if (delayMs !== undefined) this.addAfter(key, delayMs);
    }
    this.pump();
  }

  private backoffMs(attempt: number): number {
    const exponential = this.baseBackoffMs * 2 ** Math.min(attempt - 1, 52);
    const capped = Math.min(this.maxBackoffMs, exponential);
    return Math.max(1, Math.round(capped * (1 - this.jitter * this.random())));
  }

  private isIdle(): boolean {
    return this.waiting.length === 0 && this.inFlight.size === 0;
  }

  private notifyIfIdle(): void {
    if (!this.isIdle() || this.idleWaiters.length === 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}

function safeCall<T>(hook: ((event: T) => void) | undefined, event: T): void {
  if (!hook) return;
  try {
    hook(event);
  } catch {
    // Observability hooks must not break the queue.
  }
}
