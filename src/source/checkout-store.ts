// The git source's files under <state>/git: a bare mirror, one complete checkout per commit and
// symlinks naming the current and previous one.
//
//   <state>/git/mirror/                 bare repository; the watched branch is fetched into refs/autoserve/head
//   <state>/git/checkouts/<sha>/        a complete tree of one commit (written to a temp dir, then renamed)
//   <state>/git/current -> checkouts/<sha>    replaced by renaming a temp symlink over it (atomic)
//   <state>/git/previous -> checkouts/<sha>   the one before; kept for readers still on it and for debugging
//
// A checkout directory only ever appears complete (rename of a finished temp dir), and `current`
// only ever names a complete one, so nothing that reads through `current` sees a half tree.

import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readlink, rename, rm, stat, symlink } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { GitSourceError, runGit } from './git-command.js';

export const GIT_STATE_SUBDIR = 'git';
/** The ref the watched branch is fetched into (force-updated, so a force-push is just a new commit). */
export const MIRROR_REF = 'refs/autoserve/head';
const TEMP_PREFIX = '.tmp-';

export interface GitLayout {
  root: string;
  mirror: string;
  checkouts: string;
  current: string;
  previous: string;
}

export function gitLayout(stateDir: string): GitLayout {
  const root = join(stateDir, GIT_STATE_SUBDIR);
  return {
    root,
    mirror: join(root, 'mirror'),
    checkouts: join(root, 'checkouts'),
    current: join(root, 'current'),
    previous: join(root, 'previous'),
  };
}

export interface GitStepOptions {
  timeoutMs: number;
  signal?: AbortSignal;
}

/** Creates the bare mirror unless it exists (created in a temp dir and renamed, so never half-made). */
export async function ensureMirror(layout: GitLayout, options: GitStepOptions): Promise<void> {
  if (await exists(join(layout.mirror, 'HEAD'))) return;
  await mkdir(layout.root, { recursive: true });
  await rm(layout.mirror, { recursive: true, force: true });
  const temp = join(layout.root, `${TEMP_PREFIX}mirror-${randomBytes(4).toString('hex')}`);
  try {
    await runGit(['init', '--quiet', '--bare', temp], 'checkout', options);
    await rename(temp, layout.mirror);
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
}

/**
 * Writes the tree of `commit` (present in the mirror) to checkouts/<commit> unless it is already
 * there, and returns that directory. Symlinks in the repository are written as plain files holding
 * the link text (core.symlinks=false): a commit cannot make the loader read files outside its tree.
 */
export async function materializeCheckout(layout: GitLayout, commit: string, options: GitStepOptions): Promise<string> {
  assertCommitId(commit);
  const dir = join(layout.checkouts, commit);
  if (await exists(dir)) return dir;
  await mkdir(layout.checkouts, { recursive: true });
  const suffix = randomBytes(4).toString('hex');
  const temp = join(layout.checkouts, `${TEMP_PREFIX}${commit}-${suffix}`);
  const index = join(layout.root, `${TEMP_PREFIX}index-${suffix}`);
  const git = ['--git-dir', layout.mirror, '--work-tree', temp, '-c', 'core.symlinks=false'];
  const env = { GIT_INDEX_FILE: index };
  try {
    await mkdir(temp);
    await runGit([...git, 'read-tree', commit], 'checkout', { ...options, env });
    await runGit([...git, 'checkout-index', '--all', '--force'], 'checkout', { ...options, env });
    await rename(temp, dir);
    return dir;
  } catch (err) {
    if (err instanceof GitSourceError) throw err;
    throw new GitSourceError('checkout', `cannot write the checkout of ${commit}: ${String(err)}`, { cause: err });
  } finally {
    await rm(temp, { recursive: true, force: true });
    await rm(index, { force: true });
  }
}

/** Points `link` at checkouts/<commit> by renaming a fresh temp symlink over it (atomic on POSIX). */
export async function switchLink(layout: GitLayout, link: string, commit: string): Promise<void> {
  assertCommitId(commit);
  const temp = join(layout.root, `${TEMP_PREFIX}link-${randomBytes(4).toString('hex')}`);
  await symlink(join('checkouts', commit), temp);
  try {
    await rename(temp, link);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}

/** The commit a link names, when it names a checkout that exists; undefined otherwise. */
export async function readLinkCommit(link: string): Promise<string | undefined> {
  try {
    const commit = basename(await readlink(link));
    if (!COMMIT_ID.test(commit)) return undefined;
    return (await stat(link)).isDirectory() ? commit : undefined;
  } catch {
    return undefined;
  }
}

/** Removes every checkout but `keep`, and temp leftovers of an interrupted run. */
export async function pruneCheckouts(layout: GitLayout, keep: Iterable<string>): Promise<string[]> {
  const kept = new Set(keep);
  const removed: string[] = [];
  let entries: string[];
  try {
    entries = await readdir(layout.checkouts);
  } catch {
    return removed;
  }
  for (const entry of entries) {
    if (kept.has(entry)) continue;
    await rm(join(layout.checkouts, entry), { recursive: true, force: true });
    removed.push(entry);
  }
  for (const entry of await readdir(layout.root).catch(() => [] as string[])) {
    if (entry.startsWith(TEMP_PREFIX)) await rm(join(layout.root, entry), { recursive: true, force: true });
  }
  return removed;
}

const COMMIT_ID = /^[0-9a-f]{40}(?:[0-9a-f]{24})?$/;

function assertCommitId(commit: string): void {
  if (!COMMIT_ID.test(commit)) throw new GitSourceError('checkout', `not a full commit id: ${JSON.stringify(commit)}`);
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
