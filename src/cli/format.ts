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

/** CPU in cores the way kubectl prints it: "250m" below one core, "1.50" above; "-" when unknown. */
export function formatCores(cores: number | null | undefined): string {
  if (cores === null || cores === undefined || !Number.isFinite(cores)) return '-';
  return cores < 1 ? `${Math.round(cores * 1000)}m` : cores.toFixed(2);
}

/** Bytes in binary units: "512Ki", "12.3Mi", "1.50Gi"; "-" when unknown. */
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes)) return '-';
  const units = ['', 'Ki', 'Mi', 'Gi', 'Ti'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${Math.round(value)}` : `${value < 10 ? value.toFixed(1) : Math.round(value)}${units[unit]}`;
}

/** A ratio as a whole percentage ("42%"); "-" when unknown. */
export function formatPercent(ratio: number | null | undefined): string {
  if (ratio === null || ratio === undefined || !Number.isFinite(ratio)) return '-';
  return `${Math.round(ratio * 100)}%`;
}

/** A rate or count with at most one decimal ("12.5", "3"); "-" when unknown. */
export function formatRate(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '-';
  return Number.isInteger(value) || value >= 100 ? String(Math.round(value)) : value.toFixed(1);
}

/** Milliseconds as "85ms" or "1.2s"; "-" when unknown. */
export function formatMillis(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '-';
  return ms < 1000 ? `${Math.round(ms)}ms` : `${(ms / 1000).toFixed(1)}s`;
}
