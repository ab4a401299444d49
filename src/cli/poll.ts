// A poll loop for --watch and --follow: runs `tick` every `intervalMs` until the signal aborts.
// Ctrl-C ends the process anyway; the signal is for tests and callers that embed the verbs.
import { setTimeout as sleep } from 'node:timers/promises';

export const DEFAULT_POLL_MS = 1_000;

export async function pollUntilAborted(tick: () => Promise<void>, intervalMs: number, signal?: AbortSignal): Promise<void> {
  while (!signal?.aborted) {
    try {
      await sleep(intervalMs, undefined, { signal });
    } catch {
      return; // aborted while waiting
    }
    await tick();
  }
}

/** Remembers what was already printed (bounded): polls with an inclusive `since` return repeats. */
export class SeenSet {
  private readonly seen = new Set<string>();

  constructor(private readonly max = 10_000) {}

  /** True the first time a key is offered. */
  add(key: string): boolean {
    if (this.seen.has(key)) return false;
    this.seen.add(key);
    if (this.seen.size > this.max) this.seen.delete(this.seen.values().next().value as string);
    return true;
  }
}
