// Errors that carry a condition reason. The reconcile engine sorts them into three kinds
// (style item 6): stalled — retrying won't help until the input changes; waiting — something must
// happen first; transient — retry with backoff.

export type ErrorKind = 'stalled' | 'waiting' | 'transient';

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

/** An env `valueFrom` that names nothing the operator opened to apps, or nothing that is set. */
export class EnvMissingError extends ReconcileError {
  constructor(app: string, variable: string, why: string) {
    super('EnvValueMissing', `app ${app}: env ${variable}: ${why}`, 'stalled');
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
