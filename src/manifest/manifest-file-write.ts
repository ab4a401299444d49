// Writing a manifest file the way a careful person would: atomically (temp file + rename, so the
// watcher never reads half a file), keeping the file's mode and owner, only inside the manifests
// directory, and never over a change someone made since it was read.
import { randomBytes } from 'node:crypto';
import { chown, link, open, realpath, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { readManifestText, resolveInside } from './read-manifest-file.js';

/** The file changed between our read and our write: the edit must be done again on the new text. */
export class ConcurrentChangeError extends Error {
  constructor(readonly file: string) {
    super(`${file} changed while it was being edited`);
    this.name = 'ConcurrentChangeError';
  }
}

/** The file could not be written here (outside the manifests dir, exists already, ...). */
export class ManifestWriteRefused extends Error {
  constructor(
    readonly reason: 'OutsideManifestsDir' | 'Exists',
    message: string,
  ) {
    super(message);
    this.name = 'ManifestWriteRefused';
  }
}

/**
 * Where an edit of `file` (a path below `dir`) is written: the file itself, or where its symlink
 * points as long as that is inside `dir`. A link out of the directory is refused: the write API
 * would otherwise rewrite any file the controller can write.
 */
export async function editableTarget(dir: string, file: string): Promise<string> {
  const target = await resolveInside(await realpath(dir), file);
  if (target === undefined) {
    throw new ManifestWriteRefused('OutsideManifestsDir', `${basename(file)} is a symlink to a file outside the manifests directory; edit it where it lives`);
  }
  return target;
}

/**
 * Replaces `target` with `text` if it still holds `expected`; keeps its mode and owner. Throws
 * ConcurrentChangeError when the file no longer holds `expected` (checked just before the rename:
 * the window left is the rename itself).
 */
export async function replaceManifestFile(target: string, text: string, expected: string): Promise<void> {
  const before = await stat(target);
  const temp = await writeTemp(target, text, before.mode & 0o7777);
  try {
    // Keep the owner: a root controller must not take over a file its users edit. Without the
    // privilege to give it away, the file was ours to write anyway.
    await chown(temp, before.uid, before.gid).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPERM') throw err;
    });
    if ((await readManifestText(target)) !== expected) throw new ConcurrentChangeError(target);
    await rename(temp, target);
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    throw err;
  }
}

/** Creates `file` with `text`; refuses when it exists (link() is atomic: no concurrent register is overwritten). */
export async function createManifestFile(file: string, text: string): Promise<void> {
  const temp = await writeTemp(file, text, 0o644);
  try {
    await link(temp, file).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'EEXIST') throw new ManifestWriteRefused('Exists', `${basename(file)} already exists`);
      throw err;
    });
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}

// A dot-name: the watcher and the loader skip dotfiles, so the temp file is never read as a manifest.
async function writeTemp(file: string, text: string, mode: number): Promise<string> {
  const temp = join(dirname(file), `.${basename(file)}.${randomBytes(4).toString('hex')}.tmp`);
  const handle = await open(temp, 'wx', mode);
  try {
    await handle.writeFile(text);
    await handle.chmod(mode); // the umask must not change a mode we are keeping
  } finally {
    await handle.close();
  }
  return temp;
}
