// Scale-in stabilization over the recommendations the metrics made in the past (the way the
// Kubernetes HPA's behavior keeps them): a scale in goes to the highest recommendation over the
// stabilization window, so a dip shorter than the window never sheds replicas. Which window
// applies depends on whether the load has come back after a dip recently (`loadRecurred`).
// Pure functions over (time, replicas) samples.

import type { Sample } from './metric-window.js';
import { TOLERANCE } from './sizing.js';

/** The per-second maximum over several metrics' recommendation histories, sorted by time. */
export function combineHistories(histories: readonly (readonly Sample[])[]): Sample[] {
  const bySecond = new Map<number, Sample>();
  for (const history of histories) {
    for (const s of history) {
      const second = Math.floor(s.t / 1000);
      const seen = bySecond.get(second);
      if (seen === undefined || s.v > seen.v) bySecond.set(second, { t: second * 1000, v: s.v });
    }
  }
  return [...bySecond.values()].sort((a, b) => a.t - b.t);
}

/** The highest recommendation in (now - windowMs, now], and always the newest one; null when there is none. */
export function highestSince(history: readonly Sample[], now: number, windowMs: number): number | null {
  let best: number | null = null;
  let newest: Sample | undefined;
  for (const s of history) {
    if (s.t > now) continue;
    newest = s;
    if (s.t > now - windowMs && (best === null || s.v > best)) best = s.v;
  }
  return newest === undefined ? null : Math.max(best ?? newest.v, newest.v);
}

/** A dip and a return must each move the recommendation by this share: twice the tolerance, so noise around one level is neither. */
export const RECURRENCE_SWING = 2 * TOLERANCE;

/** A dip the load came back from: how long the recommendation stayed down before the return. */
export interface Recurrence {
  /** The longest such dip, from its first second under the short window to the return (ms). */
  longestDipMs: number;
}

/**
 * Whether the load came back after a dip within `memoryMs`: at some time t, a scale in under the
 * short window would have gone below what the load had asked for before (a dip: the highest
 * recommendation over (t - shortMs, t] is under the highest before it), and later the load asked
 * for more than that again (a return), each by RECURRENCE_SWING. Load that only rises, or only
 * falls, never recurs. Returns the longest such dip, or null.
 */
export function loadRecurred(history: readonly Sample[], now: number, shortMs: number, memoryMs: number): Recurrence | null {
  const points = history.filter((s) => s.t > now - memoryMs && s.t <= now);
  const n = points.length;
  if (n < 3) return null;
  const at = (i: number) => points[i] as Sample;
  let before = -Infinity; // highest at or before t - shortMs
  let b = 0;
  const window: number[] = []; // indices: a monotonic deque holding the short window's maximum
  let runStart: number | undefined; // when the current dip was first seen (the load fell shortMs before)
  let runLow = Infinity; // the lowest count a scale in would have gone to during it
  let longest: number | null = null;
  for (let i = 0; i < n; i++) {
    const t = at(i).t;
    while (window.length > 0 && at(window[window.length - 1] as number).v <= at(i).v) window.pop();
    window.push(i);
    while (window.length > 1 && at(window[0] as number).t <= t - shortMs) window.shift();
    while (b < n && at(b).t <= t - shortMs) before = Math.max(before, at(b++).v);
    const held = at(window[0] as number).v;
    if (runStart !== undefined && at(i).v > runLow * (1 + RECURRENCE_SWING)) {
      // The load came back: the dip lasted from shortMs before it was seen until now.
      longest = Math.max(longest ?? 0, t - runStart + shortMs);
      runStart = undefined;
      runLow = Infinity;
    }
    if (held < before * (1 - RECURRENCE_SWING)) {
      runStart ??= t;
      runLow = Math.min(runLow, held);
    } else {
      runStart = undefined;
      runLow = Infinity;
    }
  }
  return longest === null ? null : { longestDipMs: longest };
}
