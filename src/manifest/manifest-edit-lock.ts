// One read-modify-write of the manifests directory at a time, across processes: the write API (in
// the daemon) and `autoserve scale|up|down` (the CLI) take the same lock file, so neither loses the
// other's update. A person's editor takes no lock; replaceManifestFile catches their change instead.
import { join } from 'node:path';
import lockfile from 'proper-lockfile';

/** A dot-name inside the directory: ignored by the loader and the watcher. */
export const EDIT_LOCK_NAME = '.autoserve-edit.lock';
/** A lock not refreshed for this long belongs to a dead process and is taken over. */
const STALE_MS = 10_000;

export async function withManifestEditLock<T>(dir: string, edit: () => Promise<T>): Promise<T> {
  const release = await lockfile.lock(dir, {
    lockfilePath: join(dir, EDIT_LOCK_NAME),
    stale: STALE_MS,
    retries: { retries: 100, minTimeout: 20, maxTimeout: 200 },
    // An edit takes milliseconds; a lost refresh must not throw from a timer and end the daemon.
    onCompromised: () => {},
  });
  try {
    return await edit();
  } finally {
    await release().catch(() => undefined);
  }
}
