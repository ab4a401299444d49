// `autoserve validate PATH...`: checks files and directories offline, as one set (so a name
// declared in two of the given files is reported), and prints errors one per line.

import { stat } from 'node:fs/promises';
import path from 'node:path';
import { printable } from '../core/printable.js';
import type { ManifestError } from './types.js';
import { loadManifestTexts } from './load-directory.js';
import { readManifestText } from './read-manifest-file.js';
import { isMissing, listManifestTree } from './list-manifest-files.js';

/** Every error in the given files and directories; [] means all valid. */
export async function validatePaths(paths: string[]): Promise<ManifestError[]> {
  const files: { file: string; within?: string }[] = [];
  const missing: ManifestError[] = [];
  const unreadable: ManifestError[] = [];
  const seen = new Set<string>();
  const add = (file: string, within?: string) => {
    const key = path.resolve(file);
    if (!seen.has(key)) {
      seen.add(key);
      files.push({ file, ...(within !== undefined ? { within } : {}) });
    }
  };
  for (const given of paths) {
    try {
      if ((await stat(given)).isDirectory()) {
        // Found in a directory: read only when it resolves inside it, as the daemon reads it.
        const tree = await listManifestTree(given);
        for (const file of tree.files) add(file, tree.root);
        unreadable.push(...tree.unreadable);
      } else {
        add(given); // named explicitly: parsed even without a manifest extension (as YAML)
      }
    } catch (err) {
      missing.push({ file: given, path: '', message: isMissing(err) ? 'no such file or directory' : cannotStat(err) });
    }
  }
  const texts = await Promise.all(files.map(async ({ file, within }) => ({ file, text: await readManifestText(file, within) })));
  const result = loadManifestTexts(texts, unreadable);
  return [...missing, ...result.errors];
}

/**
 * One line per error: `file[doc]: /path: message`; the index is shown for documents after the
 * first. File names, keys and values are the author's: control characters are escaped, so nothing
 * in them can forge a second line or drive a terminal.
 */
export function formatManifestError(e: ManifestError): string {
  const where = e.document !== undefined && e.document > 0 ? `${e.file}[${e.document}]` : e.file;
  return printable(`${where}: ${e.path || '(document)'}: ${e.message}`);
}

function cannotStat(err: unknown): string {
  return `cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`;
}
