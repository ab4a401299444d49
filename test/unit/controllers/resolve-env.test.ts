import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { desiredReplicaSetOf } from '../../../src/controllers/containers/replica-sets.js';
import { resolveEnv } from '../../../src/controllers/containers/resolve-env.js';
import { stableJson } from '../../../src/core/stable-json.js';
import { applyDefaults } from '../../../src/manifest/defaults.js';
import type { EnvVar, LoadedApp } from '../../../src/manifest/types.js';
import { containerCreateOptions } from '../../../src/runtime/docker/create-options.js';
import { openValueSource } from '../../../src/secrets/value-source.js';

/** A fixed fingerprint key: tests compare revisions across sources. */
const TEST_KEY = Buffer.alloc(32, 7);

const nothingOpened = openValueSource({ env: {}, openEnv: [], fingerprintKey: TEST_KEY });

function app(env: EnvVar[]): LoadedApp {
  const manifest = applyDefaults({ apiVersion: 'v1', kind: 'App', metadata: { name: 'web' }, spec: { type: 'http', image: 'x:1', ports: [{ containerPort: 80 }], env } });
  return { manifest, file: 'web.yaml', document: 0 };
}

const revision = (env: EnvVar[], source = nothingOpened) => desiredReplicaSetOf(app(env), undefined, source).desired.revision;

describe('resolveEnv', () => {
  it('keeps every POSIX name, __proto__ and constructor included, in the container and the revision', () => {
    const env = [
      { name: '__proto__', value: 'one' },
      { name: 'constructor', value: 'two' },
      { name: 'hasOwnProperty', value: 'three' },
    ];
    const resolved = resolveEnv('web', env, nothingOpened);
    expect(Object.entries(resolved.values)).toEqual([['__proto__', 'one'], ['constructor', 'two'], ['hasOwnProperty', 'three']]);

    const { shape } = desiredReplicaSetOf(app(env), undefined, nothingOpened);
    const options = containerCreateOptions({ instance: 'i', app: 'web', revision: 'r', slot: 0, shape, stopTimeoutSeconds: 10 });
    expect(options.Env).toEqual(['__proto__=one', 'constructor=two', 'hasOwnProperty=three']);
    // A change of the value is a new revision (it rolls out).
    expect(revision([{ name: '__proto__', value: 'other' }, ...env.slice(1)])).not.toBe(revision(env));
  });

  it('refuses a valueFrom that is not opened, naming the variable and never a value', () => {
    const source = openValueSource({ env: { AUTOSERVE_AUTH_TOKEN: 'tok-123', DB_URL: 'db://x' }, openEnv: ['DB_URL'], fingerprintKey: TEST_KEY });
    expect(resolveEnv('web', [{ name: 'DB', valueFrom: { env: 'DB_URL' } }], source).values).toEqual({ DB: 'db://x' });
    expect(() => resolveEnv('web', [{ name: 'T', valueFrom: { env: 'AUTOSERVE_AUTH_TOKEN' } }], source)).toThrow(/app web: env T: controller variable AUTOSERVE_AUTH_TOKEN is one of AutoServe's own settings/);
    expect(() => resolveEnv('web', [{ name: 'HOME', valueFrom: 'sdk' }], source)).toThrow(/HOME is not opened/);
  });
});

describe('the revision of an app with an opened value', () => {
  const opened = (value: string, key: Uint8Array = TEST_KEY) => openValueSource({ env: { DB_PASSWORD: value }, openEnv: ['DB_PASSWORD'], fingerprintKey: key });
  const secretEnv: EnvVar[] = [{ name: 'DB_PASSWORD', valueFrom: 'env' }];
  /** What a status reader could compute for a guess if the revision hashed the value itself. */
  const unkeyedRevision = (value: string) => {
    const { shape } = desiredReplicaSetOf(app(secretEnv), undefined, opened(value));
    return createHash('sha256').update(stableJson(shape)).digest('hex').slice(0, 10);
  };

  it('gives the container the value, and the revision only a keyed fingerprint of it', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 40 }), fc.string({ minLength: 1, maxLength: 40 }), (value, other) => {
        const set = desiredReplicaSetOf(app(secretEnv), undefined, opened(value));
        expect(set.shape.env).toEqual({ DB_PASSWORD: value });
        // Same key, same value: the same revision (a controller restart rolls nothing).
        expect(revision(secretEnv, opened(value))).toBe(set.desired.revision);
        // Guessing the value and hashing the shape does not give the revision.
        expect(set.desired.revision).not.toBe(unkeyedRevision(value));
        // A rotated secret is a new revision (it rolls out).
        if (other !== value) expect(revision(secretEnv, opened(other))).not.toBe(set.desired.revision);
      }),
      { numRuns: 200 },
    );
  });

  it('differs under another key (a lost state dir rolls such apps once), and not for literal env', () => {
    const otherKey = Buffer.alloc(32, 8);
    expect(revision(secretEnv, opened('hunter2', otherKey))).not.toBe(revision(secretEnv, opened('hunter2')));
    const literal: EnvVar[] = [{ name: 'MODE', value: 'prod' }];
    expect(revision(literal, opened('x', otherKey))).toBe(revision(literal, opened('x')));
  });

  it('keeps the fingerprint out of the container', () => {
    const resolved = resolveEnv('web', secretEnv, opened('hunter2'));
    expect(resolved.values.DB_PASSWORD).toBe('hunter2');
    expect(resolved.revisionInput.DB_PASSWORD).toMatch(/^hmac-sha256:[0-9a-f]{64}$/);
    expect(resolved.revisionInput.DB_PASSWORD).not.toContain('hunter2');
  });
});
