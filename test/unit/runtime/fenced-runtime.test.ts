// Only the leader changes replicas: every create, start, stop, remove and network prune is checked
// at the moment it is called; reads pass through.
import { describe, expect, it } from 'vitest';
import { NotLeaderError } from '../../../src/errors.js';
import { fencedRuntime } from '../../../src/runtime/fenced-runtime.js';
import type { ContainerRuntime } from '../../../src/runtime/runtime.js';

describe('fencedRuntime', () => {
  it('refuses changes while not leading and passes them through while leading; reads always pass', async () => {
    const calls: string[] = [];
    const record = (name: string) => async () => void calls.push(name);
    const runtime = {
      create: async () => (calls.push('create'), { id: 'x', name: 'x' }),
      start: record('start'),
      stop: record('stop'),
      remove: record('remove'),
      pruneNetworks: async () => (calls.push('pruneNetworks'), []),
      list: async () => (calls.push('list'), []),
    } as unknown as ContainerRuntime;
    let leading = false;
    const fenced = fencedRuntime(runtime, { isLeader: () => leading });
    const request = { instance: 'i', app: 'web', revision: 'r', slot: 0, shape: { image: 'img', env: {}, ports: [80], network: 'shared' as const }, stopTimeoutSeconds: 1 };
    for (const change of [() => fenced.create(request), () => fenced.start('x'), () => fenced.stop('x', 1), () => fenced.remove('x'), () => fenced.pruneNetworks({ instance: 'i', app: 'web' })]) {
      await expect(change()).rejects.toBeInstanceOf(NotLeaderError);
    }
    await fenced.list({ instance: 'i' });
    expect(calls).toEqual(['list']);
    leading = true;
    await fenced.create(request);
    await fenced.start('x');
    await fenced.stop('x', 1);
    await fenced.remove('x');
    await fenced.pruneNetworks({ instance: 'i', app: 'web' });
    expect(calls).toEqual(['list', 'create', 'start', 'stop', 'remove', 'pruneNetworks']);
  });
});
