// Retries an assertion until it passes or a deadline is reached (bounded waits for end-to-end tests).

import { withTimeout } from '../../src/core/with-timeout.js';

export const DEFAULT_EVENTUALLY_TIMEOUT_MS = 10_000;
export const DEFAULT_EVENTUALLY_INTERVAL_MS = 100;

export interface EventuallyOptions {
  timeoutMs?: number;
  intervalMs?: number;
  /** Prefixed to the final error's message, e.g. "replica of web healthy". */
  message?: string;
}

/**
 * Calls `fn` until it returns (or resolves) without throwing, and returns its value. After
 * `timeoutMs` it throws the last error, its message prefixed with how long it waited; an attempt
 * still running at the deadline is abandoned. Uses real timers: don't call it under fake timers.
 */
export async function eventually<T>(fn: () => T | Promise<T>, options: EventuallyOptions = {}): Promise<T> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_EVENTUALLY_TIMEOUT_MS;
  const intervalMs = options.intervalMs ?? DEFAULT_EVENTUALLY_INTERVAL_MS;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown = new Error('never attempted');
  let attempts = 0;
  for (;;) {
    attempts++;
    const remaining = deadline - Date.now();
    try {
      const ms = Math.max(remaining, 1);
      return await withTimeout(Promise.resolve().then(fn), ms, `attempt still running after ${ms} ms`);
    } catch (err) {
      lastError = err;
    }
    if (Date.now() + intervalMs > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  const detail = lastError instanceof Error ? lastError.message : String(lastError);
  const prefix = options.message ? `${options.message}: ` : '';
  throw new Error(`${prefix}not true after ${timeoutMs} ms (${attempts} attempts): ${detail}`, { cause: lastError });
}
