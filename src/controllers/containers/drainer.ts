import type Docker from 'dockerode';
import type { Logger } from 'pino';

/** Longest a shutdown waits for drains in flight (a second SIGTERM exits at once anyway). */
export const DEFAULT_CLOSE_TIMEOUT_MS = 60_000;

export interface DrainRequest {
  app: string;
  id: string;
  name: string;
  drainSeconds: number;
  stopTimeoutSeconds: number;
  reason: string;
}

export interface DrainerDeps {
  docker: Docker;
  logger: Logger;
  /** Takes the replica out of the load balancer; resolves once nginx no longer routes to it. */
  leaveUpstream: (app: string) => Promise<void>;
  /** Called when a replica is gone (before it stops counting as draining), so its app is looked at again. */
  onGone: (app: string, id: string, reason: string) => void;
}

/**
 * Takes replicas out gracefully, in the background so one app's 30 s drain never blocks a
 * reconcile: leave the upstream, wait drainSeconds for in-flight requests, SIGTERM with a timeout,
 * then remove. While a replica drains the planner counts it nowhere.
 */
export class Drainer {
  private readonly draining = new Map<string, DrainRequest>();
  private readonly abort = new AbortController();
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly deps: DrainerDeps) {}

  isDraining(id: string): boolean {
    return this.draining.has(id);
  }

  start(request: DrainRequest): void {
    if (this.draining.has(request.id)) return;
    this.draining.set(request.id, request);
    const running = this.run(request).finally(() => {
      this.draining.delete(request.id);
      this.inFlight.delete(running);
    });
    this.inFlight.add(running);
  }

  /**
   * On shutdown: drains in flight are work in flight, so they finish (a replica already out of the
   * upstream would otherwise be adopted as serving by the next start), for at most `timeoutMs`;
   * then waiting stops, and what is left is found and drained again on the next start.
   */
  async close(timeoutMs = DEFAULT_CLOSE_TIMEOUT_MS): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.inFlight]),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs))),
    ]);
    clearTimeout(timer);
    this.abort.abort();
  }

  private async run(request: DrainRequest): Promise<void> {
    const { docker, logger } = this.deps;
    const log = logger.child({ app: request.app, container: request.name });
    const startedAt = Date.now();
    try {
      await this.deps.leaveUpstream(request.app);
      if (request.drainSeconds > 0) await sleep(request.drainSeconds * 1000, this.abort.signal);
      if (this.abort.signal.aborted) return;
      await removeContainer(docker, request.id, request.stopTimeoutSeconds);
      log.info({ reason: request.reason, durationMs: Date.now() - startedAt }, 'replica drained and removed');
      this.deps.onGone(request.app, request.id, request.reason);
    } catch (err) {
      log.warn({ err: String(err) }, 'drain failed; the next reconcile retries');
      this.deps.onGone(request.app, request.id, `drain failed: ${String(err)}`);
    }
  }
}

/** Stops (SIGTERM, then SIGKILL after the timeout) and removes. A 404 means it is already gone. */
export async function removeContainer(docker: Docker, id: string, stopTimeoutSeconds: number): Promise<void> {
  const container = docker.getContainer(id);
  try {
    await container.stop({ t: stopTimeoutSeconds });
  } catch (err) {
    if (!isStatus(err, 304) && !isStatus(err, 404)) throw err; // 304: already stopped
  }
  try {
    await container.remove({ force: true, v: true });
  } catch (err) {
    if (!isStatus(err, 404) && !isStatus(err, 409)) throw err; // 409: removal already in progress
  }
}

export function isStatus(err: unknown, status: number): boolean {
  return (err as { statusCode?: number } | null)?.statusCode === status;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}
