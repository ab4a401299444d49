import type { Logger } from 'pino';
import type { ContainerShape } from '../../core/replica.js';
import { redactValues } from '../../secrets/redact-values.js';
import type { ContainerRuntime } from '../../runtime/runtime.js';
import type { Drainer } from './drainer.js';
import type { ImagePuller } from './image-puller.js';
import type { ContainerAction } from './plan-containers.js';
import { StartGate } from './start-gate.js';

export interface ExecuteContext {
  instance: string;
  app: string;
  /** What a replica of each revision the plan may create looks like. */
  shapes: ReadonlyMap<string, ContainerShape>;
  drainSeconds: number;
  stopTimeoutSeconds: number;
  /** The app's live replicas when the pass planned: fewer goes first through the start gate. */
  live: number;
  /** Each replica as soon as it has started, before the pass ends (so it is probed at once). */
  onStarted?: (id: string) => void;
  /** Extra labels put on every container (tests mark theirs). */
  labels?: Record<string, string>;
}

export interface ExecuteResult {
  created: string[];
  removed: string[];
  draining: string[];
  haltedRevision?: string;
  /** The image the creates wait for: its pull runs outside the pass, the creates were skipped. */
  pullingImage?: { image: string; sinceMs: number };
  errors: Error[];
}

export interface ContainerExecutorDeps {
  runtime: Pick<ContainerRuntime, 'create' | 'start' | 'remove'>;
  drainer: Pick<Drainer, 'start'>;
  /** Whether an image is there to create from (pulls run outside the pass). */
  images: Pick<ImagePuller, 'ready'>;
  logger: Logger;
  /** Shared by every pass: replica starts across all apps, most needed first. */
  startGate?: StartGate;
}

/**
 * Runs a container plan through the runtime. Creates run in parallel; every action is attempted and
 * failures are collected, so one bad replica does not stop the others. A missing image is not
 * waited for: its pull runs in the background and the creates wait for a later pass. An aborted
 * signal stops the waiting; a replica being created is still started (never left half-made by us).
 */
export class ContainerExecutor {
  private readonly runtime: ContainerExecutorDeps['runtime'];
  private readonly drainer: ContainerExecutorDeps['drainer'];
  private readonly images: ContainerExecutorDeps['images'];
  private readonly logger: Logger;
  private readonly startGate: StartGate;

  constructor(deps: ContainerExecutorDeps) {
    this.runtime = deps.runtime;
    this.drainer = deps.drainer;
    this.images = deps.images;
    this.logger = deps.logger;
    this.startGate = deps.startGate ?? new StartGate();
  }

  async execute(actions: ContainerAction[], ctx: ExecuteContext, signal?: AbortSignal): Promise<ExecuteResult> {
    const result: ExecuteResult = { created: [], removed: [], draining: [], errors: [] };
    const creates = actions.filter((a) => a.kind === 'create');
    const images = new Set(creates.flatMap((a) => ctx.shapes.get(a.revision)?.image ?? []));
    /** Images there to create from; a missing one is being pulled outside the pass. */
    const present = new Set<string>();
    for (const image of images) {
      try {
        const readiness = await this.images.ready(ctx.app, image, signal);
        if (readiness.state === 'pulling') result.pullingImage ??= { image, sinceMs: readiness.sinceMs };
        else present.add(image);
      } catch (err) {
        // Aborted (the queue is stopping): no failure to record; the creates below are skipped.
        if (!signal?.aborted) result.errors.push(err as Error);
      }
    }
    let startIndex = 0;
    await Promise.all(
      actions.map(async (action) => {
        const started = Date.now();
        try {
          switch (action.kind) {
            case 'create': {
              const shape = ctx.shapes.get(action.revision);
              if (!shape) throw new Error(`no spec known for revision ${action.revision}`);
              if (signal?.aborted || !present.has(shape.image)) return;
              const priority = ctx.live + startIndex++;
              const replica = await this.startGate.run(priority, async () => {
                const created = await this.runtime.create({
                  instance: ctx.instance,
                  app: ctx.app,
                  revision: action.revision,
                  slot: action.slot,
                  shape,
                  stopTimeoutSeconds: ctx.stopTimeoutSeconds,
                  labels: ctx.labels,
                });
                await this.runtime.start(created.id);
                return created;
              }, signal);
              result.created.push(replica.name);
              ctx.onStarted?.(replica.id);
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
