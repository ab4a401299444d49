// The store, the controller log and the state dir are the controller's alone (issue 11, item 11).
import { stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createControllerLog } from '../../../src/daemon/logger.js';
import { prepareStateDir } from '../../../src/daemon/state-dir.js';
import { Store } from '../../../src/store/store.js';
import { withTempDir } from '../manifest/fixtures.js';

const modeOf = async (p: string) => (await stat(p)).mode & 0o777;

describe('file modes', () => {
  it('creates the store 0600 in a 0700 directory, and narrows an older 0644 file', async () => {
    await withTempDir(async (dir) => {
      const file = path.join(dir, 'state', 'autoserve.json');
      const store = await Store.open(file, pino({ level: 'silent' }));
      store.addEvent({ type: 'Normal', reason: 'Test', message: 'x' });
      await store.flush();
      expect(await modeOf(path.dirname(file))).toBe(0o700);
      expect(await modeOf(file)).toBe(0o600);

      const old = path.join(dir, 'old.json');
      await writeFile(old, JSON.stringify({ version: 1, apps: {}, events: [], scalingHistory: [], nextEventId: 1 }), { mode: 0o644 });
      await Store.open(old, pino({ level: 'silent' }));
      expect(await modeOf(old)).toBe(0o600);
    });
  });

  it('makes the state dir 0700, or 0710 for the nginx workers group, and the log 0600', async () => {
    await withTempDir(async (dir) => {
      const state = path.join(dir, 'state');
      await prepareStateDir(state);
      expect(await modeOf(state)).toBe(0o700);
      if (process.getuid?.() === 0) {
        await prepareStateDir(state, 'nogroup');
        expect(await modeOf(state)).toBe(0o710);
        expect((await stat(state)).gid).not.toBe(0);
      }
      const log = path.join(state, 'autoserve-controller.log');
      await writeFile(log, '', { mode: 0o644 });
      const logger = createControllerLog('silent', log).logger;
      logger.flush();
      expect(await modeOf(log)).toBe(0o600);
    });
  });
});
