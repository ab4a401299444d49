// The log rotator on real files: between its once-a-minute sweeps it looks only at the logs a watch
// saw written, and a log written after a look (or a new one) is still rotated at the next look.
import { appendFile, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LogRotator } from '../../../src/controllers/logs/log-rotator.js';
import { MIN_ROTATE_BYTES } from '../../../src/controllers/logs/plan-log-rotation.js';
import { eventually } from '../../support/eventually.js';

const logger = pino({ level: 'silent' });
const CAP = 8 * MIN_ROTATE_BYTES; // 4 logs: each rotates at half its share, MIN_ROTATE_BYTES

describe('LogRotator', () => {
  let dir: string;
  let rotator: LogRotator;
  let reopened: number;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'autoserve-rotator-'));
    for (const name of ['a', 'b', 'c', 'd']) await writeFile(join(dir, `${name}.log`), 'x\n');
    reopened = 0;
    // A long interval: the test calls check() itself.
    rotator = new LogRotator({ groups: [{ name: 'test', dir, reopen: () => void reopened++ }], capBytes: CAP, logger, intervalMs: 3_600_000 });
    rotator.start();
  });
  afterEach(async () => {
    await rotator.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('rotates a log written after the first look at the next look (the watch names it)', async () => {
    await rotator.check(); // the first look sweeps: nothing is due
    expect((await readdir(dir)).sort()).toEqual(['a.log', 'b.log', 'c.log', 'd.log']);
    await appendFile(join(dir, 'b.log'), Buffer.alloc(MIN_ROTATE_BYTES, 'y'));
    await eventually(async () => {
      await rotator.check();
      expect((await readdir(dir)).sort()).toContain('b.log.1');
    }, { timeoutMs: 5_000, intervalMs: 50 });
    expect(reopened).toBe(1);
    expect((await stat(join(dir, 'b.log.1'))).size).toBeGreaterThanOrEqual(MIN_ROTATE_BYTES);
  });

  it('a log that appears after the first look is found and rotated', async () => {
    await rotator.check();
    await writeFile(join(dir, 'e.log'), Buffer.alloc(2 * MIN_ROTATE_BYTES, 'z'));
    await eventually(async () => {
      await rotator.check();
      expect(await readdir(dir)).toContain('e.log.1');
    }, { timeoutMs: 5_000, intervalMs: 50 });
  });
});
