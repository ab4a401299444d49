// lowdb's adapter for the store file: JSON, read whole, written durably (durable-file.ts). lowdb's
// own JSONFile writes through steno, which renames a temp file into place without an fsync: after a
// power cut the renamed file can be empty.
import { readFile } from 'node:fs/promises';
import type { Adapter } from 'lowdb';
import { writeFileDurably } from './durable-file.js';

export class DurableJsonFile<T> implements Adapter<T> {
  constructor(private readonly file: string) {}

  /** The parsed content; null when there is no file yet. A SyntaxError for content that is not JSON. */
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
    return writeFileDurably(this.file, JSON.stringify(data, null, 2));
  }
}
