// <state>/autoserve.pid: how `autoserve sync` finds the running daemon to send it SIGHUP.
// Written durably (temp file, fsync, rename); removed on a clean stop. A stale file (crashed daemon, reused
// pid) is detected before signalling: the pid must be alive and, on Linux, a node process.

import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileDurably } from '../store/durable-file.js';

export const PID_FILE = 'autoserve.pid';

export function pidFilePath(stateDir: string): string {
  return join(stateDir, PID_FILE);
}

export async function writePidFile(stateDir: string, pid = process.pid): Promise<void> {
  await writeFileDurably(pidFilePath(stateDir), `${pid}\n`);
}

/** Removes the pid file if it still names `pid` (a newer daemon's file is left alone). */
export async function removePidFile(stateDir: string, pid = process.pid): Promise<void> {
  if ((await readPidFile(stateDir)) === pid) await rm(pidFilePath(stateDir), { force: true });
}

export async function readPidFile(stateDir: string): Promise<number | undefined> {
  try {
    const pid = Number((await readFile(pidFilePath(stateDir), 'utf8')).trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** True when `pid` runs and (where /proc exists) its command line names node or autoserve. */
export async function isDaemonProcess(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8');
    // Our daemon only: `autoserve run` (node .../cli/main.js run ...), not any node process.
    const args = cmdline.split('\0');
    return args.some((a) => /(^|\/)(autoserve|main\.js)$/.test(a)) && args.includes('run');
  } catch {
    return true; // no /proc (not Linux): trust kill(0)
  }
}
