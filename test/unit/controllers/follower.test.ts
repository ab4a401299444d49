// A controller that does not lead (a standby on a Swarm) observes, plans and records, and acts on
// nothing: no create, no drain, no prune; once it leads, the same pass acts.
import { describe, expect, it } from 'vitest';
import type { LoadedApp } from '../../../src/manifest/types.js';
import type { ReplicaFacts } from '../../../src/core/replica.js';
import { controllerOf, loadedWeb as loaded } from './controller-fixture.js';

function running(slot: number): ReplicaFacts {
  return {
    id: `id${slot}`, name: `autoserve-web-x-${slot}`, app: 'web', revision: 'old', slot, image: 'autoserve-demo:v1', state: 'running', running: true,
    createdAtMs: Date.now() - 60_000, addresses: {}, published: {}, labels: {}, node: { nodeId: 'n1', node: 'node-a' },
  };
}

describe('a controller that does not lead', () => {
  it('records what it sees (replicas, their node) and creates, drains and prunes nothing until it leads', async () => {
    const calls: string[] = [];
    const facts = [running(0)];
    const runtime = {
      list: async () => facts,
      inspect: async () => undefined,
      hasImage: async () => true,
      pullImage: async () => void calls.push('pullImage'),
      create: async () => (calls.push('create'), { id: 'new', name: 'new' }),
      start: async () => void calls.push('start'),
      stop: async () => void calls.push('stop'),
      remove: async () => void calls.push('remove'),
      pruneNetworks: async () => (calls.push('pruneNetworks'), []),
    };
    let leading = false;
    let app: LoadedApp | undefined = loaded(2);
    const { controller, store, close } = await controllerOf(runtime, () => app, () => leading);
    try {
      await controller.reconcile('web'); // wants 2 of a new revision, 1 old runs
      expect(calls).toEqual([]);
      const status = store.app('web')!;
      expect(status.replicas.desired).toBe(2);
      expect(status.instances.map((i) => [i.name, i.node])).toEqual([['autoserve-web-x-0', 'node-a']]);
      expect(store.events({ app: 'web' }).filter((e) => ['Created', 'Draining', 'Removed'].includes(e.reason))).toEqual([]);

      app = undefined; // manifest removed: a standby prunes nothing
      await controller.reconcile('web');
      expect(calls).toEqual([]);

      app = loaded(2);
      leading = true;
      await controller.reconcile('web');
      expect(calls).toContain('create');
    } finally {
      await close();
    }
  });

  it('with every replica gone, a standby forgets the app as the leader does (bookkeeping, no action)', async () => {
    const pruned: string[] = [];
    const runtime = {
      list: async () => [], inspect: async () => undefined, hasImage: async () => true, pullImage: async () => {}, create: async () => ({ id: 'x', name: 'x' }), start: async () => {}, stop: async () => {}, remove: async () => {},
      pruneNetworks: async () => (pruned.push('web'), []),
    };
    const { controller, store, close } = await controllerOf(runtime, () => undefined, () => false);
    store.updateApp('web', (s) => void (s.spec = loaded(1).manifest.spec));
    try {
      await controller.reconcile('web');
      expect(store.app('web')).toBeUndefined();
      expect(pruned).toEqual([]); // the app's own network is the leader's to remove
    } finally {
      await close();
    }
  });
});
