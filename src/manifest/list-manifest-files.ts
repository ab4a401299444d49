// Which files in a directory tree are manifests: *.yaml, *.yml, *.json, at any depth, skipping
// dotfiles and dot-directories (.git, editor swap files). Sorted so loads are deterministic.

import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { compareStrings } from '../core/stable-json.js';
import type { ManifestError } from './types.js';

const MANIFEST_EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

export function isManifestFileName(name: string): boolean {
  return MANIFEST_EXTENSIONS.has(path.extname(name).toLowerCase());
}

/** True when any segment of `relative` (a path below the watched root) starts with a dot. */
export function isHiddenPath(relative: string): boolean {
  return relative.split(/[\\/]/).some((segment) => segment.startsWith('.') && segment !== '.' && segment !== '..');
}

/** What a walk of the manifests directory found: the manifest files, and directories it could not read. */
export interface ManifestTree {
  files: string[];
  /** One error per directory that could not be read, naming it: what it holds is not known. */
  unreadable: ManifestError[];
}

/**
 * Manifest files under `dir`, joined onto `dir`, sorted by path. A missing directory yields [].
 * Symlinked files are followed; symlinked directories are not (no cycles). A directory that cannot
 * be read (permissions, a path too long for the system) is an error naming it, never the end of
 * the walk: the other files load as they would without it.
 */
export async function listManifestTree(dir: string): Promise<ManifestTree> {
  const tree: ManifestTree = { files: [], unreadable: [] };
  await walk(dir, tree);
  tree.files.sort(compareStrings); // code-unit order: every host sorts the same
  return tree;
}

/** The manifest files of listManifestTree, without the directories it could not read. */
export async function listManifestFiles(dir: string): Promise<string[]> {
  return (await listManifestTree(dir)).files;
}

async function walk(dir: string, tree: ManifestTree): Promise<void> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if (isMissing(err)) return;
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    tree.unreadable.push({ file: dir, path: '', message: `cannot read this directory (${code}): the apps of the files in it keep their last good spec` });
    return;
  }
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      await walk(full, tree);
    } else if (isManifestFileName(entry.name)) {
      if (entry.isFile()) tree.files.push(full);
      else if (entry.isSymbolicLink() && (await isFile(full))) tree.files.push(full);
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

