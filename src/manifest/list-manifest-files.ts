// Which files in a directory tree are manifests: *.yaml, *.yml, *.json, at any depth, skipping
// dotfiles and dot-directories (.git, editor swap files). Sorted so loads are deterministic.

import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { compareStrings } from '../core/stable-json.js';

const MANIFEST_EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

export function isManifestFileName(name: string): boolean {
  return MANIFEST_EXTENSIONS.has(path.extname(name).toLowerCase());
}

/** True when any segment of `relative` (a path below the watched root) starts with a dot. */
export function isHiddenPath(relative: string): boolean {
  return relative.split(/[\\/]/).some((segment) => segment.startsWith('.') && segment !== '.' && segment !== '..');
}

/**
 * Manifest files under `dir`, joined onto `dir`, sorted by path. A missing directory yields [].
 * Symlinked files are followed; symlinked directories are not (no cycles).
 */
export async function listManifestFiles(dir: string): Promise<string[]> {
  const files: string[] = [];
  await walk(dir, files);
  return files.sort(compareStrings); // code-unit order: every host sorts the same
}

async function walk(dir: string, out: string[]): Promise<void> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if (isMissing(err)) return;
    throw err;
  }
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      await walk(full, out);
    } else if (isManifestFileName(entry.name)) {
      if (entry.isFile()) out.push(full);
      else if (entry.isSymbolicLink() && (await isFile(full))) out.push(full);
    }
  }
}

async function isFile(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isFile();
  } catch {
    return false; // dangling link
  }
}

export function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

