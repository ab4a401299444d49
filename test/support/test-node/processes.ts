// Process state from /proc: the test nodes' daemons are detached (a crashed test leaves them for
// the sweep), so their liveness is read from /proc rather than from a child handle.
import { readdir, readFile } from 'node:fs/promises';

/** True while the process exists and is not a zombie. */
export async function isRunning(pid: number): Promise<boolean> {
  const state = await processState(pid);
  return state !== undefined && state !== 'Z' && state !== 'X';
}

/** The one-letter state of /proc/PID/stat (R, S, T for stopped, Z for zombie), or undefined if gone. */
export async function processState(pid: number): Promise<string | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (stat === undefined) return undefined;
  // The command name (field 2) may contain spaces and parentheses: the state follows the last ')'.
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
}

/** The process's start time (clock ticks since boot): with the pid it names one process across pid reuse. */
export async function processStartTime(pid: number): Promise<number | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (stat === undefined) return undefined;
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Field 22 of stat is starttime; fields[0] here is field 3 (state).
  const value = Number(fields[22 - 3]);
  return Number.isFinite(value) ? value : undefined;
}

/** Waits until the process has exited; false if it still runs after timeoutMs. */
export async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (await isRunning(pid)) {
    if (Date.now() >= deadline) return false;
    await sleep(50);
  }
  return true;
}

/**
 * Waits until every thread of the process is stopped (state T) after a SIGSTOP: the signal is
 * delivered asynchronously, and a thread that still runs can still answer a request.
 */
export async function waitForStopped(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const tids = await readdir(`/proc/${pid}/task`).catch(() => []);
    const states = await Promise.all(tids.map((tid) => processState(Number(tid))));
    if (tids.length > 0 && states.every((state) => state === 'T' || state === undefined)) return true;
    if (Date.now() >= deadline) return false;
    await sleep(10);
  }
}

/** Sends a signal; a process that is already gone is not an error. */
export function signalProcess(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
