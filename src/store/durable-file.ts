// Writes a file so that a crash or a power cut leaves either the old content or the new, whole:
// the new content goes to a temp file in the same directory, is fsynced, renamed over the old one,
// and the directory is fsynced (the rename itself is then on disk). A failed write (a full disk)
// removes its temp file and leaves the old file as it was.
import { randomUUID } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export async function writeFileDurably(file: string, content: string, mode = 0o644): Promise<void> {
  const temp = join(dirname(file), `.${basename(file)}.tmp-${randomUUID().slice(0, 8)}`);
  try {
    const handle = await open(temp, 'wx', mode); // a fresh file: the mode applies
    try {
      await handle.writeFile(content);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, file);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
  await syncDirectory(dirname(file));
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
