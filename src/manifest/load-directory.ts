// Loads every manifest under a directory into one LoadResult: valid apps by name, every error.
// Level-triggered: it always reads the whole tree, so callers never depend on which file changed.

import type { LoadedApp, LoadResult, ManifestError } from './types.js';
import { parseManifestFile } from './parse-file.js';
import { rejectDuplicateNames } from './duplicate-names.js';
import { compareStrings } from '../core/stable-json.js';
import { listManifestTree } from './list-manifest-files.js';
import { readManifestText } from './read-manifest-file.js';

export { MAX_MANIFEST_BYTES } from './read-manifest-file.js';

/**
 * Loads `dir` recursively. A missing or empty directory gives fileCount 0 and no error; a directory
 * inside it that cannot be read is an error naming it (the apps of its files keep their last good spec).
 */
export async function loadManifestDirectory(dir: string): Promise<LoadResult> {
  const tree = await listManifestTree(dir);
  return loadManifestTexts(await readManifestFiles(tree.files, tree.root), tree.unreadable);
}

/** Loads the given files as one set (duplicate names are checked across all of them). */
export async function loadManifestFiles(files: string[]): Promise<LoadResult> {
  return loadManifestTexts(await readManifestFiles(files));
}

/** Each file's text, or why it cannot be read; with `within`, a file resolving outside it is refused unread. */
export async function readManifestFiles(files: string[], within?: string): Promise<FileText[]> {
  const read: FileText[] = [];
  for (const file of files) read.push({ file, text: await readManifestText(file, within) });
  return read;
}

/** One file as read: its text, or why it could not be read. */
export interface FileText {
  file: string;
  text: string | ManifestError;
}

/** The pure part of a load: files already read (and directories that could not be), parsed and checked as one set. */
export function loadManifestTexts(files: readonly FileText[], unreadableDirectories: readonly ManifestError[] = []): LoadResult {
  const apps: LoadedApp[] = [];
  const errors: ManifestError[] = [...unreadableDirectories];
  for (const { file, text } of files) {
    if (typeof text !== 'string') {
      errors.push(text);
      continue;
    }
    const parsed = parseManifestFile(file, text);
    apps.push(...parsed.apps);
    errors.push(...parsed.errors);
  }
  const checked = rejectDuplicateNames(apps, errors);
  return { apps: checked.apps, errors: sortErrors(checked.errors), fileCount: files.length, clashes: checked.clashes };
}

/** By file, then document (file-level errors first); stable within a document. */
export function sortErrors(errors: ManifestError[]): ManifestError[] {
  return errors
    .map((error, index) => ({ error, index }))
    .sort((a, b) =>
      compareStrings(a.error.file, b.error.file)
      || (a.error.document ?? -1) - (b.error.document ?? -1)
      || a.index - b.index)
    .map(({ error }) => error);
}
