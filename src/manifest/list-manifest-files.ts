// Which files in a directory tree are manifests: *.yaml, *.yml, *.json, at any depth, skipping
// dotfiles and dot-directories (.git, editor swap files). Sorted so loads are deterministic.

import { readdir, realpath } from 'node:fs/promises';
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
  /** The directory, resolved (symlinks followed); undefined when it does not exist. Files must resolve inside it. */
  root?: string;
  files: string[];
  /** One error per directory that could not be read, naming it: what it holds is not known. */
  unreadable: ManifestError[];
}

/**
 * Manifest files under `dir`, joined onto `dir`, sorted by path. A missing directory yields [].
 * Symlinked directories are not followed (no cycles); every other entry with a manifest's name is
 * listed, links and FIFOs included, for the reader to read or refuse by name. A directory that cannot
 * be read (permissions, a path too long for the system) is an error naming it, never the end of
 * the walk: the other files load as they would without it.
 */
export async function listManifestTree(dir: string): Promise<ManifestTree> {
  const root = await realpath(dir).catch(() => undefined);
  const tree: ManifestTree = { ...(root !== undefined ? { root } : {}), files: [], unreadable: [] };
  await walk(dir, tree);
  tree.files.sort(compareStrings); // code-unit order: every host sorts the same
  return tree;
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
      // Links, FIFOs, devices too: the reader refuses what is not a regular file inside, by name.
      tree.files.push(full);
    }
  }
}

export function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

