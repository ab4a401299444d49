// One line of nginx's `autoserve_json` access log (src/render/templates/apps.conf.hbs) to the few
// figures the metrics need. The format is nginx's escape=json, so JSON.parse is exact.

export interface AccessLogEntry {
  /** When nginx logged the request ($msec: at completion), ms since the epoch. */
  timeMs: number;
  app: string;
  status: number;
  /** $request_time: first byte read from the client to last byte sent, ms. */
  requestMs: number;
  /**
   * Time spent in upstreams, ms: the sum over every attempt in $upstream_response_time
   * ("0.004, 0.010" after a retry, " : " across internal redirects, "-" for an attempt without
   * a response time). undefined when no upstream was dialled (nginx answered itself: 503, 404;
   * the Lua balancer found no peer, which nginx still logs as a "0.000" time with no address).
   */
  upstreamMs: number | undefined;
}

/** Parses a line; undefined for anything that is not a complete `autoserve_json` record. */
export function parseAccessLogLine(line: string): AccessLogEntry | undefined {
  if (line.length < 2 || line.charCodeAt(0) !== 123 /* { */) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (!raw || typeof raw !== 'object') return undefined;
  const r = raw as Record<string, unknown>;
  const time = r.time;
  const status = r.status;
  if (typeof time !== 'number' || typeof status !== 'number') return undefined;
  return {
    timeMs: time * 1000,
    app: typeof r.app === 'string' ? r.app : '',
    status,
    requestMs: typeof r.request_time === 'number' ? r.request_time * 1000 : 0,
    upstreamMs: typeof r.upstream_response_time === 'string' && dialled(r.upstream_addr) ? sumUpstreamTimesMs(r.upstream_response_time) : undefined,
  };
}

/** Whether $upstream_addr names a peer (absent in older lines: trust the time). */
function dialled(addr: unknown): boolean {
  return addr === undefined || (typeof addr === 'string' && addr !== '' && addr !== '-');
}

/** Sum of the numbers in an $upstream_* time list, in ms; undefined when it has none. */
export function sumUpstreamTimesMs(value: string): number | undefined {
  if (value === '' || value === '-') return undefined;
  let total = 0;
  let any = false;
  for (const part of value.split(/[,:]/)) {
    const s = part.trim();
    if (s === '' || s === '-') continue;
    const n = Number(s);
    if (Number.isFinite(n) && n >= 0) {
      total += n;
      any = true;
    }
  }
  return any ? total * 1000 : undefined;
}
