// Coalesces bursts of "routes may have changed" into one apply of the whole current table, and
// never runs two applies at once. A request made while an apply runs gets one more apply after it,
// which reads the table afresh (level-triggered), so no change is lost.
import type { ApplyResult } from './load-balancer.js';
import type { RouteTable } from '../../core/routes.js';

export const DEFAULT_ROUTE_SYNC_DELAY_MS = 50;

export interface RouteSyncOptions {
  getTable: () => RouteTable;
  apply: (table: RouteTable) => Promise<ApplyResult>;
  /** How long to wait for more requests before applying. */
  delayMs?: number;
}

interface Waiter {
  resolve: (result: ApplyResult) => void;
  reject: (err: unknown) => void;
}

export class RouteSync {
  private readonly opts: RouteSyncOptions;
  private waiting: Waiter[] = [];
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private closed = false;
  /** A waiting request asked not to wait for more: the next apply starts at once. */
  private urgent = false;

  constructor(opts: RouteSyncOptions) {
    this.opts = opts;
  }

  /**
   * Schedules an apply, after a short wait for more requests unless `urgent`. Resolves with the result of the first apply that starts after this call
   * (so it saw the table as of now or later): e.g. once a drained replica is out of the served
   * upstream. Rejects if that apply throws.
   */
  request(opts: { urgent?: boolean } = {}): Promise<ApplyResult> {
    if (this.closed) return Promise.reject(new Error('RouteSync is closed'));
    const promise = new Promise<ApplyResult>((resolve, reject) => this.waiting.push({ resolve, reject }));
    if (opts.urgent && !this.urgent) {
      this.urgent = true;
      // A coalescing wait already under way is cut short.
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.schedule();
    return promise;
  }

  /** Stops scheduling; pending requests are rejected. An apply in flight finishes. */
  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const waiting = this.waiting;
    this.waiting = [];
    for (const w of waiting) w.reject(new Error('RouteSync is closed'));
  }

  private schedule(): void {
    if (this.running || this.timer || this.closed) return; // the running apply reschedules when done
    this.timer = setTimeout(() => void this.run(), this.urgent ? 0 : (this.opts.delayMs ?? DEFAULT_ROUTE_SYNC_DELAY_MS));
  }

  private async run(): Promise<void> {
    this.timer = undefined;
    this.urgent = false;
    const batch = this.waiting;
    this.waiting = [];
    this.running = true;
    try {
      const result = await this.opts.apply(this.opts.getTable());
      for (const w of batch) w.resolve(result);
    } catch (err) {
      for (const w of batch) w.reject(err);
    } finally {
      this.running = false;
      if (this.waiting.length > 0) this.schedule();
    }
  }
}
