// File helpers for config swaps: a reader that treats "missing" as undefined, and a writer that
// never leaves a half-written file where nginx could read it (store/durable-file: temp file,
// fsync, rename in one dir; a failed write leaves the old file as it was).
import { readFile } from 'node:fs/promises';
import { writeFileDurably } from '../../store/durable-file.js';

export async function readFileIfExists(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

export function writeFileAtomic(file: string, content: string): Promise<void> {
  return writeFileDurably(file, content);
}
