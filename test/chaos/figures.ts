// Each chaos test prints its figure (outage seconds, failed requests, seconds to converge) as one
// line, and appends it as a JSON line to $AUTOSERVE_CHAOS_FIGURES when set: the failure-modes
// table in docs/operations.md is checked against these.
import { appendFileSync } from 'node:fs';

export type Figures = Record<string, number | string | boolean>;

export function recordFigures(fault: string, figures: Figures): void {
  const text = Object.entries(figures)
    .map(([k, v]) => `${k}=${typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(2) : String(v)}`)
    .join(' ');
  console.log(`[chaos ${fault}] ${text}`);
  const file = process.env.AUTOSERVE_CHAOS_FIGURES;
  if (file) appendFileSync(file, `${JSON.stringify({ fault, at: new Date().toISOString(), ...figures })}\n`);
}

/** Seconds between the first and the last failed request of a load (0 without failures). */
export function outageSeconds(failures: readonly { atMs: number }[]): number {
  if (failures.length === 0) return 0;
  const at = failures.map((f) => f.atMs);
  return (Math.max(...at) - Math.min(...at)) / 1000;
}
