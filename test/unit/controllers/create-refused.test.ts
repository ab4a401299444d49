// A spec the runtime cannot honour (a network of the app's own on a Swarm): the pass records why
// (a condition naming the field), touches nothing that runs, and waits for the input to change
// instead of retrying at once; a manifest without it converges and clears the condition.
import { describe, expect, it } from 'vitest';
import type { ReplicaFacts } from '../../../src/core/replica.js';
import { UnsupportedByRuntimeError } from '../../../src/errors.js';
import type { ReplicaRequest } from '../../../src/runtime/runtime.js';
import { controllerOf, loadedWeb } from './controller-fixture.js';

describe('a create the runtime refuses', () => {
  it('is a condition and an event; what runs stays; no fast retry; cleared once the manifest drops the field', async () => {
    const calls: string[] = [];
    const facts: ReplicaFacts[] = [{
      id: 'old0', name: 'autoserve-web-old-0', app: 'web', revision: 'old', slot: 0, image: 'autoserve-demo:v1', state: 'running', running: true,
      createdAtMs: Date.now() - 60_000, addresses: {}, published: {}, labels: {},
    }];
    const runtime = {
      list: async () => facts,
      inspect: async () => undefined,
      hasImage: async () => true,
      pullImage: async () => undefined,
      create: async (request: ReplicaRequest) => {
        if (request.shape.network === 'isolated') throw new UnsupportedByRuntimeError('swarm', 'spec.network.isolated', 'one overlay');
        calls.push('create');
        return { id: `id${request.slot}`, name: `n${request.slot}` };
      },
      start: async () => void calls.push('start'),
      stop: async () => void calls.push('stop'),
      remove: async () => void calls.push('remove'),
      pruneNetworks: async () => [],
    };
    let app = loadedWeb(1, { network: { isolated: true } });
    const { controller, store, close } = await controllerOf(runtime, () => app);
    try {
      expect(await controller.reconcile('web')).toEqual({});
      expect(calls).toEqual([]); // the running replica is neither stopped nor removed
      const status = store.app('web')!;
      expect(status.conditions.find((c) => c.type === 'UnsupportedByRuntime')).toMatchObject({ status: 'True', message: expect.stringContaining('spec.network.isolated') });
      expect(status.conditions.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'UnsupportedByRuntime' });
      expect(store.events({ app: 'web' }).some((e) => e.reason === 'UnsupportedByRuntime')).toBe(true);

      app = loadedWeb(1);
      expect(await controller.reconcile('web')).toEqual({ requeueAfterMs: expect.any(Number) });
      expect(calls).toEqual(['create', 'start']); // a surge; the old replica goes once the new one serves
      expect(store.app('web')!.conditions.some((c) => c.type === 'UnsupportedByRuntime')).toBe(false);
    } finally {
      await close();
    }
  });
});
