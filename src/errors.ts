// Errors that carry a condition reason, in two kinds: stalled — retrying won't help until the
// input changes (recorded, no requeue); transient — retry with backoff.

export type ErrorKind = 'stalled' | 'transient';

export class ReconcileError extends Error {
  constructor(
    /** Also the condition's reason, e.g. "ImagePullFailed". */
    readonly reason: string,
    message: string,
    readonly kind: ErrorKind,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ReconcileError';
  }
}

export class ImagePullFailedError extends ReconcileError {
  constructor(image: string, detail: string, cause?: unknown) {
    super('ImagePullFailed', `image ${image} is not present and could not be pulled: ${detail}`, 'transient', { cause });
  }
}

/** A create found its deterministic name taken: the observation was stale. Nothing was changed. */
export class ReplicaExistsError extends ReconcileError {
  constructor(name: string, cause?: unknown) {
    super('ReplicaExists', `${name} exists already; observing again`, 'transient', { cause });
  }
}

/** The container engine did not answer within the call's bound (hung, or far too busy). */
export class RuntimeUnresponsiveError extends ReconcileError {
  constructor(what: string, timeoutMs: number, cause?: unknown) {
    super('RuntimeUnresponsive', `the container engine did not answer ${what} within ${timeoutMs / 1000} s`, 'transient', { cause });
  }
}

/** The replica network could not be had (its name is taken, its subnet is not private, the engine refused). */
export class NetworkUnavailableError extends ReconcileError {
  constructor(network: string, detail: string, cause?: unknown) {
    super('NetworkUnavailable', `network ${network}: ${detail}`, 'transient', { cause });
  }
}

/** An action was refused because this controller does not lead (another one acts on the swarm). */
export class NotLeaderError extends ReconcileError {
  constructor(action: string) {
    super('NotLeader', `${action} refused: this controller does not hold the leader lease`, 'transient');
  }
}

/** An env `valueFrom` that names nothing the operator opened to apps, or nothing that is set. */
export class EnvMissingError extends ReconcileError {
  constructor(app: string, variable: string, why: string) {
    super('EnvValueMissing', `app ${app}: env ${variable}: ${why}`, 'stalled');
  }
}

/** The manifest asks for something the runtime in use cannot do (e.g. a published port on a Swarm). */
export class UnsupportedByRuntimeError extends ReconcileError {
  constructor(runtime: string, field: string, why: string) {
    super('UnsupportedByRuntime', `${field} is not supported with --runtime ${runtime}: ${why}`, 'stalled');
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
