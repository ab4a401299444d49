// Live updates: one EventSource on /watch for the whole page. The server only says *that* the
// store changed ("change") or a metric sample was taken ("history"); pages re-read what they show.
// When the stream drops, the feed does not let EventSource retry on its own: the shell asks
// /ui/session first, so a session that ended (a controller restart) shows the login form instead
// of a stream refused with 401, and a reconnected page re-reads everything it may have missed.

export type LiveKind = 'change' | 'history';
type Listener = (kind: LiveKind) => void;

export class LiveFeed {
  private source: EventSource | undefined;
  private readonly listeners = new Set<Listener>();

  /** `onLost`: the stream dropped; the caller decides when and how to start again. */
  constructor(
    private readonly indicator: HTMLElement,
    private readonly onLost: () => void,
  ) {}

  start(): void {
    if (this.source) return;
    const source = new EventSource('/watch');
    this.source = source;
    source.addEventListener('hello', () => this.show('live'));
    source.addEventListener('change', () => this.emit('change'));
    source.addEventListener('history', () => this.emit('history'));
    source.addEventListener('error', () => {
      if (this.source !== source) return;
      this.stop('reconnecting');
      this.onLost();
    });
  }

  stop(state: 'offline' | 'reconnecting' = 'offline'): void {
    this.source?.close();
    this.source = undefined;
    this.show(state);
  }

  /** Calls `listener` on every change; returns the unsubscribe. */
  on(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(kind: LiveKind): void {
    for (const listener of this.listeners) listener(kind);
  }

  private show(state: 'live' | 'reconnecting' | 'offline'): void {
    this.indicator.textContent = state;
    this.indicator.dataset.state = state;
  }
}

/**
 * Wraps a refresh so calls never overlap: a call while one runs schedules exactly one more run
 * after it (a burst of changes costs at most two fetches).
 */
export function coalesce(task: () => Promise<void>): () => void {
  let running = false;
  let again = false;
  const run = async () => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      do {
        again = false;
        await task();
      } while (again);
    } finally {
      running = false;
    }
  };
  return () => void run();
}
