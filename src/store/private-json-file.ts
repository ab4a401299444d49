// The store's lowdb adapter: JSON in a file only its owner can read (0600). The status holds
// manifest specs (literal env values among them) and the audit log; other local users have no
// business reading them. lowdb's JSONFile writes through steno, which can set no file mode and
// renames its temp file into place without an fsync (after a power cut the file can be empty):
// this writes durably (durable-file.ts: temp file with the mode, fsync, rename, directory fsync).
// Writes are not queued here: the Store never runs two at once.
import { readFile } from 'node:fs/promises';
import type { Adapter } from 'lowdb';
import { writeFileDurably } from './durable-file.js';

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

  write(data: T): Promise<void> {
    return writeFileDurably(this.file, JSON.stringify(data, null, 2), STORE_FILE_MODE);
  }
}
