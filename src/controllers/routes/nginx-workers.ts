// nginx processes as /proc shows them (Linux). Which workers of a master still accept new
// connections: after a reload the master starts new workers and only then tells the old ones to
// quit, so for a moment both accept; a reload is live only once every old worker has retitled
// itself "worker process is shutting down" (nginx does that right before closing its listening
// sockets) or exited. And which nginx processes are ours at all: those holding files of our prefix.
import { readdir, readFile, readlink } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

const ACCEPTING_TITLE = 'nginx: worker process';

export interface NginxProcessInfo {
  pid: number;
  ppid: number;
  /** The process title, e.g. "nginx: worker process" or "nginx: master process nginx -p ...". */
  title: string;
  /** When it started, in clock ticks since boot: with the pid, names this process and no later one. */
  startTicks: number;
}

/** Every process whose title says it is nginx ("nginx: ..."). */
export async function nginxProcesses(): Promise<NginxProcessInfo[]> {
  const found: NginxProcessInfo[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const info = await processInfo(Number(entry));
    if (info?.title.startsWith('nginx: ')) found.push(info);
  }
  return found;
}

/** pid, parent and title of a process; undefined once it has exited (or is a zombie: no title). */
export async function processInfo(pid: number): Promise<NginxProcessInfo | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised comm: state (3), ppid (4), ... starttime (22).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ppid = Number(fields[1]);
    const startTicks = Number(fields[19]);
    const title = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).replace(/\0/g, ' ').trim();
    return title === '' ? undefined : { pid, ppid, title, startTicks };
  } catch {
    return undefined; // exited while we looked
  }
}

/**
 * Whether the process holds an open file under one of `dirs` (and, given its path, `which`
 * accepts it). Our logs are such files: a master opens them and its workers inherit them. That is
 * what makes an nginx ours, master or orphaned worker: another instance's or the system's nginx
 * holds files of its own prefix only. A process we may not inspect (another user's, without root)
 * is not ours.
 */
export async function holdsFileUnder(pid: number, dirs: readonly string[], which: (target: string) => boolean = () => true): Promise<boolean> {
  let fds: string[];
  try {
    fds = await readdir(`/proc/${pid}/fd`);
  } catch {
    return false;
  }
  const prefixes = dirs.map((d) => `${d.replace(/\/+$/, '')}/`);
  for (const fd of fds) {
    const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
    if (prefixes.some((p) => target.startsWith(p)) && which(target)) return true;
  }
  return false;
}

/** Pids of the master's children whose title says they accept (not shutting down). */
export async function acceptingWorkerPids(masterPid: number): Promise<number[]> {
  const pids: number[] = [];
  for (const p of await nginxProcesses()) {
    if (p.ppid === masterPid && p.title === ACCEPTING_TITLE) pids.push(p.pid);
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
