// The store's lowdb adapter: JSON in a file only its owner can read (0600). The status holds
// manifest specs (literal env values among them) and the audit log; other local users have no
// business reading them. lowdb's JSONFile writes through steno, which cannot set a file mode, so
// this is the same atomic write (temp file, then rename) with the mode set on the temp file.
// Writes are not queued here: the Store never runs two at once.
import { open, readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Adapter } from 'lowdb';

export const STORE_FILE_MODE = 0o600;

export class PrivateJsonFile<T> implements Adapter<T> {
  constructor(private readonly file: string) {}

  async read(): Promise<T | null> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    return JSON.parse(text) as T;
  }

  async write(data: T): Promise<void> {
    const temp = join(dirname(this.file), `.${basename(this.file)}.tmp`);
    // A temp file left by a crash keeps its old mode through O_TRUNC: start from a fresh one.
    await unlink(temp).catch(() => undefined);
    const handle = await open(temp, 'wx', STORE_FILE_MODE);
    try {
      await handle.writeFile(JSON.stringify(data, null, 2));
    } finally {
      await handle.close();
    }
    await rename(temp, this.file);
  }
}
