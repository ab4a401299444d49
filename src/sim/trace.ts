// Request traces for the simulator: a CSV with one row per second.
//
//   second,arrivals_per_second,service_time_ms
//   0,100,50
//   1,104,50
//
// `second` counts from 0 and increases; a skipped second repeats the row before it. `arrivals_per_second`
// is the number of requests arriving in that second (>= 0, may be fractional), `service_time_ms` the
// time one request needs from a free worker (> 0). Blank lines and lines starting with "#" are ignored;
// the header row is optional.

export interface TracePoint {
  second: number;
  arrivalsPerSecond: number;
  serviceTimeMs: number;
}

export const TRACE_HEADER = 'second,arrivals_per_second,service_time_ms';

/** The longest trace: skipped seconds are filled in, so a row at second 10^8 would be 10^8 rows. */
export const MAX_TRACE_SECONDS = 14 * 86_400;

/** Parses a trace and fills skipped seconds; throws with the line number on a malformed row. */
export function parseTraceCsv(text: string, file = 'trace'): TracePoint[] {
  const rows: TracePoint[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || (rows.length === 0 && /^second\b/i.test(line))) return;
    const fields = line.split(',').map((f) => f.trim());
    const [second, arrivals, service] = fields.map(Number);
    const where = `${file}:${index + 1}`;
    if (fields.length !== 3 || second === undefined || arrivals === undefined || service === undefined) {
      throw new Error(`${where}: expected 3 columns (${TRACE_HEADER}), got ${fields.length}`);
    }
    if (!Number.isInteger(second) || second < 0) throw new Error(`${where}: second must be a whole number >= 0, got ${fields[0]}`);
    if (second > MAX_TRACE_SECONDS) throw new Error(`${where}: second ${second} is past ${MAX_TRACE_SECONDS} (a trace covers at most 14 days, one row a second)`);
    if (!Number.isFinite(arrivals) || arrivals < 0) throw new Error(`${where}: arrivals_per_second must be >= 0, got ${fields[1]}`);
    if (!Number.isFinite(service) || service <= 0) throw new Error(`${where}: service_time_ms must be > 0, got ${fields[2]}`);
    const previous = rows[rows.length - 1];
    if (previous !== undefined && second <= previous.second) throw new Error(`${where}: second ${second} does not increase`);
    if (previous !== undefined) {
      for (let s = previous.second + 1; s < second; s++) rows.push({ ...previous, second: s });
    }
    rows.push({ second, arrivalsPerSecond: arrivals, serviceTimeMs: service });
  });
  if (rows.length === 0) throw new Error(`${file}: no rows`);
  return rows;
}

export function formatTraceCsv(points: readonly TracePoint[], comment?: string): string {
  const lines = comment ? comment.split('\n').map((l) => `# ${l}`) : [];
  lines.push(TRACE_HEADER);
  for (const p of points) lines.push(`${p.second},${round(p.arrivalsPerSecond)},${round(p.serviceTimeMs)}`);
  return `${lines.join('\n')}\n`;
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
