// Pulls run outside the pass: a pass asking for a missing image gets 'pulling' at once, one pull
// per image however many passes and apps ask (a pull that is still running, timed out or not, is
// joined, never started again beside itself), its end looks at every waiting app again, and a
// failure reaches each waiting app once before the next ask pulls again.
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { ContainerExecutor } from '../../../src/controllers/containers/container-executor.js';
import { ImagePuller } from '../../../src/controllers/containers/image-puller.js';
import { ImagePullFailedError } from '../../../src/errors.js';

const logger = pino({ level: 'silent' });

function fakeRuntime() {
  const pulls: { image: string; resolve: () => void; reject: (e: unknown) => void }[] = [];
  let present = false;
  return {
    pulls,
    setPresent: (p: boolean) => (present = p),
    runtime: {
      hasImage: async () => present,
      pullImage: (image: string) => new Promise<void>((resolve, reject) => pulls.push({ image, resolve, reject })),
    },
  };
}
const settle = () => new Promise((r) => setImmediate(r));

describe('ImagePuller', () => {
  it('answers at once while one pull runs for every asker; its end looks at each waiting app again', async () => {
    const fake = fakeRuntime();
    const ended: string[] = [];
    const puller = new ImagePuller({ runtime: fake.runtime, logger, onPullEnded: (app) => ended.push(app), now: () => 1_000 });
    expect(await puller.ready('web', 'img:1')).toEqual({ state: 'pulling', sinceMs: 1_000 });
    expect(await puller.ready('web', 'img:1')).toEqual({ state: 'pulling', sinceMs: 1_000 });
    expect(await puller.ready('api', 'img:1')).toEqual({ state: 'pulling', sinceMs: 1_000 });
    expect(fake.pulls).toHaveLength(1);
    expect(puller.underway()).toEqual(new Map([['img:1', ['api', 'web']]]));
    fake.setPresent(true);
    fake.pulls[0]!.resolve();
    await settle();
    expect(ended.sort()).toEqual(['api', 'web']);
    expect(await puller.ready('web', 'img:1')).toEqual({ state: 'present' });
    expect(fake.pulls).toHaveLength(1);
  });

  it('a failed pull is reported once to each app that waited, then the next ask pulls again', async () => {
    const fake = fakeRuntime();
    const puller = new ImagePuller({ runtime: fake.runtime, logger, onPullEnded: () => {} });
    await puller.ready('web', 'img:2');
    await puller.ready('api', 'img:2');
    fake.pulls[0]!.reject(new ImagePullFailedError('img:2', 'timed out'));
    await settle();
    await expect(puller.ready('web', 'img:2')).rejects.toBeInstanceOf(ImagePullFailedError);
    await expect(puller.ready('api', 'img:2')).rejects.toThrow('timed out');
    expect(await puller.ready('web', 'img:2')).toMatchObject({ state: 'pulling' });
    expect(fake.pulls).toHaveLength(2);
  });

  it('a pass with creates does not wait for a pull: it creates nothing and says what it waits for', async () => {
    const fake = fakeRuntime();
    const calls: string[] = [];
    const runtime = { ...fake.runtime, create: async () => (calls.push('create'), { id: 'x', name: 'x' }), start: async () => void calls.push('start'), remove: async () => void calls.push('remove') };
    const executor = new ContainerExecutor({ runtime, drainer: { start: () => {} }, logger, images: new ImagePuller({ runtime, logger, onPullEnded: () => {} }) });
    const ctx = { instance: 'i', app: 'web', shapes: new Map([['r', { image: 'slow:1', env: {}, ports: [8080], network: 'shared' as const }]]), drainSeconds: 0, stopTimeoutSeconds: 1, live: 0 };
    const create = [{ kind: 'create' as const, revision: 'r', slot: 0, reason: 'scale up to 1' }];
    const first = await executor.execute(create, ctx);
    const second = await executor.execute(create, ctx);
    expect(first).toMatchObject({ created: [], errors: [], pullingImage: { image: 'slow:1' } });
    expect(second.pullingImage?.image).toBe('slow:1');
    expect(calls).toEqual([]);
    expect(fake.pulls).toHaveLength(1);
  });
});
