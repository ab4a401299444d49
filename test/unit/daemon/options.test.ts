import { describe, expect, it } from 'vitest';
import { parseNginxWorkers, resolveOptions } from '../../../src/daemon/options.js';
import { networkOf } from '../../../src/runtime/docker/networks.js';

describe('daemon options: the instance', () => {
  it.each(['default', 'prod', 'test_1-abc', 'A1'])('accepts %j, and it names a network', (instance) => {
    expect(resolveOptions({ instance }).instance).toBe(instance);
    expect(networkOf(instance, 'web', 'shared').name).toBe(instance === 'default' ? 'autoserve' : `autoserve-${instance}`);
    expect(networkOf(instance, 'web', 'isolated').name).toBe(`${instance === 'default' ? 'autoserve' : `autoserve-${instance}`}.web`);
  });

  it.each(['', 'a.b', '-x', 'a b', 'x/y', 'a'.repeat(64)])('refuses %j at start, naming the flag', (instance) => {
    expect(() => resolveOptions({ instance })).toThrow(/--instance/);
  });

  it('no two (instance, app, kind) share a network name', () => {
    const names = new Set<string>();
    const refs = ['default', 'a', 'a-b', 'default-a'].flatMap((instance) => ['a', 'b', 'a-b'].flatMap((app) => (['shared', 'isolated'] as const).map((kind) => networkOf(instance, app, kind))));
    for (const ref of refs) names.add(`${ref.name}`);
    const distinct = new Set(refs.map((r) => `${r.instance}/${r.kind}/${r.app ?? ''}`));
    expect(names.size).toBe(distinct.size);
  });
});

describe('daemon options: --nginx-workers', () => {
  it.each([['1', 1], ['4', 4], [' 64 ', 64]])('accepts %j', (text, n) => {
    expect(parseNginxWorkers(text)).toBe(n);
  });
  it.each(['0', '65', '1.5', '-1', 'auto', '', '2x'])('refuses %j, naming the flag', (text) => {
    expect(() => parseNginxWorkers(text)).toThrow(/--nginx-workers/);
  });
});
