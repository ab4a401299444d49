// Where manifests come from: a watched directory (the default) or a git branch. Both deliver a
// whole LoadResult from the one loader (loadManifestDirectory), so the daemon wires one callback
// and never branches on the mode; git loads also carry the commit they came from.

import type { GitCredentials } from './git-credentials.js';
import type { Logger } from 'pino';
import type { LoadResult } from '../manifest/types.js';
import { watchManifestDirectory, type ManifestWatcher } from '../manifest/watch-directory.js';
import { GitSource, type GitRevision, type GitSourceFailure } from './git-source.js';
import type { ManifestSource } from './types.js';

export type { ManifestSource } from './types.js';

export interface ManifestSourceHandlers {
  /** Every load, whole. `revision` is set in git mode (the commit the load was read from). */
  onLoad: (result: LoadResult, revision?: GitRevision) => void;
  /** Git mode: a poll failed; the last good checkout stays applied. */
  onSourceError?: (failure: GitSourceFailure) => void;
  /** Git mode: the first successful poll after failures. */
  onSourceRecovered?: () => void;
  /** Directory mode: a load or the watcher failed. */
  onWatchError?: (err: unknown) => void;
  /**
   * Directory mode: true for a load that must be read again after the debounce before it is
   * delivered (it would remove an app: the file may be caught mid-write).
   */
  confirmLoad?: (result: LoadResult) => boolean;
}

/** The DaemonOptions fields the sources read (DaemonOptions satisfies it once the git fields are added). */
export interface ManifestSourceOptions {
  manifestsDir: string;
  stateDir: string;
  debounceMs: number;
  /** Set: git mode. Unset: watch manifestsDir. */
  gitUrl?: string;
  /** For an https remote; never on git's command line. */
  gitCredentials?: GitCredentials;
  gitBranch?: string;
  gitPath?: string;
  gitIntervalMs?: number;
}

export function createManifestSource(options: ManifestSourceOptions, handlers: ManifestSourceHandlers, logger: Logger): ManifestSource {
  if (options.gitUrl) {
    return new GitSource({
      url: options.gitUrl,
      ...(options.gitCredentials ? { credentials: options.gitCredentials } : {}),
      branch: options.gitBranch,
      path: options.gitPath,
      intervalMs: options.gitIntervalMs,
      stateDir: options.stateDir,
      logger: logger.child({ component: 'git-source' }),
      onRevision: (revision) => handlers.onLoad(revision.load, revision),
      onError: (failure) => handlers.onSourceError?.(failure),
      onRecovered: () => handlers.onSourceRecovered?.(),
    });
  }
  return new DirectorySource(options.manifestsDir, handlers, options.debounceMs);
}

/** The watched directory (chokidar), as a ManifestSource. */
export class DirectorySource implements ManifestSource {
  private watcher: ManifestWatcher | undefined;

  constructor(
    readonly dir: string,
    private readonly handlers: ManifestSourceHandlers,
    private readonly debounceMs?: number,
  ) {}

  async start(): Promise<void> {
    if (this.watcher) throw new Error('DirectorySource already started');
    this.watcher = watchManifestDirectory(this.dir, (result) => this.handlers.onLoad(result), {
      debounceMs: this.debounceMs,
      onError: (err) => this.handlers.onWatchError?.(err),
      confirm: this.handlers.confirmLoad,
    });
    await this.watcher.ready;
  }

  reread(): void {
    this.watcher?.reload().catch((err: unknown) => this.handlers.onWatchError?.(err));
  }

  async stop(): Promise<void> {
    await this.watcher?.close();
  }
}

/** The git fields of DaemonOptions (optional; gitUrl unset means the watched directory). */
export type GitDaemonOptions = Pick<ManifestSourceOptions, 'gitUrl' | 'gitCredentials' | 'gitBranch' | 'gitPath' | 'gitIntervalMs'>;
