// One daemon per state directory. Two daemons on one store and one nginx prefix would undo each
// other's writes and fight over the nginx master, so the second must not start at all.
//
// The lock is a listening unix socket in Linux's abstract namespace, named after the state
// directory's real path: binding it is atomic, and the kernel releases it when the holder dies,
// however it dies (kill -9 included), so no lock is ever left stuck and there is no stale-lock
// takeover to race. Whoever finds it taken connects and reads the holder's pid, to name it.
// Limit: abstract names live in a network namespace; two daemons in different namespaces (test
// nodes) are not kept apart by it. The holder's pid is also in the pid file (`autoserve sync`).
import { createHash } from 'node:crypto';
import { mkdir, realpath } from 'node:fs/promises';
import net from 'node:net';

/** How long a starting daemon waits for the holder to name itself. */
const ASK_HOLDER_TIMEOUT_MS = 2_000;
/** A holder that vanished between our bind and our connect: try binding this many more times. */
const BIND_ATTEMPTS = 3;

export class StateDirLockedError extends Error {
  constructor(
    readonly stateDir: string,
    /** The holder's pid; undefined when it did not say in time. */
    readonly holderPid: number | undefined,
  ) {
    super(
      `state directory ${stateDir} is in use by another autoserve daemon` +
        (holderPid === undefined ? ' (it did not say its pid)' : ` (pid ${holderPid})`) +
        '; stop it first, or give this one its own --state',
    );
    this.name = 'StateDirLockedError';
  }
}

export interface StateLock {
  /** The abstract socket name, without the leading NUL (diagnostics). */
  readonly name: string;
  release(): Promise<void>;
}

/** The abstract socket name for a state directory (absolute, symlinks resolved). */
export function stateLockName(realStateDir: string): string {
  const digest = createHash('sha256').update(realStateDir).digest('hex').slice(0, 32);
  return `autoserve-state-${digest}`;
}

/**
 * Takes the state directory's lock (creating the directory), or rejects with StateDirLockedError
 * naming the holder's pid. Held until release() or the end of the process.
 */
export async function lockStateDir(stateDir: string, pid = process.pid): Promise<StateLock> {
  await mkdir(stateDir, { recursive: true });
  const name = stateLockName(await realpath(stateDir));
  for (let attempt = 1; ; attempt++) {
    const server = net.createServer((socket) => socket.end(`${pid}\n`));
    server.unref(); // the lock never keeps the process alive by itself
    try {
      await listen(server, `\0${name}`);
      return { name, release: () => new Promise((resolve) => server.close(() => resolve())) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    }
    const holder = await askHolder(name);
    if (holder !== 'gone' || attempt >= BIND_ATTEMPTS) throw new StateDirLockedError(stateDir, holder === 'gone' ? undefined : holder);
  }
}

function listen(server: net.Server, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ path }, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** The holder's pid; 'gone' when nobody listens any more; undefined when it did not answer in time. */
function askHolder(name: string): Promise<number | undefined | 'gone'> {
  return new Promise((resolve) => {
    let text = '';
    const socket = net.connect({ path: `\0${name}` });
    socket.setTimeout(ASK_HOLDER_TIMEOUT_MS, () => {
      socket.destroy();
      resolve(undefined);
    });
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (text += chunk));
    socket.on('end', () => {
      const holder = Number(text.trim());
      resolve(Number.isInteger(holder) && holder > 0 ? holder : undefined);
    });
    socket.on('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED' ? 'gone' : undefined));
  });
}
