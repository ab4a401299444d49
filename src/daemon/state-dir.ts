// The state directory holds the store, the controller's log, git credentials' results and nginx's
// prefix: nobody but the controller (and its nginx workers) has business there.
import { chmod, chown, mkdir, readFile } from 'node:fs/promises';

/** Owner only. */
export const STATE_DIR_MODE = 0o700;
/** Owner, plus traversal (no listing) for the group of nginx workers that run as another user. */
export const STATE_DIR_MODE_WITH_WORKERS = 0o710;

/**
 * Creates `dir` (or narrows an existing one) to 0700. When the own nginx master drops its workers
 * to another group (`workerGroup`, running as root), the directory is 0710 with that group: the
 * workers must traverse it to reach their temp files under the nginx prefix, and nothing more.
 */
export async function prepareStateDir(dir: string, workerGroup?: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: STATE_DIR_MODE });
  const gid = workerGroup !== undefined ? await groupId(workerGroup) : undefined;
  if (gid === undefined) {
    await chmod(dir, STATE_DIR_MODE);
    return;
  }
  await chown(dir, process.getuid?.() ?? 0, gid);
  await chmod(dir, STATE_DIR_MODE_WITH_WORKERS);
}

/** The numeric id of group `name` from /etc/group, undefined when there is none. */
async function groupId(name: string): Promise<number | undefined> {
  const text = await readFile('/etc/group', 'utf8').catch(() => '');
  for (const line of text.split('\n')) {
    const [group, , gid] = line.split(':');
    if (group === name && gid !== undefined && /^\d+$/.test(gid)) return Number(gid);
  }
  return undefined;
}
