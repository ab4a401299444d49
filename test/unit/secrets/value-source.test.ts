// valueFrom reads only what the operator opened (issue 11, item 8).
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openValueSource, parseOpenEnv } from '../../../src/secrets/value-source.js';
import { withTempDir } from '../manifest/fixtures.js';

/** A fixed fingerprint key: tests compare revisions across sources. */
const TEST_KEY = Buffer.alloc(32, 7);

const SECRET = 's3cr3t-value';
const env = {
  REDIS_URL: 'redis://r',
  APP_KEY: 'k',
  AUTOSERVE_AUTH_TOKEN: SECRET,
  AWS_SECRET_ACCESS_KEY: SECRET,
};

describe('openValueSource', () => {
  it('gives a variable only when its name or prefix is opened', () => {
    const source = openValueSource({ env, openEnv: ['REDIS_URL', 'APP_*'], fingerprintKey: TEST_KEY });
    expect(source.lookup({ env: 'REDIS_URL' })).toEqual({ value: 'redis://r' });
    expect(source.lookup({ env: 'APP_KEY' })).toEqual({ value: 'k' });
    expect(source.lookup({ env: 'AWS_SECRET_ACCESS_KEY' })).toEqual({ refused: expect.stringMatching(/not opened to apps.*--open-env/) });
    expect(source.lookup({ env: 'APP_MISSING' })).toEqual({ refused: expect.stringMatching(/opened to apps but not set/) });
  });

  it("never gives AutoServe's own settings, even when everything is opened", () => {
    const source = openValueSource({ env, openEnv: ['*', 'AUTOSERVE_AUTH_TOKEN'], fingerprintKey: TEST_KEY });
    const found = source.lookup({ env: 'AUTOSERVE_AUTH_TOKEN' });
    expect(found).toEqual({ refused: expect.stringMatching(/AutoServe's own settings/) });
    expect(JSON.stringify(found)).not.toContain(SECRET);
  });

  it('opens nothing by default', () => {
    const source = openValueSource({ env, openEnv: [], fingerprintKey: TEST_KEY });
    for (const name of Object.keys(env)) expect(source.lookup({ env: name })).toHaveProperty('refused');
  });

  it('reads a secret file of the secrets directory, and only there', async () => {
    await withTempDir(async (dir) => {
      const secrets = path.join(dir, 'secrets');
      await mkdir(path.join(secrets, '..data'), { recursive: true });
      await writeFile(path.join(secrets, 'db-password'), SECRET);
      // Kubernetes' layout: NAME -> ..data/NAME inside the mount.
      await writeFile(path.join(secrets, '..data', 'api-key'), 'key-1');
      await symlink(path.join('..data', 'api-key'), path.join(secrets, 'api-key'));
      await writeFile(path.join(dir, 'outside'), 'not yours');
      await symlink(path.join(dir, 'outside'), path.join(secrets, 'escape'));
      const source = openValueSource({ env: {}, openEnv: [], secretsDir: secrets, fingerprintKey: TEST_KEY });
      expect(source.lookup({ secret: 'db-password' })).toEqual({ value: SECRET });
      expect(source.lookup({ secret: 'api-key' })).toEqual({ value: 'key-1' });
      expect(source.lookup({ secret: 'escape' })).toEqual({ refused: expect.stringMatching(/outside the secrets directory/) });
      expect(source.lookup({ secret: '../outside' })).toEqual({ refused: expect.stringMatching(/not a plain file name/) });
      expect(source.lookup({ secret: 'missing' })).toEqual({ refused: expect.stringMatching(/does not exist/) });
      expect(openValueSource({ env: {}, openEnv: [], fingerprintKey: TEST_KEY }).lookup({ secret: 'db-password' })).toEqual({ refused: expect.stringMatching(/no secrets directory/) });
    });
  });

  it('refuses a secret no environment can hold (a NUL byte), naming it, never quoting it', async () => {
    await withTempDir(async (dir) => {
      await writeFile(path.join(dir, 'binary'), `key\u0000${SECRET}`);
      const source = openValueSource({ env: {}, openEnv: [], secretsDir: dir, fingerprintKey: TEST_KEY });
      const found = source.lookup({ secret: 'binary' });
      expect(found).toEqual({ refused: expect.stringMatching(/secret binary .*NUL byte/) });
      expect(JSON.stringify(found)).not.toContain(SECRET);
    });
  });

  it('parses the open list and refuses what is not a name or a prefix', () => {
    expect(parseOpenEnv('A, B_*  C')).toEqual(['A', 'B_*', 'C']);
    expect(parseOpenEnv(undefined)).toEqual([]);
    expect(() => parseOpenEnv('A=B')).toThrow(/not a variable name/);
  });
});
