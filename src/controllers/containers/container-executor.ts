import type { Logger } from 'pino';
import type { ContainerShape } from '../../core/replica.js';
import { ImagePullFailedError } from '../../errors.js';
import { redactValues } from '../../secrets/redact-values.js';
import type { ContainerRuntime } from '../../runtime/runtime.js';
import type { Drainer } from './drainer.js';
import type { ContainerAction } from './plan-containers.js';

export interface ExecuteContext {
  instance: string;
  app: string;
  /** What a replica of each revision the plan may create looks like. */
  shapes: ReadonlyMap<string, ContainerShape>;
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
 * Runs a container plan through the runtime. Creates run in parallel; every action is attempted and
 * failures are collected, so one bad replica does not stop the others. An aborted signal stops the
 * waiting for an image; a replica being created is still started (never left half-made by us).
 */
export class ContainerExecutor {
  constructor(
    private readonly runtime: Pick<ContainerRuntime, 'ensureImage' | 'create' | 'start' | 'remove'>,
    private readonly drainer: Pick<Drainer, 'start'>,
    private readonly logger: Logger,
  ) {}

  async execute(actions: ContainerAction[], ctx: ExecuteContext, signal?: AbortSignal): Promise<ExecuteResult> {
    const result: ExecuteResult = { created: [], removed: [], draining: [], errors: [] };
    const creates = actions.filter((a) => a.kind === 'create');
    const images = new Set(creates.flatMap((a) => ctx.shapes.get(a.revision)?.image ?? []));
    for (const image of images) {
      try {
        await this.runtime.ensureImage(image, { signal });
      } catch (err) {
        // Aborted (the queue is stopping): no failure to record; the creates below are skipped.
        if (!signal?.aborted) result.errors.push(err as Error);
      }
    }
    await Promise.all(
      actions.map(async (action) => {
        const started = Date.now();
        try {
          switch (action.kind) {
            case 'create': {
              if (signal?.aborted || result.errors.some((e) => e instanceof ImagePullFailedError)) return;
              const shape = ctx.shapes.get(action.revision);
              if (!shape) throw new Error(`no spec known for revision ${action.revision}`);
              const replica = await this.runtime.create({
                instance: ctx.instance,
                app: ctx.app,
                revision: action.revision,
                slot: action.slot,
                shape,
                stopTimeoutSeconds: ctx.stopTimeoutSeconds,
                labels: ctx.labels,
              });
              await this.runtime.start(replica.id);
              result.created.push(replica.name);
              break;
            }
            case 'remove':
              if (action.drain) {
                this.drainer.start({ app: ctx.app, id: action.id, name: action.name, reason: action.reason, drainSeconds: action.skipDrainWait ? 0 : ctx.drainSeconds, stopTimeoutSeconds: ctx.stopTimeoutSeconds });
                result.draining.push(action.name);
              } else {
                await this.runtime.remove(action.id);
                result.removed.push(action.name);
              }
              break;
            case 'haltRollout':
              result.haltedRevision = action.revision;
              break;
          }
          this.logger.info({ app: ctx.app, action: action.kind, reason: action.reason, durationMs: Date.now() - started }, 'action done');
        } catch (thrown) {
          const err = thrown instanceof Error ? thrown : new Error(String(thrown));
          // The runtime's words may quote the env it was given: cut the values out before they go anywhere.
          if (action.kind === 'create') err.message = redactValues(err.message, Object.values(ctx.shapes.get(action.revision)?.env ?? {}));
          this.logger.warn({ app: ctx.app, action: action.kind, reason: action.reason, err: err.message }, 'action failed');
          result.errors.push(err);
        }
      }),
    );
    return result;
  }
}
