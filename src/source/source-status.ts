// Records what the git source did into the store: the applied commit on each app's status, an
// event per revision naming the apps it changed, an event per commit whose manifests are invalid
// (file:field: message, paths relative to the repository), the SourceFailed condition while polls
// fail, and a PruneBlocked condition on apps an empty or missing manifests path would have removed.
//
// Call recordRevision after DesiredState.apply(load) (it reads what was kept), recordFailure from
// the source's onError and recordRecovered from its onRecovered.

import { relative } from 'node:path';
import type { ApplyResult, DesiredState } from '../manifest/desired-state.js';
import type { ManifestError } from '../manifest/types.js';
import { removeCondition, setCondition } from '../store/conditions.js';
import type { Store } from '../store/store.js';
import type { GitRevision, GitSourceFailure } from './git-source.js';

export const SOURCE_FAILED = 'SourceFailed';
export const PRUNE_BLOCKED = 'PruneBlocked';
/** At most this many errors are spelled out in one RevisionInvalid event (the rest are counted). */
export const MAX_ERRORS_PER_EVENT = 20;

export class SourceStatusRecorder {
  constructor(private readonly store: Store) {}

  recordRevision(revision: GitRevision, applied: ApplyResult, desired: DesiredState): void {
    const { store } = this;
    const applies = { commit: revision.commit, message: revision.message, time: revision.time };
    const ref = describeCommit(revision);
    for (const name of revision.load.apps.keys()) {
      if (!desired.get(name)) continue;
      store.updateApp(name, (status) => {
        status.revision = applies;
      });
    }
    for (const name of [...revision.diff.added, ...revision.diff.changed]) {
      store.addEvent({ app: name, type: 'Normal', reason: 'RevisionApplied', message: `${ref} changes this app` });
    }

    store.addEvent({
      type: 'Normal',
      reason: revision.restored ? 'RevisionRestored' : 'NewRevision',
      message: `${ref}: ${describeDiff(revision)}`,
    });

    if (revision.load.errors.length > 0) {
      store.addEvent({
        type: 'Warning',
        reason: 'RevisionInvalid',
        message: `${ref}: invalid manifests are not applied (each affected app keeps its last good spec): ${formatErrors(revision.load.errors, revision.root)}`,
      });
    }

    // Apps the commit deletes that DesiredState kept because the manifests path is empty or gone.
    const blocked = desired.pruneBlocked ? revision.diff.removed.filter((name) => desired.get(name)) : [];
    for (const name of blocked) {
      store.updateApp(name, (status) =>
        setCondition(status.conditions, {
          type: PRUNE_BLOCKED,
          status: 'True',
          reason: 'EmptySource',
          message: `${ref} leaves ${revision.path || 'the repository root'} without manifests; this app is kept (start with --allow-empty-prune to allow it)`,
        }),
      );
    }
    const stillBlocked = new Set(blocked);
    for (const status of store.apps()) {
      if (!stillBlocked.has(status.name) && status.conditions.some((c) => c.type === PRUNE_BLOCKED)) {
        store.updateApp(status.name, (s) => removeCondition(s.conditions, PRUNE_BLOCKED));
      }
    }
  }

  recordFailure(failure: GitSourceFailure, desired: DesiredState): void {
    const keeping = failure.currentCommit ? `; commit ${failure.currentCommit.slice(0, 12)} stays applied` : '; nothing applied yet';
    const message = `git source failed (${failure.kind}): ${failure.message}${keeping}`;
    for (const app of desired.all()) {
      this.store.updateApp(app.manifest.metadata.name, (status) =>
        setCondition(status.conditions, { type: SOURCE_FAILED, status: 'True', reason: failureReason(failure), message }),
      );
    }
    // Same text on every retry, so a long outage is one event row with a count.
    this.store.addEvent({ type: 'Warning', reason: SOURCE_FAILED, message });
  }

  recordRecovered(): void {
    let had = false;
    for (const status of this.store.apps()) {
      if (!status.conditions.some((c) => c.type === SOURCE_FAILED)) continue;
      had = true;
      this.store.updateApp(status.name, (s) => removeCondition(s.conditions, SOURCE_FAILED));
    }
    this.store.addEvent({ type: 'Normal', reason: 'SourceRecovered', message: had ? 'git source reachable again' : 'git source reachable' });
  }
}

/** e.g. "FetchFailed", "AuthFailed", "BranchMissing": the condition's reason. */
export function failureReason(failure: Pick<GitSourceFailure, 'kind'>): string {
  switch (failure.kind) {
    case 'auth':
      return 'AuthFailed';
    case 'missing-branch':
      return 'BranchMissing';
    case 'timeout':
      return 'GitTimeout';
    case 'checkout':
      return 'CheckoutFailed';
    case 'load':
      return 'LoadFailed';
    case 'fetch':
      return 'FetchFailed';
  }
}

export function describeCommit(revision: Pick<GitRevision, 'commit' | 'message'>): string {
  return `commit ${revision.commit.slice(0, 12)}${revision.message ? ` "${oneLine(revision.message)}"` : ''}`;
}

function describeDiff(revision: GitRevision): string {
  const { added, changed, removed, invalid } = revision.diff;
  const parts = [
    added.length ? `added ${added.join(', ')}` : '',
    changed.length ? `changed ${changed.join(', ')}` : '',
    removed.length ? `removed ${removed.join(', ')}` : '',
    invalid.length ? `invalid ${invalid.join(', ')}` : '',
  ].filter(Boolean);
  const files = `${revision.load.fileCount} manifest file(s) in ${revision.path || '/'}`;
  return `${parts.length ? parts.join('; ') : 'no app changed'} (${files})`;
}

/** "apps/web.yaml: /spec/replicas: must be integer; ..." with paths relative to the repository. */
export function formatErrors(errors: ManifestError[], root: string): string {
  const shown = errors.slice(0, MAX_ERRORS_PER_EVENT).map((e) => {
    const file = relative(root, e.file) || e.file;
    const where = e.document !== undefined && e.document > 0 ? `${file}[${e.document}]` : file;
    return `${where}: ${e.path || '(document)'}: ${oneLine(e.message)}`;
  });
  const more = errors.length - shown.length;
  return shown.join('; ') + (more > 0 ? `; and ${more} more` : '');
}

function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ');
}
