// Plain-text formatting for the CLI: aligned tables (kubectl style) and short ages.

const COLUMN_GAP = '   ';

/** Left-aligned columns, the widest cell of each column sets its width; no trailing spaces. */
export function formatTable(header: string[], rows: string[][]): string[] {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((row) => (row[i] ?? '').length)));
  return all.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join(COLUMN_GAP).trimEnd());
}

/** "45s", "12m", "3h", "5d": the time since `iso`, rounded down to its largest unit. */
export function formatAge(iso: string | undefined, now = Date.now()): string {
  if (!iso) return '<unknown>';
  const ms = now - Date.parse(iso);
  if (!Number.isFinite(ms)) return '<unknown>';
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 120) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h`;
  return `${Math.floor(h / 24)}d`;
}

/** An ISO time without its fraction: "2024-05-01T10:00:00Z". */
export function formatTime(iso: string): string {
  return iso.replace(/\.\d+Z$/, 'Z');
}
