import type Docker from 'dockerode';
import type { Logger } from 'pino';
import { ImagePullFailedError, ReconcileError, errorMessage } from '../../errors.js';
import { containerCreateOptions, type ReplicaIdentity } from './container-config.js';
import { Drainer, isStatus } from './drainer.js';
import type { ContainerAction } from './plan-containers.js';
import type { ContainerShape } from '../../core/replica.js';

const PULL_TIMEOUT_MS = 120_000;

export interface ExecuteContext {
  instance: string;
  app: string;
  shape: ContainerShape;
  drainSeconds: number;
  stopTimeoutSeconds: number;
  /** Extra labels put on every container (tests mark theirs). */
  labels?: Record<string, string>;
}

export interface ExecuteResult {
  created: string[];
  removed: string[];
  draining: string[];
  haltedRevision?: string;
  errors: Error[];
}

/**
 * Runs a container plan with dockerode. Creates run in parallel; every action is attempted and
 * failures are collected, so one bad replica does not stop the others.
 */
export class ContainerExecutor {
  constructor(
    private readonly docker: Docker,
    private readonly drainer: Drainer,
    private readonly logger: Logger,
  ) {}

  async execute(actions: ContainerAction[], ctx: ExecuteContext): Promise<ExecuteResult> {
    const result: ExecuteResult = { created: [], removed: [], draining: [], errors: [] };
    const creates = actions.filter((a) => a.kind === 'create');
    if (creates.length > 0) {
      try {
        await this.ensureImage(ctx.shape.image);
      } catch (err) {
        result.errors.push(err as Error);
      }
    }
    await Promise.all(
      actions.map(async (action) => {
        const started = Date.now();
        try {
          switch (action.kind) {
            case 'create': {
              if (result.errors.some((e) => e instanceof ImagePullFailedError)) return;
              const identity: ReplicaIdentity = { instance: ctx.instance, app: ctx.app, revision: action.revision, slot: action.slot, labels: ctx.labels };
              const name = await this.create(ctx, identity);
              result.created.push(name);
              break;
            }
            case 'remove':
              if (action.drain) {
                this.drainer.start({ app: ctx.app, id: action.id, name: action.name, reason: action.reason, drainSeconds: action.skipDrainWait ? 0 : ctx.drainSeconds, stopTimeoutSeconds: ctx.stopTimeoutSeconds });
                result.draining.push(action.name);
              } else {
                await this.docker.getContainer(action.id).remove({ force: true, v: true }).catch((err: unknown) => {
                  if (!isStatus(err, 404) && !isStatus(err, 409)) throw err;
                });
                result.removed.push(action.name);
              }
              break;
            case 'haltRollout':
              result.haltedRevision = action.revision;
              break;
          }
          this.logger.info({ app: ctx.app, action: action.kind, reason: action.reason, durationMs: Date.now() - started }, 'action done');
        } catch (err) {
          this.logger.warn({ app: ctx.app, action: action.kind, reason: action.reason, err: errorMessage(err) }, 'action failed');
          result.errors.push(err instanceof Error ? err : new Error(String(err)));
        }
      }),
    );
    return result;
  }

  private async create(ctx: ExecuteContext, identity: ReplicaIdentity): Promise<string> {
    const options = containerCreateOptions(ctx.shape, identity, ctx.stopTimeoutSeconds);
    let container: Docker.Container;
    try {
      container = await this.docker.createContainer(options);
    } catch (err) {
      // The name is taken: our observation was stale. Never remove what may be serving; the pass
      // fails, and the next one observes afresh (a leftover that is not running is removed then).
      if (isStatus(err, 409)) throw new ReconcileError('ReplicaExists', `${options.name} exists already; observing again`, 'transient', { cause: err });
      throw err;
    }
    await container.start();
    return options.name!;
  }

  /** Makes sure the image is present, pulling it when not; a failed pull fails fast and clearly. */
  private async ensureImage(image: string): Promise<void> {
    try {
      await this.docker.getImage(image).inspect();
      return;
    } catch (err) {
      if (!isStatus(err, 404)) throw err;
    }
    this.logger.info({ image }, 'image not present; pulling');
    try {
      await withTimeout(this.pull(image), PULL_TIMEOUT_MS, `pull of ${image} timed out`);
    } catch (err) {
      throw new ImagePullFailedError(image, errorMessage(err), err);
    }
  }

  private async pull(image: string): Promise<void> {
    const stream = await this.docker.pull(image);
    await new Promise<void>((resolve, reject) => {
      this.docker.modem.followProgress(stream, (err: Error | null, output: { error?: string }[]) => {
        const failure = err?.message ?? output?.find((o) => o.error)?.error;
        if (failure) reject(new Error(failure));
        else resolve();
      });
    });
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(message)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
