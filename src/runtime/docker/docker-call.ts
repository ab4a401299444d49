// Every call to the Docker engine is bounded in time. A hung dockerd (SIGSTOP, a deadlock, a full
// disk under its data root) accepts connections on its socket and answers nothing: without a bound
// a reconcile pass, a drain or the status endpoint would wait forever. Each call gets an abort
// signal that fires at its timeout (or with the caller's signal); dockerode aborts the HTTP request
// with it, and where a call cannot be aborted the waiting stops anyway.
import { untilAborted } from '../../core/with-timeout.js';
import { RuntimeUnresponsiveError } from '../../errors.js';

/** Per verb, how long Docker may take. Generous: a busy engine is slow, a hung one never answers. */
export const DOCKER_CALL_TIMEOUT_MS = {
  ping: 5_000,
  info: 5_000,
  list: 15_000,
  inspect: 15_000,
  imageInspect: 15_000,
  create: 30_000,
  start: 30_000,
  /** A Swarm service's spec (its task count, its placement). */
  update: 30_000,
  /** Plus the stop's own grace (SIGTERM to SIGKILL). */
  stop: 15_000,
  remove: 30_000,
  logs: 15_000,
  stats: 15_000,
  /**
   * A pull of a missing image, in all (runs outside the reconcile pass:
   * controllers/containers/image-puller); a pull that makes no progress ends sooner (PULL_STALL_MS).
   */
  pull: 30 * 60_000,
} as const;

/** A pull whose engine reports no progress for this long is given up (a large image on a slow link still pulls). */
export const PULL_STALL_MS = 120_000;

/**
 * Runs `call` with an abort signal that fires after `timeoutMs` or when `signal` aborts. A timeout
 * rejects with RuntimeUnresponsiveError naming the verb; the caller's abort with its reason (an
 * already aborted signal rejects before anything is sent).
 */
export async function dockerCall<T>(what: string, timeoutMs: number, signal: AbortSignal | undefined, call: (abortSignal: AbortSignal) => Promise<T>): Promise<T> {
  signal?.throwIfAborted(); // nothing is sent for a caller that has stopped
  const timeout = AbortSignal.timeout(timeoutMs);
  const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
  try {
    return await untilAborted(Promise.resolve().then(() => call(combined)), combined);
  } catch (err) {
    if (signal?.aborted) throw signal.reason;
    if (timeout.aborted) throw new RuntimeUnresponsiveError(what, timeoutMs, err);
    throw err;
  }
}
