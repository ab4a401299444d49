import { describe, expect, it } from 'vitest';
import { resolveEnv } from '../../../src/controllers/containers/resolve-env.js';
import { containerShapeOf, revisionOf } from '../../../src/controllers/containers/revision.js';
import { containerCreateOptions } from '../../../src/runtime/docker/create-options.js';
import { applyDefaults } from '../../../src/manifest/defaults.js';
import { openValueSource } from '../../../src/secrets/value-source.js';

const nothingOpened = openValueSource({ env: {}, openEnv: [] });

describe('resolveEnv', () => {
  it('keeps every POSIX name, __proto__ and constructor included, in the container and the revision', () => {
    const env = [
      { name: '__proto__', value: 'one' },
      { name: 'constructor', value: 'two' },
      { name: 'hasOwnProperty', value: 'three' },
    ];
    const resolved = resolveEnv('web', env, nothingOpened);
    expect(Object.entries(resolved)).toEqual([['__proto__', 'one'], ['constructor', 'two'], ['hasOwnProperty', 'three']]);

    const spec = applyDefaults({ apiVersion: 'v1', kind: 'App', metadata: { name: 'web' }, spec: { type: 'http', image: 'x:1', ports: [{ containerPort: 80 }], env } }).spec;
    const shape = containerShapeOf(spec, resolved);
    const options = containerCreateOptions({ instance: 'i', app: 'web', revision: 'r', slot: 0, shape, stopTimeoutSeconds: 10 });
    expect(options.Env).toEqual(['__proto__=one', 'constructor=two', 'hasOwnProperty=three']);
    // A change of the value is a new revision (it rolls out).
    const changed = containerShapeOf(spec, resolveEnv('web', [{ name: '__proto__', value: 'other' }, ...env.slice(1)], nothingOpened));
    expect(revisionOf(changed)).not.toBe(revisionOf(shape));
  });

  it('refuses a valueFrom that is not opened, naming the variable and never a value', () => {
    const source = openValueSource({ env: { AUTOSERVE_AUTH_TOKEN: 'tok-123', DB_URL: 'db://x' }, openEnv: ['DB_URL'] });
    expect(resolveEnv('web', [{ name: 'DB', valueFrom: { env: 'DB_URL' } }], source)).toEqual({ DB: 'db://x' });
    expect(() => resolveEnv('web', [{ name: 'T', valueFrom: { env: 'AUTOSERVE_AUTH_TOKEN' } }], source)).toThrow(/app web: env T: controller variable AUTOSERVE_AUTH_TOKEN is one of AutoServe's own settings/);
    expect(() => resolveEnv('web', [{ name: 'HOME', valueFrom: 'sdk' }], source)).toThrow(/HOME is not opened/);
  });
});
