// The work queue's abort signal reaches the work a pass starts: stopping the queue ends a pass that
// waits on the runtime (a listing, an image check) instead of waiting for it; a create is not begun.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { ContainerController } from '../../../src/controllers/containers/container-controller.js';
import { ContainerExecutor } from '../../../src/controllers/containers/container-executor.js';
import { Drainer } from '../../../src/controllers/containers/drainer.js';
import { ImagePuller } from '../../../src/controllers/containers/image-puller.js';
import { untilAborted } from '../../../src/core/with-timeout.js';
import { HealthProber } from '../../../src/observe/health-prober.js';
import { WorkQueue } from '../../../src/reconcile/work-queue.js';
import type { CallOptions } from '../../../src/runtime/runtime.js';
import { openValueSource } from '../../../src/secrets/value-source.js';
import { Store } from '../../../src/store/store.js';

/** A fixed fingerprint key: tests compare revisions across sources. */
const TEST_KEY = Buffer.alloc(32, 7);

const logger = pino({ level: 'silent' });
const never = new Promise<never>(() => {});

describe('abort reaches the work', () => {
  it('stopping the queue aborts a pass waiting on the runtime listing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'autoserve-abort-'));
    const store = await Store.open(join(dir, 'store.json'), logger);
    const signals: AbortSignal[] = [];
    const runtime = {
      // Like every runtime call that may wait: it honours the signal.
      list: (_scope: unknown, options: CallOptions = {}) => {
        signals.push(options.signal!);
        return untilAborted(never, options.signal);
      },
      inspect: async () => undefined,
      remove: async () => undefined,
      stop: async () => undefined,
      hasImage: async () => true,
      pullImage: async () => undefined,
      create: async () => ({ id: 'x', name: 'x' }),
      start: async () => undefined,
      pruneNetworks: async () => [],
    };
    const prober = new HealthProber(() => {});
    const drainer = new Drainer({ runtime, logger, leaveUpstream: async () => {}, onGone: () => {} });
    const controller = new ContainerController({
      runtime,
      store,
      desired: { get: () => undefined, mayPrune: () => true },
      prober,
      drainer,
      executor: new ContainerExecutor({ runtime, drainer, logger, images: new ImagePuller({ runtime, logger, onPullEnded: () => {} }) }),
      instance: 'abort-test',
      logger,
      values: openValueSource({ env: {}, openEnv: [], fingerprintKey: TEST_KEY }),
    });
    const errors: unknown[] = [];
    const queue = new WorkQueue({ worker: (app, signal) => controller.reconcile(app, signal), onError: ({ error }) => errors.push(error) });
    try {
      queue.add('web');
      await new Promise((r) => setTimeout(r, 50));
      expect(signals).toHaveLength(1);
      const started = Date.now();
      await queue.stop();
      expect(Date.now() - started).toBeLessThan(1_000);
      expect(signals[0]!.aborted).toBe(true);
      expect(errors).toHaveLength(1);
    } finally {
      prober.close();
      await store.flush();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('an aborted image check creates nothing and records no failure', async () => {
    const calls: string[] = [];
    const runtime = {
      hasImage: (_image: string, options: CallOptions = {}) => untilAborted(never, options.signal),
      pullImage: async () => void calls.push('pull'),
      create: async () => (calls.push('create'), { id: 'x', name: 'x' }),
      start: async () => void calls.push('start'),
      remove: async () => void calls.push('remove'),
    };
    const images = new ImagePuller({ runtime, logger, onPullEnded: () => {} });
    const executor = new ContainerExecutor({ runtime, drainer: { start: () => calls.push('drain') }, logger, images });
    const abort = new AbortController();
    const running = executor.execute(
      [{ kind: 'create', revision: 'r', slot: 0, reason: 'scale up to 1' }],
      { instance: 'i', app: 'web', shapes: new Map([['r', { image: 'img', env: {}, ports: [8080], network: 'shared' as const }]]), drainSeconds: 0, stopTimeoutSeconds: 1, live: 0 },
      abort.signal,
    );
    abort.abort(new Error('stopping'));
    const result = await running;
    expect(result).toMatchObject({ created: [], errors: [] });
    expect(calls).toEqual([]);
  });
});
