// The fingerprint key: made once per state dir, private, shared by concurrent starters, never half-written.
import { readdir, stat, writeFile, chmod } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FINGERPRINT_KEY_BYTES, FINGERPRINT_KEY_FILE, loadOrCreateFingerprintKey, readFingerprintKey } from '../../../src/secrets/fingerprint-key.js';
import { withTempDir } from '../manifest/fixtures.js';

describe('fingerprint key', () => {
  it('is created 0600 in a new state dir, then read back unchanged', async () => {
    await withTempDir(async (dir) => {
      const state = path.join(dir, 'state');
      expect(await readFingerprintKey(state)).toBeUndefined();
      const key = await loadOrCreateFingerprintKey(state);
      expect(key).toHaveLength(FINGERPRINT_KEY_BYTES);
      expect((await stat(path.join(state, FINGERPRINT_KEY_FILE))).mode & 0o777).toBe(0o600);
      expect(await loadOrCreateFingerprintKey(state)).toEqual(key);
      expect(await readFingerprintKey(state)).toEqual(key);
      expect(await readdir(state)).toEqual([FINGERPRINT_KEY_FILE]); // no temp file left
    });
  });

  it('is the same for controllers starting at once on one state dir', async () => {
    await withTempDir(async (dir) => {
      const keys = await Promise.all(Array.from({ length: 8 }, () => loadOrCreateFingerprintKey(dir)));
      for (const key of keys) expect(key).toEqual(keys[0]);
    });
  });

  it('narrows a wider mode, and refuses a damaged file naming it and what removing it costs', async () => {
    await withTempDir(async (dir) => {
      const file = path.join(dir, FINGERPRINT_KEY_FILE);
      await loadOrCreateFingerprintKey(dir);
      await chmod(file, 0o644);
      await loadOrCreateFingerprintKey(dir);
      expect((await stat(file)).mode & 0o777).toBe(0o600);
      await writeFile(file, 'short');
      await expect(loadOrCreateFingerprintKey(dir)).rejects.toThrow(new RegExp(`${FINGERPRINT_KEY_FILE} is not a 32-byte file; remove it .*roll out once`));
    });
  });
});
