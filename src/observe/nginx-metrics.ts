// Per-app request metrics from nginx's per-app JSON access logs (<logsDir>/access-<app>.log):
// requests per second, p95 upstream latency, 5xx rate and concurrency, over sliding windows of
// 1-second buckets, plus per-second series for the autoscaler. See docs/metrics.md for why the
// files are tailed (not syslog) and how concurrency is estimated.
import { watch, type FSWatcher } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { ACCESS_LOG_FLUSH_SECONDS } from '../core/access-log-buffer.js';
import { parseAccessLogLine } from './access-log.js';
import { LogTailer } from './log-tailer.js';
import { DEFAULT_WINDOW_SECONDS, RequestWindow, type RequestMetric, type SeriesPoint } from './request-window.js';

export const DEFAULT_POLL_INTERVAL_MS = 250;
/** On start, this much of each existing log is re-read so the windows survive a controller restart. */
export const DEFAULT_BACKFILL_BYTES = 4 * 1024 * 1024;
/** With a directory watch, every this many polls still stats every log (rotation, missed events). */
const FULL_SWEEP_POLLS = 10;
/** Lines stamped further ahead than this (clock step) are ignored: they would evict the window. */
const MAX_FUTURE_SKEW_MS = 5_000;
const ACCESS_LOG = /^access-(.+)\.log$/;

export interface AccessLogMetricsOptions {
  /** nginx's logs directory (NginxProcess.logsDir). */
  logsDir: string;
  logger: Logger;
  /** Longest window a query may ask for; memory per app is ~1 KiB per second of it. Default 60. */
  windowSeconds?: number;
  pollIntervalMs?: number;
  /** Longest nginx holds a line in its access-log buffer (flush=). Default ACCESS_LOG_FLUSH_SECONDS. */
  flushMs?: number;
  backfillBytes?: number;
  /** Clock, ms since the epoch (tests). */
  now?: () => number;
}

interface AppLog {
  tailer: LogTailer;
  window: RequestWindow;
}

/**
 * Tails every access-<app>.log in `logsDir`. Queries cover whole seconds that ended at least nginx's
 * buffer flush interval plus one poll interval ago (so nginx has written them and we have read
 * them): at 12:00:05.3 with a 1 s flush and the default 250 ms poll, a 10 s window is
 * 11:59:54 .. 12:00:03. A second once reported does not change later. Unknown apps read as no traffic.
 */
export class AccessLogMetrics {
  private readonly logsDir: string;
  private readonly logger: Logger;
  private readonly windowSeconds: number;
  private readonly pollIntervalMs: number;
  private readonly flushMs: number;
  private readonly backfillBytes: number;
  private readonly now: () => number;
  private readonly apps = new Map<string, AppLog>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private polling: Promise<void> | undefined;
  private started = false;
  private firstScan = true;
  private malformed = 0;
  // inotify on the logs directory names the files that changed, so an idle poll touches nothing;
  // a full sweep every FULL_SWEEP_POLLS polls catches anything a watch could miss.
  private dirWatcher: FSWatcher | undefined;
  private readonly changed = new Set<string>();
  private pollsSinceSweep = 0;

  constructor(opts: AccessLogMetricsOptions) {
    this.logsDir = opts.logsDir;
    this.logger = opts.logger.child({ component: 'access-log-metrics' });
    this.windowSeconds = opts.windowSeconds ?? DEFAULT_WINDOW_SECONDS;
    this.pollIntervalMs = opts.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
    this.flushMs = opts.flushMs ?? ACCESS_LOG_FLUSH_SECONDS * 1000;
    this.backfillBytes = opts.backfillBytes ?? DEFAULT_BACKFILL_BYTES;
    this.now = opts.now ?? Date.now;
  }

  /** Reads the logs once (backfilling the window), then every poll interval until stop(). */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    await this.poll();
    this.watchDirectory();
    this.schedule();
  }

  private watchDirectory(): void {
    try {
      this.dirWatcher = watch(this.logsDir, (_event, name) => {
        if (name) this.changed.add(name.toString());
        else this.pollsSinceSweep = FULL_SWEEP_POLLS; // overflow: sweep next time
      });
      this.dirWatcher.on('error', () => this.unwatchDirectory());
    } catch {
      this.dirWatcher = undefined; // no directory yet: full polls until a restart of the reader
    }
  }

  private unwatchDirectory(): void {
    this.dirWatcher?.close();
    this.dirWatcher = undefined;
  }

  async stop(): Promise<void> {
    this.started = false;
    this.unwatchDirectory();
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.polling;
    for (const app of [...this.apps.keys()]) await this.dropApp(app);
  }

  /**
   * Reads whatever the logs gained since the last poll; concurrent calls share one pass. Call it
   * before a query that must include the last moments (tests; an autoscaler tick may as well).
   */
  poll(): Promise<void> {
    return this.runPoll(true);
  }

  /** A full pass reads every log; the timer's passes read only those inotify named (idle cost). */
  private runPoll(full: boolean): Promise<void> {
    this.polling ??= this.pollOnce(full).finally(() => {
      this.polling = undefined;
    });
    return this.polling;
  }

  /** Apps with a window (an access log exists for them). */
  appNames(): string[] {
    return [...this.apps.keys()].sort();
  }

  rps(app: string, windowSeconds = this.windowSeconds): number {
    return this.apps.get(app)?.window.rps(this.lastSecond(), windowSeconds) ?? 0;
  }

  /** 95th percentile of upstream time, ms (±2.5 %); null without upstream requests in the window. */
  p95Ms(app: string, windowSeconds = this.windowSeconds): number | null {
    return this.apps.get(app)?.window.p95Ms(this.lastSecond(), windowSeconds) ?? null;
  }

  /** Share of requests answered 5xx (by nginx or the app); 0 without requests. */
  errorRate(app: string, windowSeconds = this.windowSeconds): number {
    return this.apps.get(app)?.window.errorRate(this.lastSecond(), windowSeconds) ?? 0;
  }

  /** Mean requests in flight at the app's replicas (Little's law on upstream time); see docs/metrics.md. */
  concurrency(app: string, windowSeconds = this.windowSeconds): number {
    return this.apps.get(app)?.window.concurrency(this.lastSecond(), windowSeconds) ?? 0;
  }

  /** Requests counted in the window. */
  requests(app: string, windowSeconds = this.windowSeconds): number {
    return this.apps.get(app)?.window.requests(this.lastSecond(), windowSeconds) ?? 0;
  }

  /**
   * One point per complete second from `sinceMs` (at most the window back), oldest first; seconds
   * without requests are included (rps 0, concurrency 0, p95 and errorRate null). Empty for an
   * unknown app.
   */
  series(app: string, metric: RequestMetric, sinceMs: number): SeriesPoint[] {
    const window = this.apps.get(app)?.window;
    return window ? window.series(metric, Math.floor(sinceMs / 1000), this.lastSecond()) : [];
  }

  /** Lines that were not `autoserve_json` records, since start (a format mismatch shows here). */
  malformedLines(): number {
    return this.malformed;
  }

  /** Bytes held by all windows (bounded: apps x window). */
  byteLength(): number {
    let n = 0;
    for (const { window } of this.apps.values()) n += window.byteLength();
    return n;
  }

  private lastSecond(): number {
    return Math.floor((this.now() - this.pollIntervalMs - this.flushMs) / 1000) - 1;
  }

  private schedule(): void {
    if (!this.started) return;
    this.timer = setTimeout(() => {
      void this.runPoll(false).finally(() => this.schedule());
    }, this.pollIntervalMs);
    this.timer.unref?.();
  }

  private async pollOnce(full: boolean): Promise<void> {
    if (!full && this.dirWatcher && ++this.pollsSinceSweep < FULL_SWEEP_POLLS) return this.pollChanged();
    this.pollsSinceSweep = 0;
    this.changed.clear();
    const firstScan = this.firstScan;
    this.firstScan = false;
    let names: string[];
    try {
      names = await readdir(this.logsDir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.logger.warn({ err, logsDir: this.logsDir }, 'cannot list the nginx logs directory');
      names = [];
    }
    const present = new Set<string>();
    for (const name of names) {
      const match = ACCESS_LOG.exec(name);
      if (match?.[1]) present.add(match[1]);
    }
    for (const app of present) {
      if (!this.apps.has(app)) this.addApp(app, firstScan);
    }
    for (const [app, log] of this.apps) {
      const result = await log.tailer.poll();
      // The file is gone (app removed and its log deleted): drop the window with it.
      if (result === 'missing' && !present.has(app)) await this.dropApp(app);
    }
  }

  /** Reads only the logs inotify reported as changed since the last poll. */
  private async pollChanged(): Promise<void> {
    const names = [...this.changed];
    this.changed.clear();
    for (const name of names) {
      const app = ACCESS_LOG.exec(name)?.[1];
      if (!app) continue;
      if (!this.apps.has(app)) this.addApp(app, false);
      // Gone (app removed and its log deleted): drop the window with it, as a full sweep would.
      if ((await this.apps.get(app)!.tailer.poll()) === 'missing') await this.dropApp(app);
    }
  }

  private addApp(app: string, existedAtStart: boolean): void {
    const window = new RequestWindow(this.windowSeconds);
    const file = path.join(this.logsDir, `access-${app}.log`);
    // A log found at start is backfilled (windows survive a restart); one that appears later is read whole.
    const tailer = new LogTailer(file, (line) => this.ingest(window, line), {
      startAt: existedAtStart ? { backfillBytes: this.backfillBytes } : 'start',
    });
    this.apps.set(app, { tailer, window });
    this.logger.debug({ app, file }, 'tailing access log');
  }

  private async dropApp(app: string): Promise<void> {
    const log = this.apps.get(app);
    this.apps.delete(app);
    await log?.tailer.close();
  }

  private ingest(window: RequestWindow, line: string): void {
    const entry = parseAccessLogLine(line);
    if (!entry) {
      if (this.malformed++ === 0) this.logger.warn({ line: line.slice(0, 200) }, 'access log line is not autoserve_json');
      return;
    }
    if (entry.timeMs > this.now() + MAX_FUTURE_SKEW_MS) return;
    window.record(entry.timeMs, entry.status, entry.upstreamMs);
  }
}
