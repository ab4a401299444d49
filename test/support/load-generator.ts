// A bounded, fixed-rate HTTP load generator for end-to-end tests (rollouts, drains, nginx reloads).
//
// Open loop: request i is sent at start + i / ratePerSec whatever the answers, over a keep-alive
// agent with at most `maxSockets` connections (requests beyond that wait in the agent's queue; the
// per-request timeout and the latency both count that wait). Sending stops after `durationMs`, after
// `maxRequests`, or on stop(); the result resolves once every sent request has an outcome.
//
// Outcomes:
// - ok: a complete response whose status `isOk` accepts (default: status < 500).
// - failure 'status': a complete response `isOk` rejects (e.g. 502 from nginx).
// - failure 'timeout': no complete response within `timeoutMs`.
// - failure 'connection': refused, reset after some response bytes, or reset on a fresh connection.
// - keep-alive reset: ECONNRESET / EPIPE / "socket hang up" on a *reused* keep-alive socket before
//   any response byte. The server closed an idle connection as we sent on it (an nginx reload does
//   this); HTTP clients retry such requests, so we retry once on a fresh connection and count it in
//   `keepAliveRetries`, not as a failure. If the retry fails, that is a failure of its own kind.
import http from 'node:http';
import { performance } from 'node:perf_hooks';

export const DEFAULT_LOAD_TIMEOUT_MS = 5000;
export const DEFAULT_LOAD_MAX_SOCKETS = 16;
export const DEFAULT_LOAD_DURATION_MS = 10_000;
const MAX_BODY_BYTES = 64 * 1024;
const KEEP_ALIVE_RESET_CODES = new Set(['ECONNRESET', 'EPIPE']);

export type LoadFailureKind = 'status' | 'timeout' | 'connection';

export interface LoadFailure {
  kind: LoadFailureKind;
  detail: string;
  /** HTTP status for kind 'status'. */
  status?: number;
  /** Milliseconds after start when the request was sent. */
  atMs: number;
  /** True when this failure is of the fresh-connection retry after a keep-alive reset. */
  afterKeepAliveRetry?: boolean;
}

export interface LatencySummary {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export interface LoadResult {
  sent: number;
  ok: number;
  failed: number;
  failures: LoadFailure[];
  keepAliveRetries: number;
  /** Complete responses by status code. */
  statuses: Record<number, number>;
  /** Responses per JSON body `hostname` field (responses with such a body only). */
  byUpstream: Record<string, number>;
  /** Of complete responses (ok or 'status' failures), send to last body byte. */
  latenciesMs: LatencySummary;
  durationMs: number;
}

export interface LoadOptions {
  host?: string;
  port: number;
  /** Host header, e.g. "web.localhost" to pick an nginx server block. */
  hostHeader?: string;
  /** Request path, or a function of the request index. Default "/". */
  path?: string | ((index: number) => string);
  ratePerSec: number;
  /**
   * When request `index` is due, in ms after the start (non-decreasing; Infinity: no more). Default
   * index x 1000 / ratePerSec, evenly spaced; test/support/arrivals.ts has Poisson and trace schedules.
   */
  sendAtMs?: (index: number) => number;
  /** Stop sending after this long (default 10 s unless maxRequests is given). */
  durationMs?: number;
  /** Stop sending after this many requests. */
  maxRequests?: number;
  timeoutMs?: number;
  maxSockets?: number;
  /** Which statuses count as ok. Default: status < 500. */
  isOk?: (status: number) => boolean;
  /** Called once per request with its outcome: latency (send to last byte) for complete responses, else undefined. */
  onOutcome?: (index: number, latencyMs: number | undefined, ok: boolean) => void;
  headers?: Record<string, string>;
}

interface AttemptOutcome {
  kind: 'response' | 'timeout' | 'error';
  status?: number;
  body?: string;
  error?: NodeJS.ErrnoException;
  /** The request went out on a reused keep-alive socket and failed before any response byte. */
  keepAliveReset?: boolean;
}

class LoadTimeoutError extends Error {}

export class LoadGenerator {
  private readonly options: Required<Pick<LoadOptions, 'host' | 'timeoutMs' | 'isOk'>> & LoadOptions;
  private readonly agent: http.Agent;
  private readonly intervalMs: number;
  private readonly durationMs: number;
  private readonly maxRequests: number;
  private startedAt = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;
  private inFlight = 0;
  private finishSending: (() => void) | undefined;
  private running: Promise<LoadResult> | undefined;
  private readonly latencies: number[] = [];
  /** Sockets that carried a request before: a reset on one of them is a keep-alive reset. */
  private readonly usedSockets = new WeakSet<import('node:net').Socket>();
  private readonly result: Omit<LoadResult, 'latenciesMs' | 'durationMs'> = {
    sent: 0,
    ok: 0,
    failed: 0,
    failures: [],
    keepAliveRetries: 0,
    statuses: {},
    byUpstream: {},
  };

  constructor(options: LoadOptions) {
    if (!(options.ratePerSec > 0)) throw new Error('ratePerSec must be > 0');
    this.options = {
      host: '127.0.0.1',
      timeoutMs: DEFAULT_LOAD_TIMEOUT_MS,
      isOk: (status) => status < 500,
      ...options,
    };
    this.intervalMs = 1000 / options.ratePerSec;
    this.durationMs =
      options.durationMs ?? (options.maxRequests !== undefined ? Number.POSITIVE_INFINITY : DEFAULT_LOAD_DURATION_MS);
    this.maxRequests = options.maxRequests ?? Number.POSITIVE_INFINITY;
    this.agent = new http.Agent({ keepAlive: true, maxSockets: options.maxSockets ?? DEFAULT_LOAD_MAX_SOCKETS });
  }

  /** Starts sending (once); resolves with the totals after the last outcome is in. */
  run(): Promise<LoadResult> {
    this.running ??= this.execute();
    return this.running;
  }

  /** Stops sending now; requests already sent still finish (bounded by timeoutMs). */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.maybeFinish();
  }

  /** Totals so far (while running: requests still in flight are not counted as ok or failed). */
  snapshot(): LoadResult {
    return {
      ...this.result,
      failures: [...this.result.failures],
      statuses: { ...this.result.statuses },
      byUpstream: { ...this.result.byUpstream },
      latenciesMs: summarize(this.latencies),
      durationMs: this.startedAt ? performance.now() - this.startedAt : 0,
    };
  }

  private async execute(): Promise<LoadResult> {
    this.startedAt = performance.now();
    await new Promise<void>((resolve) => {
      this.finishSending = resolve;
      this.tick();
    });
    this.agent.destroy();
    return this.snapshot();
  }

  private tick(): void {
    this.timer = undefined;
    if (this.stopped) return this.maybeFinish();
    const elapsed = performance.now() - this.startedAt;
    if (elapsed >= this.durationMs) {
      this.stopped = true;
      return this.maybeFinish();
    }
    while (this.result.sent < this.maxRequests && this.dueAt(this.result.sent) <= elapsed) this.send(this.result.sent);
    const nextAt = this.dueAt(this.result.sent);
    if (this.result.sent >= this.maxRequests || !Number.isFinite(nextAt)) {
      this.stopped = true;
      return this.maybeFinish();
    }
    this.timer = setTimeout(() => this.tick(), Math.max(0, nextAt - (performance.now() - this.startedAt)));
  }

  private dueAt(index: number): number {
    return this.options.sendAtMs ? this.options.sendAtMs(index) : index * this.intervalMs;
  }

  private send(index: number): void {
    this.result.sent++;
    this.inFlight++;
    const path = typeof this.options.path === 'function' ? this.options.path(index) : (this.options.path ?? '/');
    const sentAt = performance.now();
    const atMs = Math.round(sentAt - this.startedAt);
    void this.attempt(path, this.agent)
      .then(async (outcome) => {
        if (outcome.keepAliveReset) {
          this.result.keepAliveRetries++;
          const retry = await this.attempt(path, false);
          this.record(index, retry, sentAt, atMs, true);
        } else {
          this.record(index, outcome, sentAt, atMs, false);
        }
      })
      .finally(() => {
        this.inFlight--;
        this.maybeFinish();
      });
  }

  private record(index: number, outcome: AttemptOutcome, sentAt: number, atMs: number, afterKeepAliveRetry: boolean): void {
    const r = this.result;
    const fail = (failure: Omit<LoadFailure, 'atMs'>) => {
      r.failed++;
      r.failures.push({ ...failure, atMs, ...(afterKeepAliveRetry ? { afterKeepAliveRetry } : {}) });
      if (failure.kind !== 'status') this.options.onOutcome?.(index, undefined, false);
    };
    if (outcome.kind === 'timeout') {
      fail({ kind: 'timeout', detail: `no response within ${this.options.timeoutMs} ms` });
      return;
    }
    if (outcome.kind === 'error' || outcome.status === undefined) {
      const err = outcome.error;
      fail({ kind: 'connection', detail: err ? `${err.code ?? 'ERROR'}: ${err.message}` : 'no status' });
      return;
    }
    const status = outcome.status;
    const latencyMs = performance.now() - sentAt;
    this.latencies.push(latencyMs);
    this.options.onOutcome?.(index, latencyMs, this.options.isOk(status));
    r.statuses[status] = (r.statuses[status] ?? 0) + 1;
    const hostname = upstreamOf(outcome.body);
    if (hostname !== undefined) r.byUpstream[hostname] = (r.byUpstream[hostname] ?? 0) + 1;
    if (this.options.isOk(status)) r.ok++;
    else fail({ kind: 'status', status, detail: `HTTP ${status}: ${(outcome.body ?? '').slice(0, 200).trim()}` });
  }

  /** One request; never rejects. `agent: false` means a fresh connection. */
  private attempt(path: string, agent: http.Agent | false): Promise<AttemptOutcome> {
    return new Promise((resolve) => {
      let done = false;
      let gotResponse = false;
      let bytesAtStart = 0;
      let socketRef: import('node:net').Socket | undefined;
      let reused = false;
      const finish = (outcome: AttemptOutcome) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        resolve(outcome);
      };
      const headers: Record<string, string> = { ...this.options.headers };
      if (this.options.hostHeader) headers.host = this.options.hostHeader;
      if (agent === false) headers.connection = 'close';
      const req = http.request({
        host: this.options.host,
        port: this.options.port,
        method: 'GET',
        path,
        headers,
        agent,
      });
      const timer = setTimeout(() => {
        req.destroy(new LoadTimeoutError('timeout'));
        finish({ kind: 'timeout' });
      }, this.options.timeoutMs);
      req.on('socket', (socket) => {
        socketRef = socket;
        bytesAtStart = socket.bytesRead;
        // Node sets req.reusedSocket only for a socket handed out at once, not for a request that
        // queued for one (maxSockets) and got it when it was freed: track reuse ourselves.
        reused = this.usedSockets.has(socket);
        this.usedSockets.add(socket);
      });
      req.on('response', (res) => {
        gotResponse = true;
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          if (size < MAX_BODY_BYTES) chunks.push(chunk);
          size += chunk.length;
        });
        res.on('end', () => finish({ kind: 'response', status: res.statusCode, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', (error: NodeJS.ErrnoException) => finish({ kind: 'error', error }));
        res.on('aborted', () => finish({ kind: 'error', error: Object.assign(new Error('response aborted'), { code: 'ECONNRESET' }) }));
      });
      req.on('error', (error: NodeJS.ErrnoException) => {
        if (error instanceof LoadTimeoutError) return finish({ kind: 'timeout' });
        const noBytes = !gotResponse && (socketRef === undefined || socketRef.bytesRead === bytesAtStart);
        const resetCode = KEEP_ALIVE_RESET_CODES.has(error.code ?? '') || error.message === 'socket hang up';
        finish({ kind: 'error', error, keepAliveReset: agent !== false && reused && noBytes && resetCode });
      });
      req.end();
    });
  }

  private maybeFinish(): void {
    if (this.stopped && this.inFlight === 0 && this.timer === undefined) this.finishSending?.();
  }
}

/** Runs a load to completion: `new LoadGenerator(options).run()`. */
export function runLoad(options: LoadOptions): Promise<LoadResult> {
  return new LoadGenerator(options).run();
}

function upstreamOf(body: string | undefined): string | undefined {
  if (!body || !body.trimStart().startsWith('{')) return undefined;
  try {
    const parsed: unknown = JSON.parse(body);
    if (parsed && typeof parsed === 'object' && 'hostname' in parsed && typeof parsed.hostname === 'string') {
      return parsed.hostname;
    }
  } catch {
    // not JSON: no upstream to count
  }
  return undefined;
}

/** Nearest-rank percentiles, in whole milliseconds (two decimals). */
export function summarize(values: readonly number[]): LatencySummary {
  if (values.length === 0) return { count: 0, p50: 0, p95: 0, p99: 0, max: 0 };
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) => round2(sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0);
  return { count: sorted.length, p50: at(50), p95: at(95), p99: at(99), max: round2(sorted[sorted.length - 1] ?? 0) };
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}
