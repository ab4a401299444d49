// What /proc says of a process: its parent and its start time, which tells a pid's process from a
// later one that reused the pid (the delayed SIGKILL of orphaned nginx workers relies on it).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { processInfo } from '../../../src/controllers/routes/nginx-workers.js';

describe('processInfo', () => {
  it('names the parent and a start time that stays the same for the process and grows for later ones', async () => {
    const me = await processInfo(process.pid);
    expect(me?.ppid).toBe(process.ppid);
    expect(Number.isInteger(me?.startTicks)).toBe(true);
    expect((await processInfo(process.pid))?.startTicks).toBe(me?.startTicks);
    const child = spawn('sleep', ['5']);
    try {
      await once(child, 'spawn');
      const info = await processInfo(child.pid!);
      expect(info?.ppid).toBe(process.pid);
      expect(info!.startTicks).toBeGreaterThan(me!.startTicks);
    } finally {
      child.kill('SIGKILL');
    }
    await once(child, 'exit');
    expect(await processInfo(child.pid!)).toBeUndefined();
  });
});
