// Image pulls outside the reconcile pass. A pull may take minutes (or hang until its bound): a pass
// that waited for it would hold a queue worker that long. Here a pass only asks; a missing image
// gets one pull in the background, the app waits with a condition, and when the pull has ended its
// apps are looked at again.
import type { Logger } from 'pino';
import { ImagePullFailedError, errorMessage } from '../../errors.js';
import type { ContainerRuntime } from '../../runtime/runtime.js';

export type ImageReadiness = { state: 'present' } | { state: 'pulling'; sinceMs: number };

export interface ImagePullerDeps {
  runtime: Pick<ContainerRuntime, 'hasImage' | 'pullImage'>;
  logger: Logger;
  /** A pull `app` waited for has ended (pulled or failed): look at the app again. */
  onPullEnded: (app: string) => void;
  now?: () => number;
}

interface Pull {
  startedAt: number;
  /** Apps waiting on it. */
  apps: Set<string>;
}

/**
 * One pull per image at a time: a second app, or a second pass, waiting for the same image joins
 * the pull under way. A pull stays "under way" until the runtime's pull has settled, which is only
 * once the engine's pull has ended or been cancelled at its bound, so a pull that timed out is
 * never started again beside itself. A failed pull is reported once to each app that waited for
 * it (the pass records ImagePullFailed and backs off); the app's next pass tries again.
 */
export class ImagePuller {
  private readonly pulls = new Map<string, Pull>();
  /** Per image, the apps still to be told that its pull failed, with the error. */
  private readonly failures = new Map<string, { error: ImagePullFailedError; apps: Set<string> }>();
  private readonly now: () => number;

  constructor(private readonly deps: ImagePullerDeps) {
    this.now = deps.now ?? Date.now;
  }

  /**
   * Whether `app` can create replicas of `image` now. Present: go. Missing: a pull is started (or
   * joined) and the answer is 'pulling'. Throws the ImagePullFailedError of a pull this app waited
   * for, once. The presence check is bounded by the runtime; an aborted signal ends it.
   */
  async ready(app: string, image: string, signal?: AbortSignal): Promise<ImageReadiness> {
    const failed = this.failures.get(image);
    if (failed?.apps.delete(app)) {
      if (failed.apps.size === 0) this.failures.delete(image);
      throw failed.error;
    }
    const underway = this.pulls.get(image);
    if (underway) {
      underway.apps.add(app);
      return { state: 'pulling', sinceMs: underway.startedAt };
    }
    if (await this.deps.runtime.hasImage(image, { signal })) return { state: 'present' };
    return { state: 'pulling', sinceMs: this.start(app, image).startedAt };
  }

  /** Images being pulled now, with the apps waiting on each (status, tests). */
  underway(): Map<string, string[]> {
    return new Map([...this.pulls].map(([image, pull]) => [image, [...pull.apps].sort()]));
  }

  private start(app: string, image: string): Pull {
    const pull: Pull = { startedAt: this.now(), apps: new Set([app]) };
    this.pulls.set(image, pull);
    this.deps.logger.info({ image, app }, 'image missing; pulling it outside the reconcile pass');
    void this.deps.runtime.pullImage(image).then(
      () => {
        this.deps.logger.info({ image, durationMs: this.now() - pull.startedAt }, 'image pulled');
        this.end(image, pull);
      },
      (err: unknown) => {
        const error = err instanceof ImagePullFailedError ? err : new ImagePullFailedError(image, errorMessage(err), err);
        this.deps.logger.warn({ image, err: error.message }, 'image pull failed');
        this.failures.set(image, { error, apps: new Set(pull.apps) });
        this.end(image, pull);
      },
    );
    return pull;
  }

  private end(image: string, pull: Pull): void {
    this.pulls.delete(image);
    for (const app of pull.apps) this.deps.onPullEnded(app);
  }
}
