// Public API of the source module: where manifests come from (watched directory or git branch).

export type { ManifestSource } from './types.js';
export { createManifestSource, DirectorySource, type GitDaemonOptions, type ManifestSourceHandlers, type ManifestSourceOptions } from './manifest-source.js';
export {
  GitSource,
  DEFAULT_GIT_BRANCH,
  DEFAULT_GIT_INTERVAL_MS,
  DEFAULT_GIT_MAX_BACKOFF_MS,
  normalizeSubdir,
  isSafeBranchName,
  type GitRevision,
  type GitSourceFailure,
  type GitSourceOptions,
} from './git-source.js';
export { GitSourceError, type GitErrorKind, redactUrls } from './git-command.js';
export { gitLayout, type GitLayout } from './checkout-store.js';
export { diffLoadResults, changedApps, type RevisionDiff } from './revision-diff.js';
export { SourceStatusRecorder, SOURCE_FAILED, PRUNE_BLOCKED, failureReason, formatErrors } from './source-status.js';
