import type { Logger } from 'pino';
import type { ContainerRuntime } from '../../runtime/runtime.js';
import { sleep } from '../../core/with-timeout.js';

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
  runtime: Pick<ContainerRuntime, 'stop' | 'remove'>;
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
    const { runtime, logger } = this.deps;
    const log = logger.child({ app: request.app, container: request.name });
    const startedAt = Date.now();
    try {
      await this.deps.leaveUpstream(request.app);
      if (request.drainSeconds > 0) await sleep(request.drainSeconds * 1000, this.abort.signal);
      if (this.abort.signal.aborted) return;
      await runtime.stop(request.id, request.stopTimeoutSeconds); // SIGTERM, SIGKILL after the timeout
      await runtime.remove(request.id);
      log.info({ reason: request.reason, durationMs: Date.now() - startedAt }, 'replica drained and removed');
      this.deps.onGone(request.app, request.id, request.reason);
    } catch (err) {
      log.warn({ err: String(err) }, 'drain failed; the next reconcile retries');
      this.deps.onGone(request.app, request.id, `drain failed: ${String(err)}`);
    }
  }
}
