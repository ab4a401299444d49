// Secrets of the daemon and the CLI come from files or the environment, never argv (item 10).
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AUTH_TOKEN_FILE_VARIABLE, AUTH_TOKEN_VARIABLE, forgetSecretVariables, readSecretInput } from '../../../src/secrets/credential-input.js';
import { withTempDir } from '../manifest/fixtures.js';

const token = (over: Partial<Parameters<typeof readSecretInput>[0]>, env: NodeJS.ProcessEnv) =>
  readSecretInput({ variable: AUTH_TOKEN_VARIABLE, fileVariable: AUTH_TOKEN_FILE_VARIABLE, ...over }, env);

describe('readSecretInput', () => {
  it('reads a file (trailing newline dropped), then the flag, then the file variable, then the variable', async () => {
    await withTempDir(async (dir) => {
      const file = path.join(dir, 'token');
      await writeFile(file, 'from-file\n', { mode: 0o600 });
      expect(token({ file, value: 'flag' }, { [AUTH_TOKEN_VARIABLE]: 'env' })).toBe('from-file');
      expect(token({ value: 'flag' }, { [AUTH_TOKEN_VARIABLE]: 'env' })).toBe('flag');
      expect(token({}, { [AUTH_TOKEN_FILE_VARIABLE]: file, [AUTH_TOKEN_VARIABLE]: 'env' })).toBe('from-file');
      expect(token({}, { [AUTH_TOKEN_VARIABLE]: 'env' })).toBe('env');
      expect(token({}, {})).toBeUndefined();
    });
  });

  it('warns about a value on the command line and refuses an empty file', async () => {
    await withTempDir(async (dir) => {
      const warnings: string[] = [];
      readSecretInput({ value: 'x', variable: AUTH_TOKEN_VARIABLE }, {}, (m) => warnings.push(m));
      expect(warnings[0]).toMatch(/process list/);
      const empty = path.join(dir, 'empty');
      await writeFile(empty, '\n');
      expect(() => token({ file: empty }, {})).toThrow(/empty/);
    });
  });

  it('removes the secret variables from the environment children inherit', () => {
    const env: NodeJS.ProcessEnv = { [AUTH_TOKEN_VARIABLE]: 't', AUTOSERVE_GIT_PASSWORD: 'p', PATH: '/bin' };
    forgetSecretVariables(env);
    expect(env).toEqual({ PATH: '/bin' });
  });
});
