// A real git remote for tests: a bare repository in a temp dir (reached by a file:// URL) and a
// work clone to commit and push from. No network, no credentials.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { withoutRepositoryVariables } from '../../../src/source/git-command.js';

const exec = promisify(execFile);

const IDENTITY = {
  GIT_AUTHOR_NAME: 'AutoServe Test',
  GIT_AUTHOR_EMAIL: 'test@autoserve.invalid',
  GIT_COMMITTER_NAME: 'AutoServe Test',
  GIT_COMMITTER_EMAIL: 'test@autoserve.invalid',
  GIT_TERMINAL_PROMPT: '0',
};

export interface GitRemote {
  /** Temp root: bare repo, work clone and whatever else the test puts there (e.g. a state dir). */
  root: string;
  bare: string;
  url: string;
  work: string;
  /** Writes (string) or deletes (null) files in the work clone, commits everything; returns the sha. */
  commit(files: Record<string, string | null>, message: string): Promise<string>;
  /** Pushes the work clone's HEAD to `branch` (default main); `force` for a non-fast-forward push. */
  push(options?: { branch?: string; force?: boolean }): Promise<void>;
  /** Resets the work clone's HEAD to `ref` (then commit and push with force to rewrite history). */
  resetHard(ref: string): Promise<void>;
  deleteBranch(branch: string): Promise<void>;
  /** Moves the bare repository away (the URL stops resolving) and back. */
  makeUnreachable(): Promise<void>;
  makeReachable(): Promise<void>;
  git(...args: string[]): Promise<string>;
  cleanup(): Promise<void>;
}

export async function createGitRemote(name = 'remote'): Promise<GitRemote> {
  const root = await mkdtemp(join(tmpdir(), `autoserve-git-${name}-`));
  const bare = join(root, 'remote.git');
  const away = join(root, 'remote.git.away');
  const work = join(root, 'work');
  const run = async (cwd: string, args: string[]) =>
    (await exec('git', args, { cwd, env: { ...withoutRepositoryVariables(process.env), ...IDENTITY } })).stdout.trim();
  await run(root, ['init', '--quiet', '--bare', '--initial-branch=main', bare]);
  await run(bare, ['config', 'receive.denyDeleteCurrent', 'ignore']); // tests delete the default branch
  await run(root, ['init', '--quiet', '--initial-branch=main', work]);
  await run(work, ['remote', 'add', 'origin', bare]);

  const remote: GitRemote = {
    root,
    bare,
    url: `file://${bare}`,
    work,
    async commit(files, message) {
      for (const [file, text] of Object.entries(files)) {
        const full = join(work, file);
        if (text === null) {
          await rm(full, { recursive: true, force: true });
        } else {
          await mkdir(dirname(full), { recursive: true });
          await writeFile(full, text);
        }
      }
      await run(work, ['add', '--all']);
      await run(work, ['commit', '--quiet', '--allow-empty', '--message', message]);
      return run(work, ['rev-parse', 'HEAD']);
    },
    async push({ branch = 'main', force = false } = {}) {
      await run(work, ['push', '--quiet', ...(force ? ['--force'] : []), 'origin', `HEAD:refs/heads/${branch}`]);
    },
    async resetHard(ref) {
      await run(work, ['reset', '--quiet', '--hard', ref]);
    },
    async deleteBranch(branch) {
      await run(work, ['push', '--quiet', 'origin', `:refs/heads/${branch}`]);
    },
    makeUnreachable: () => rename(bare, away),
    makeReachable: () => rename(away, bare),
    git: (...args) => run(work, args),
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
  return remote;
}
