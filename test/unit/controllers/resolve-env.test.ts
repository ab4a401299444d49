import { describe, expect, it } from 'vitest';
import { containerCreateOptions, containerShapeOf } from '../../../src/controllers/containers/container-config.js';
import { resolveEnv } from '../../../src/controllers/containers/resolve-env.js';
import { revisionOf } from '../../../src/controllers/containers/revision.js';
import { applyDefaults } from '../../../src/manifest/defaults.js';

describe('resolveEnv', () => {
  it('keeps every POSIX name, __proto__ and constructor included, in the container and the revision', () => {
    const env = [
      { name: '__proto__', value: 'one' },
      { name: 'constructor', value: 'two' },
      { name: 'hasOwnProperty', value: 'three' },
    ];
    const resolved = resolveEnv('web', env, {});
    expect(Object.entries(resolved)).toEqual([['__proto__', 'one'], ['constructor', 'two'], ['hasOwnProperty', 'three']]);

    const spec = applyDefaults({ apiVersion: 'v1', kind: 'App', metadata: { name: 'web' }, spec: { type: 'http', image: 'x:1', ports: [{ containerPort: 80 }], env } }).spec;
    const shape = containerShapeOf(spec, resolved);
    const options = containerCreateOptions(shape, { instance: 'i', app: 'web', revision: 'r', slot: 0 }, 10);
    expect(options.Env).toEqual(['__proto__=one', 'constructor=two', 'hasOwnProperty=three']);
    // A change of the value is a new revision (it rolls out).
    const changed = containerShapeOf(spec, resolveEnv('web', [{ name: '__proto__', value: 'other' }, ...env.slice(1)], {}));
    expect(revisionOf(changed)).not.toBe(revisionOf(shape));
  });
});
