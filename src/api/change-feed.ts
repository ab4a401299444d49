// GET /watch: a server-sent event stream that says *that* something changed, never what: the page
// then re-reads the endpoints it shows. One timer serves every stream and runs only while one is
// open; each check compares two counters, so an open page costs the controller next to nothing
// when nothing happens, and one small write per change when something does.
import type { ServerResponse } from 'node:http';

/** How often the counters are compared: a change reaches an open page within this (+ its fetch). */
export const WATCH_CHECK_MS = 500;
/** A comment line this often keeps idle proxies from closing the stream and finds dead clients. */
export const WATCH_HEARTBEAT_MS = 25_000;
/** What EventSource waits before reconnecting after the stream drops. */
const RECONNECT_MS = 2_000;

export interface ChangeFeedOptions {
  /** Open streams beyond this are refused (HttpLimits.maxWatchStreams). */
  maxStreams: number;
  /** Bumped by every store mutation (Store.changeCount). */
  storeChanges: () => number;
  /** Time of the newest metric history sample (0 without history). */
  historyAt: () => number;
}

export class ChangeFeed {
  private readonly streams = new Set<ServerResponse>();
  private timer: NodeJS.Timeout | undefined;
  private lastStore = 0;
  private lastHistory = 0;
  private sinceHeartbeatMs = 0;

  constructor(private readonly options: ChangeFeedOptions) {}

  get size(): number {
    return this.streams.size;
  }

  /** True when another stream may open. */
  hasRoom(): boolean {
    return this.streams.size < this.options.maxStreams;
  }

  /** Turns `res` into an event stream: a `hello` with the current counters, then `change`/`history` events. */
  open(res: ServerResponse): void {
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      'X-Accel-Buffering': 'no',
      // The socket goes with the stream: a kept-alive one would hold server.close() after end().
      Connection: 'close',
    });
    res.write(`retry: ${RECONNECT_MS}\n`);
    res.write(event('hello', { store: this.options.storeChanges(), history: this.options.historyAt() }));
    if (this.streams.size === 0) this.startChecking();
    this.streams.add(res);
    res.on('close', () => {
      this.streams.delete(res);
      if (this.streams.size === 0) this.stopChecking();
    });
  }

  /** Ends every stream (server shutdown: an open stream would hold server.close() forever). */
  close(): void {
    for (const res of this.streams) res.end();
    this.streams.clear();
    this.stopChecking();
  }

  /** One comparison of the counters; public for tests. */
  check(): void {
    const store = this.options.storeChanges();
    const history = this.options.historyAt();
    let message = '';
    if (store !== this.lastStore) message += event('change', { store });
    if (history !== this.lastHistory) message += event('history', { t: history });
    this.lastStore = store;
    this.lastHistory = history;
    this.sinceHeartbeatMs += WATCH_CHECK_MS;
    if (message === '' && this.sinceHeartbeatMs >= WATCH_HEARTBEAT_MS) message = ': ping\n\n';
    if (message === '') return;
    this.sinceHeartbeatMs = 0;
    for (const res of this.streams) res.write(message);
  }

  private startChecking(): void {
    this.lastStore = this.options.storeChanges();
    this.lastHistory = this.options.historyAt();
    this.timer = setInterval(() => this.check(), WATCH_CHECK_MS);
    this.timer.unref();
  }

  private stopChecking(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}

function event(name: string, data: unknown): string {
  return `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
}
