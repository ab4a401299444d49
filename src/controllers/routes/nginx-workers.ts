// Which nginx workers still accept new connections. After a reload the master starts new workers
// and only then tells the old ones to quit, so for a moment both accept: a reload is live only
// once every old worker has retitled itself "worker process is shutting down" (nginx does that
// right before closing its listening sockets) or exited.
import { readdir, readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

const ACCEPTING_TITLE = 'nginx: worker process';

/** Pids of the master's children whose title says they accept (not shutting down). Linux /proc. */
export async function acceptingWorkerPids(masterPid: number): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8');
      // Fields after the parenthesised comm: state, ppid, ...
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== masterPid) continue;
      const title = (await readFile(`/proc/${entry}/cmdline`, 'utf8')).replace(/\0/g, ' ').trim();
      if (title === ACCEPTING_TITLE) pids.push(Number(entry));
    } catch {
      // The process exited while we looked: not accepting.
    }
  }
  return pids;
}

/** Resolves once none of `oldPids` accepts any more; throws after `timeoutMs`. */
export async function waitUntilNotAccepting(masterPid: number, oldPids: number[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 5; ; delay = Math.min(delay * 2, 100)) {
    const accepting = new Set(await acceptingWorkerPids(masterPid));
    const stillOld = oldPids.filter((pid) => accepting.has(pid));
    if (stillOld.length === 0) return;
    if (Date.now() >= deadline) throw new Error(`old nginx workers ${stillOld.join(', ')} still accept after ${timeoutMs} ms`);
    await sleep(delay);
  }
}
