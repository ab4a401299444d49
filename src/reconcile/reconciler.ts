/**
 * The reconcile contract (after controller-runtime's): one key in, a small result out.
 *
 * - Resolving means the pass did what it could. `requeueAfterMs` asks for another look after that
 *   long even if nothing happens (a replica is still starting, a drain is running); a clean pass
 *   also resets the key's backoff.
 * - Throwing means "try again": the queue requeues the key with exponential backoff.
 * - A stalled error (input must change first) is recorded by the reconciler itself, which then
 *   resolves without requeue; the periodic resync still looks again.
 * Events never carry data into a pass: every pass reads the whole desired spec and the whole
 * observed state of its key.
 */
export interface ReconcileResult {
  requeueAfterMs?: number;
}

export interface Reconciler {
  reconcile(key: string, signal: AbortSignal): Promise<ReconcileResult>;
}
