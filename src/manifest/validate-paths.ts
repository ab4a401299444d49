// `autoserve validate PATH...`: checks files and directories offline, as one set (so a name
// declared in two of the given files is reported), and prints errors one per line.

import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { ManifestError } from './types.js';
import { loadManifestFiles } from './load-directory.js';
import { isMissing, listManifestFiles } from './list-manifest-files.js';

/** Every error in the given files and directories; [] means all valid. */
export async function validatePaths(paths: string[]): Promise<ManifestError[]> {
  const files: string[] = [];
  const missing: ManifestError[] = [];
  const seen = new Set<string>();
  const add = (file: string) => {
    const key = path.resolve(file);
    if (!seen.has(key)) {
      seen.add(key);
      files.push(file);
    }
  };
  for (const given of paths) {
    try {
      if ((await stat(given)).isDirectory()) (await listManifestFiles(given)).forEach(add);
      else add(given); // named explicitly: parsed even without a manifest extension (as YAML)
    } catch (err) {
      missing.push({ file: given, path: '', message: isMissing(err) ? 'no such file or directory' : String(err) });
    }
  }
  const result = await loadManifestFiles(files);
  return [...missing, ...result.errors];
}

/** One line per error: `file[doc]: /path: message`; the index is shown for documents after the first. */
export function formatManifestError(e: ManifestError): string {
  const where = e.document !== undefined && e.document > 0 ? `${e.file}[${e.document}]` : e.file;
  return `${where}: ${e.path || '(document)'}: ${oneLine(e.message)}`;
}

// Messages quote user input; a newline in it must not forge a second error line.
function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ');
}
