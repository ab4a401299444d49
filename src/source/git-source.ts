// The git manifest source: polls one branch of a repository, checks each new commit out into its
// own directory, switches <state>/git/current to it atomically and loads the manifests from there.
//
// Contract:
// - onRevision is called once per new commit (and once at start for the checkout a previous run
//   left, so a restart with the remote unreachable still has the last good state), after the
//   switch and the load. Calls never overlap: the next fetch starts after onRevision returned.
// - A failed poll (network, auth, branch deleted, timeout, checkout error) changes nothing on disk
//   that the loader reads: `current` keeps naming the last good checkout. onError is called for
//   every failed attempt; the next attempt waits an exponential backoff (capped, reset by a
//   success); the first success after failures calls onRecovered before onRevision.
// - A force-push is just another commit: the branch is fetched with a forced refspec.
// - Invalid manifests are not a source failure: the load (with its errors) is delivered and
//   DesiredState keeps the last good spec of each affected app.

import { join, isAbsolute, normalize, sep } from 'node:path';
import type { Logger } from 'pino';
import { loadManifestDirectory } from '../manifest/load-directory.js';
import type { LoadResult } from '../manifest/types.js';
import type { SourceRevision } from '../store/status-model.js';
import {
  ensureMirror,
  gitLayout,
  materializeCheckout,
  MIRROR_REF,
  pruneCheckouts,
  readLinkCommit,
  switchLink,
  type GitLayout,
} from './checkout-store.js';
import { credentialHelper, splitUrlCredentials, type GitCredentials } from './git-credentials.js';
import { DEFAULT_GIT_TIMEOUT_MS, GitSourceError, redactUrls, runGit, type GitErrorKind } from './git-command.js';
import { changedApps, diffLoadResults, type RevisionDiff } from './revision-diff.js';
import type { ManifestSource } from './types.js';

export const DEFAULT_GIT_BRANCH = 'main';
export const DEFAULT_GIT_INTERVAL_MS = 30_000;
/** Backoff after failures doubles from the interval up to this. */
export const DEFAULT_GIT_MAX_BACKOFF_MS = 5 * 60_000;
export const DEFAULT_GIT_FETCH_TIMEOUT_MS = 5 * 60_000;

/** One applied commit, as delivered to onRevision. */
export interface GitRevision extends SourceRevision {
  /** Full commit id. */
  commit: string;
  /** Subject line of the commit message. */
  message: string;
  /** Committer date, ISO 8601. */
  time: string;
  /** The manifests directory, read through the `current` link: <state>/git/current/<path>. */
  dir: string;
  /** The repository root, read through the `current` link: <state>/git/current. */
  root: string;
  /** The subdirectory of the repository that holds the manifests ('' for the root). */
  path: string;
  load: LoadResult;
  /** Apps this commit added, changed, removed or made invalid, compared with the previous revision. */
  changedApps: string[];
  diff: RevisionDiff;
  /** The commit applied before this one, if any. */
  previousCommit?: string;
  /** True for the checkout restored from disk at start (not fetched). */
  restored: boolean;
}

export interface GitSourceFailure {
  kind: GitErrorKind;
  message: string;
  /** Consecutive failed attempts, 1 for the first. */
  attempt: number;
  retryInMs: number;
  /** The commit still applied (the last good one), if any. */
  currentCommit?: string;
  error: GitSourceError;
}

export interface GitSourceOptions {
  url: string;
  /** For an https remote; given to git by a credential helper, never on its command line. */
  credentials?: GitCredentials;
  branch?: string;
  /** Subdirectory of the repository holding the manifests. Relative, inside the repository. */
  path?: string;
  intervalMs?: number;
  stateDir: string;
  logger: Logger;
  onRevision: (revision: GitRevision) => void;
  onError: (failure: GitSourceFailure) => void;
  onRecovered?: () => void;
  maxBackoffMs?: number;
  /** Bound of ls-remote and of local git steps. Default 60 s. */
  timeoutMs?: number;
  /** Bound of one fetch. Default 5 min. */
  fetchTimeoutMs?: number;
}

export class GitSource implements ManifestSource {
  readonly url: string;
  readonly branch: string;
  readonly path: string;
  readonly intervalMs: number;
  readonly layout: GitLayout;
  private readonly maxBackoffMs: number;
  private readonly timeoutMs: number;
  private readonly fetchTimeoutMs: number;
  private readonly abort = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private rerun = false;
  private stopped = false;
  private started = false;
  private failures = 0;
  private currentCommit: string | undefined;
  private previousCommit: string | undefined;
  private lastLoad: LoadResult | undefined;
  /** `-c` options and environment that hand the credentials to git (empty without credentials). */
  private readonly remoteAccess: { args: string[]; env: Record<string, string> };

  constructor(private readonly options: GitSourceOptions) {
    // Credentials inside the URL are moved out of it: git's argv is visible to every local user.
    const split = splitUrlCredentials(options.url.trim());
    this.url = split.url;
    const credentials = options.credentials ?? split.credentials;
    this.remoteAccess = credentials ? credentialHelper(credentials) : { args: [], env: {} };
    if (this.url === '' || this.url.startsWith('-')) throw new Error(`not a git URL: ${JSON.stringify(options.url)}`);
    this.branch = options.branch ?? DEFAULT_GIT_BRANCH;
    if (!isSafeBranchName(this.branch)) throw new Error(`not a branch name: ${JSON.stringify(this.branch)}`);
    this.path = normalizeSubdir(options.path ?? '');
    this.intervalMs = options.intervalMs ?? DEFAULT_GIT_INTERVAL_MS;
    if (!(this.intervalMs > 0)) throw new Error('the git poll interval must be > 0');
    this.maxBackoffMs = Math.max(options.maxBackoffMs ?? DEFAULT_GIT_MAX_BACKOFF_MS, this.intervalMs);
    this.timeoutMs = options.timeoutMs ?? DEFAULT_GIT_TIMEOUT_MS;
    this.fetchTimeoutMs = options.fetchTimeoutMs ?? DEFAULT_GIT_FETCH_TIMEOUT_MS;
    this.layout = gitLayout(options.stateDir);
  }

  /** The manifests directory the loader reads: <state>/git/current/<path>. */
  get manifestsDir(): string {
    return join(this.layout.current, this.path);
  }

  /** The commit currently applied, if any. */
  get commit(): string | undefined {
    return this.currentCommit;
  }

  /**
   * Delivers the checkout a previous run left (if any), then polls once; resolves after that first
   * poll, whether it succeeded or failed (a failure was reported through onError). Then polls
   * every intervalMs.
   */
  async start(): Promise<void> {
    if (this.started) throw new Error('GitSource already started');
    this.started = true;
    await this.restore();
    await this.poll();
  }

  /** Polls now instead of at the next tick (`autoserve sync`, SIGHUP). Coalesces with a poll in flight. */
  syncNow(): void {
    if (!this.started || this.stopped) return;
    void this.poll();
  }

  /** Stops polling, cancels a git call in flight and waits for the poll to end. No callback follows. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.abort.abort();
    await this.running;
  }

  private poll(): Promise<void> {
    if (this.running) {
      this.rerun = true;
      return this.running;
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.running = (async () => {
      do {
        this.rerun = false;
        await this.attempt();
      } while (this.rerun && !this.stopped);
    })().finally(() => {
      this.running = undefined;
      this.scheduleNext();
    });
    return this.running;
  }

  private scheduleNext(): void {
    if (this.stopped) return;
    const delay = this.failures === 0 ? this.intervalMs : this.backoffMs(this.failures);
    this.timer = setTimeout(() => void this.poll(), delay);
    this.timer.unref();
  }

  /** intervalMs × 2^(failures-1), capped at maxBackoffMs. */
  backoffMs(failures: number): number {
    return Math.min(this.maxBackoffMs, this.intervalMs * 2 ** Math.max(0, Math.min(failures - 1, 30)));
  }

  private async attempt(): Promise<void> {
    try {
      await this.sync(); // calls recovered() itself, before onRevision when a revision follows
    } catch (err) {
      if (this.stopped) return;
      const error = err instanceof GitSourceError ? err : new GitSourceError('load', `cannot load the checkout: ${String(err)}`, { cause: err });
      this.failures += 1;
      const retryInMs = this.backoffMs(this.failures);
      this.options.logger.warn(
        { url: redactUrls(this.url), branch: this.branch, kind: error.kind, attempt: this.failures, retryInMs, err: error.message },
        'git source failed; keeping the current checkout',
      );
      this.options.onError({
        kind: error.kind,
        message: error.message,
        attempt: this.failures,
        retryInMs,
        currentCommit: this.currentCommit,
        error,
      });
    }
  }

  private async sync(): Promise<void> {
    const step = { timeoutMs: this.timeoutMs, signal: this.abort.signal };
    const remoteCommit = await this.lsRemote();
    if (remoteCommit === this.currentCommit) {
      this.recovered();
      return;
    }
    await ensureMirror(this.layout, step);
    await runGit(
      [...this.remoteAccess.args, '--git-dir', this.layout.mirror, 'fetch', '--quiet', '--no-tags', '--no-write-fetch-head', '--force', this.url, `+refs/heads/${this.branch}:${MIRROR_REF}`],
      'fetch',
      { timeoutMs: this.fetchTimeoutMs, signal: this.abort.signal, env: this.remoteAccess.env },
    ).catch((err: unknown) => {
      if (err instanceof GitSourceError && /couldn't find remote ref/i.test(err.message)) {
        throw new GitSourceError('missing-branch', `branch ${this.branch} does not exist in ${redactUrls(this.url)}`, { cause: err });
      }
      throw err;
    });
    const commit = (await runGit(['--git-dir', this.layout.mirror, 'rev-parse', '--verify', `${MIRROR_REF}^{commit}`], 'fetch', step)).stdout.trim();
    if (commit === this.currentCommit) {
      this.recovered();
      return;
    }
    await materializeCheckout(this.layout, commit, step);
    if (this.stopped) return;
    if (this.currentCommit) await switchLink(this.layout, this.layout.previous, this.currentCommit);
    await switchLink(this.layout, this.layout.current, commit);
    const previous = this.currentCommit;
    this.previousCommit = previous;
    this.currentCommit = commit;
    try {
      await this.deliver(commit, false);
    } catch (err) {
      this.currentCommit = undefined; // so the next poll loads it again
      throw err;
    }
    await pruneCheckouts(this.layout, [commit, ...(previous ? [previous] : [])]).catch((err: unknown) =>
      this.options.logger.warn({ err: String(err) }, 'could not remove old git checkouts'),
    );
  }

  /** The commit the branch points to on the remote. A missing branch is an error, not an empty tree. */
  private async lsRemote(): Promise<string> {
    const result = await runGit([...this.remoteAccess.args, 'ls-remote', '--exit-code', this.url, `refs/heads/${this.branch}`], 'fetch', {
      env: this.remoteAccess.env,
      timeoutMs: this.timeoutMs,
      signal: this.abort.signal,
      okExitCodes: [2],
    });
    const line = result.stdout.split('\n').find((l) => l.endsWith(`\trefs/heads/${this.branch}`));
    const commit = line?.split('\t')[0];
    if (result.exitCode === 2 || !commit) {
      throw new GitSourceError('missing-branch', `branch ${this.branch} does not exist in ${redactUrls(this.url)}`);
    }
    return commit;
  }

  /** At start: the checkout `current` names (from a previous run) is applied before any fetch. */
  private async restore(): Promise<void> {
    const commit = await readLinkCommit(this.layout.current);
    if (!commit) return;
    this.currentCommit = commit;
    this.previousCommit = await readLinkCommit(this.layout.previous);
    try {
      await this.deliver(commit, true);
    } catch (err) {
      this.options.logger.warn({ commit, err: String(err) }, 'could not load the previous git checkout');
    }
  }

  private async deliver(commit: string, restored: boolean): Promise<void> {
    const load = await loadManifestDirectory(this.manifestsDir);
    const meta = await this.commitMeta(commit);
    if (this.stopped) return;
    this.recovered();
    const diff = diffLoadResults(this.lastLoad, load);
    const previousCommit = restored ? undefined : this.previousCommit;
    this.lastLoad = load;
    this.options.logger.info(
      { commit: commit.slice(0, 12), message: meta.message, files: load.fileCount, errors: load.errors.length, ...diff },
      restored ? 'git checkout restored' : 'new git revision',
    );
    this.options.onRevision({
      commit,
      ...meta,
      dir: this.manifestsDir,
      root: this.layout.current,
      path: this.path,
      load,
      changedApps: changedApps(diff),
      diff,
      ...(previousCommit ? { previousCommit } : {}),
      restored,
    });
  }

  private recovered(): void {
    if (this.failures > 0 && !this.stopped) {
      this.options.logger.info({ url: redactUrls(this.url), branch: this.branch, after: this.failures }, 'git source recovered');
      this.failures = 0;
      this.options.onRecovered?.();
    }
  }

  private async commitMeta(commit: string): Promise<{ message: string; time: string }> {
    try {
      const out = (await runGit(['--git-dir', this.layout.mirror, 'log', '-1', '--format=%cI%x00%s', commit], 'checkout', {
        timeoutMs: this.timeoutMs,
        signal: this.abort.signal,
      })).stdout;
      const [time = '', message = ''] = out.split('\0');
      return { time: new Date(time).toISOString(), message };
    } catch {
      return { time: new Date().toISOString(), message: '' }; // a restored checkout whose mirror is gone
    }
  }
}

/** A relative path inside the repository, normalized ('' for the root); throws on escapes. */
export function normalizeSubdir(path: string): string {
  const trimmed = path.trim();
  if (trimmed === '' || trimmed === '.' || trimmed === './') return '';
  const normalized = normalize(trimmed).replace(/[\\/]+$/, '');
  if (isAbsolute(normalized) || normalized === '..' || normalized.startsWith(`..${sep}`)) {
    throw new Error(`the git path must be a directory inside the repository: ${JSON.stringify(path)}`);
  }
  return normalized === '.' ? '' : normalized;
}

/** A conservative subset of git's ref-name rules; no leading '-' (it would read as an option). */
export function isSafeBranchName(branch: string): boolean {
  return /^[A-Za-z0-9._/][A-Za-z0-9._/-]*$/.test(branch)
    && !branch.includes('..')
    && !branch.includes('//')
    && !branch.endsWith('/')
    && !branch.endsWith('.lock')
    && !branch.startsWith('/');
}
