// The state-dir lock: one holder at a time, the second learns the holder's pid, a released (or
// dead) holder frees it at once, and a path through a symlink is the same directory.
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { lockStateDir, StateDirLockedError } from '../../../src/daemon/state-lock.js';

describe('state dir lock', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'autoserve-lock-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('refuses a second holder and names the first one’s pid', async () => {
    const dir = join(root, 'state');
    const first = await lockStateDir(dir, 4242);
    try {
      const second = lockStateDir(dir, 4343);
      await expect(second).rejects.toBeInstanceOf(StateDirLockedError);
      await expect(second).rejects.toMatchObject({ holderPid: 4242, message: expect.stringContaining('(pid 4242)') });
    } finally {
      await first.release();
    }
  });

  it('is free again once released, and another directory is another lock', async () => {
    const dir = join(root, 'state');
    const other = await lockStateDir(join(root, 'other'));
    await (await lockStateDir(dir)).release();
    const again = await lockStateDir(dir);
    await again.release();
    await other.release();
  });

  it('a path through a symlink names the same directory', async () => {
    const dir = join(root, 'state');
    const first = await lockStateDir(dir, 777);
    try {
      await symlink(dir, join(root, 'link'));
      await expect(lockStateDir(join(root, 'link'))).rejects.toMatchObject({ holderPid: 777 });
    } finally {
      await first.release();
    }
  });
});
