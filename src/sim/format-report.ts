// Text renderings of simulation results: a summary table, a replica timeline (one line per change
// and a per-minute sparkline), and markdown rows for the benchmark.

import type { SimulationResult } from './simulate.js';
import { describeVerdict, judgeTargets } from './targets.js';
import { ORACLE_POLICY } from './oracle.js';

const SPARKS = '▁▂▃▄▅▆▇█';
/** At most this many timeline lines per policy; the rest are summarized. */
export const MAX_TIMELINE_LINES = 40;

export function formatSummaryTable(results: readonly SimulationResult[]): string {
  const header = ['policy', 'seconds over SLO', 'replica-seconds', 'max replicas', 'direction changes', 'scale events', 'dropped requests'];
  const rows = results.map((r) => [r.policy, r.secondsOverSlo, r.replicaSeconds, r.maxReplicas, r.directionChanges, r.changes.length, r.requestsDropped].map(String));
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]?.length ?? 0)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  return [line(header), ...rows.map(line)].join('\n');
}

export function formatTimeline(result: SimulationResult): string {
  const lines = [`${result.policy}: replicas per minute (max each minute, peak ${result.maxReplicas}) ${sparkline(result.replicasPerSecond, result.maxReplicas)}`];
  if (result.policy === ORACLE_POLICY) return `${lines[0]}\n  follows every second's load (${result.changes.length} changes)`;
  const shown = result.changes.slice(0, MAX_TIMELINE_LINES);
  for (const c of shown) lines.push(`  ${clock(c.second)}  ${String(c.from).padStart(3)} -> ${String(c.to).padEnd(3)} ${c.reason}`);
  if (result.changes.length > shown.length) lines.push(`  ... ${result.changes.length - shown.length} more changes (-o json for all)`);
  return lines.join('\n');
}

export const MARKDOWN_HEADER = '| trace | policy | seconds over SLO | replica-seconds | max replicas | direction changes | targets |\n|---|---|---:|---:|---:|---:|---|';

/** One markdown row per policy; the autoserve row says whether it met the targets (src/sim/targets.ts). */
export function formatMarkdownRows(trace: string, results: readonly SimulationResult[]): string {
  const verdict = judgeTargets(results);
  return results
    .map((r) => `| ${trace} | ${r.policy} | ${r.secondsOverSlo} | ${r.replicaSeconds} | ${r.maxReplicas} | ${r.directionChanges} | ${r.policy === 'autoserve' && verdict ? describeVerdict(verdict) : ''} |`)
    .join('\n');
}

export function sparkline(perSecond: readonly number[], peak: number): string {
  const out: string[] = [];
  for (let i = 0; i < perSecond.length; i += 60) {
    const minute = Math.max(...perSecond.slice(i, i + 60));
    out.push(SPARKS[Math.min(SPARKS.length - 1, Math.round(((SPARKS.length - 1) * minute) / Math.max(peak, 1)))] ?? ' ');
  }
  return out.join('');
}

function clock(second: number): string {
  return `${Math.floor(second / 60)}:${String(second % 60).padStart(2, '0')}`.padStart(5);
}
