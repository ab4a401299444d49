// Reads one manifest file's text, refusing what is not a small regular file. A FIFO would block a
// plain read forever and a device (/dev/zero) would never end, so the file is opened non-blocking
// and checked on the open descriptor (no window between a check and the read), and never more
// than the limit is read, even from a file that grows meanwhile.
//
// A file found in the manifests directory must also be in it: the controller reads as root, and an
// error quotes what it read, so a link to /etc/shadow or to the token file would show their text in
// `validate`, the status and the events. Where it resolves is checked before it is opened (a device
// outside is never opened) and again on the open descriptor (a link switched in between is caught).

import { constants } from 'node:fs';
import { open, readlink, realpath } from 'node:fs/promises';
import path from 'node:path';
import type { ManifestError } from './types.js';

/** Larger files are refused unread: a manifest is a few KiB; this bounds memory on a bad commit. */
export const MAX_MANIFEST_BYTES = 1024 * 1024;

const OUTSIDE = 'is a link to a file outside the manifests directory; it is not read (copy the file in, or point --manifests at its directory)';

/**
 * The file's text (UTF-8), or an error naming the file and why it cannot be read. With `within`
 * (a resolved directory), a file that resolves outside it is refused unread.
 */
export async function readManifestText(file: string, within?: string): Promise<string | ManifestError> {
  const refuse = (message: string): ManifestError => ({ file, path: '', message });
  let handle;
  try {
    if (within !== undefined && (await resolveInside(within, file)) === undefined) return refuse(OUTSIDE);
    handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (err) {
    return refuse(cannotRead(err));
  }
  try {
    // Linux names what a descriptor opened: a link switched after the check above shows here.
    const opened = within === undefined ? undefined : await readlink(`/proc/self/fd/${handle.fd}`).catch(() => undefined);
    if (opened !== undefined && !isInside(within!, opened)) return refuse(OUTSIDE);
    const stats = await handle.stat();
    if (!stats.isFile()) return refuse(`not a regular file (${kindOf(stats)}); manifests must be plain files`);
    if (stats.size > MAX_MANIFEST_BYTES) return refuse(`file is ${stats.size} bytes; manifests are limited to ${MAX_MANIFEST_BYTES}`);
    // Sized by stat, grown once up to the limit (+1, to notice a file past it).
    let buffer = Buffer.allocUnsafe(Math.min(MAX_MANIFEST_BYTES + 1, stats.size + 4096));
    let length = 0;
    for (;;) {
      if (length === buffer.length) {
        if (length > MAX_MANIFEST_BYTES) return refuse(`file grew past ${MAX_MANIFEST_BYTES} bytes while being read; manifests are limited to that`);
        const larger = Buffer.allocUnsafe(MAX_MANIFEST_BYTES + 1);
        buffer.copy(larger, 0, 0, length);
        buffer = larger;
      }
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    if (length > MAX_MANIFEST_BYTES) return refuse(`file grew past ${MAX_MANIFEST_BYTES} bytes while being read; manifests are limited to that`);
    return buffer.toString('utf8', 0, length);
  } catch (err) {
    return refuse(cannotRead(err));
  } finally {
    await handle.close().catch(() => undefined);
  }
}

function cannotRead(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  return `cannot read file${code ? ` (${code})` : ''}: ${err instanceof Error ? err.message : String(err)}`;
}

function kindOf(stats: { isDirectory(): boolean; isFIFO(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean; isSocket(): boolean }): string {
  if (stats.isDirectory()) return 'a directory';
  if (stats.isFIFO()) return 'a FIFO';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  if (stats.isSocket()) return 'a socket';
  return 'not a file';
}

/** Where `file` resolves, symlinks followed, when that is inside `root` (a resolved directory); undefined when outside. */
export async function resolveInside(root: string, file: string): Promise<string | undefined> {
  const target = await realpath(file);
  return isInside(root, target) ? target : undefined;
}

function isInside(root: string, target: string): boolean {
  const rel = path.relative(root, target);
  // "..data/x" is inside (Kubernetes' layout); ".." and "../x" are not.
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel);
}
