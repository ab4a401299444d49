// The desired-state registry: the last good spec of every declared app, plus the current errors.
// A bad edit must never take a running app down, so an app whose document is invalid keeps its
// last good spec; only an app that is truly gone (no document names it, no error names it, and its
// file was readable) is removed. An empty or missing directory removes nothing unless allowed:
// an unmounted volume or a half-finished checkout must not look like "delete everything".

import { compareStrings, stableJson } from '../core/stable-json.js';
import type { LoadedApp, LoadResult, ManifestError } from './types.js';

export interface DesiredStateOptions {
  /** Let a load with no manifest files at all remove every app. Default false. */
  allowEmptyPrune?: boolean;
}

export interface ApplyResult {
  /** Apps that are new or whose manifest differs from the last good one. */
  changed: string[];
  /** Apps no longer declared anywhere. */
  removed: string[];
  /** Apps with errors (kept at their last good spec, if any), or whose file cannot be read. */
  invalid: string[];
}

export class DesiredState {
  private readonly apps = new Map<string, LoadedApp>();
  private currentErrors: ManifestError[] = [];
  private readonly allowEmptyPrune: boolean;
  private blockedReason: string | undefined;

  constructor(options: DesiredStateOptions = {}) {
    this.allowEmptyPrune = options.allowEmptyPrune ?? false;
  }

  /** True when the last apply found no manifest files and kept the apps instead of removing them. */
  get pruneBlocked(): boolean {
    return this.blockedReason !== undefined;
  }

  get pruneBlockedReason(): string | undefined {
    return this.blockedReason;
  }

  apply(result: LoadResult): ApplyResult {
    const changed: string[] = [];
    const removed: string[] = [];
    const invalid = new Set<string>();
    this.currentErrors = [...result.errors];
    this.blockedReason = undefined;

    for (const [name, loaded] of result.apps) {
      const previous = this.apps.get(name);
      if (!previous || stableJson(previous.manifest) !== stableJson(loaded.manifest)) changed.push(name);
      this.apps.set(name, loaded);
    }

    // Errors that name an app (schema violations, duplicate names): keep its last good spec.
    for (const error of result.errors) {
      if (error.app !== undefined && !result.apps.has(error.app)) invalid.add(error.app);
    }
    // Files that could not be parsed at all: we cannot tell what they declare, so what they
    // declared last time stays.
    // The same holds for a document whose name cannot be read: it may be an app declared there before.
    const unreadable = new Set(result.errors.filter((e) => e.document === undefined || e.app === undefined).map((e) => e.file));

    const gone = [...this.apps.keys()].filter((name) => !result.apps.has(name) && !invalid.has(name));
    for (const name of gone) {
      const app = this.apps.get(name);
      if (app && unreadable.has(app.file)) invalid.add(name);
    }
    const toRemove = gone.filter((name) => !invalid.has(name));

    if (result.fileCount === 0 && toRemove.length > 0 && !this.allowEmptyPrune) {
      this.blockedReason =
        `no manifest files found; keeping ${toRemove.length} app(s) (${toRemove.join(', ')}) instead of removing them. `
        + 'Restore the manifests, or start with allowEmptyPrune to let an empty directory remove every app.';
    } else {
      for (const name of toRemove) {
        this.apps.delete(name);
        removed.push(name);
      }
    }

    return { changed: changed.sort(), removed: removed.sort(), invalid: [...invalid].sort() };
  }

  get(name: string): LoadedApp | undefined {
    return this.apps.get(name);
  }

  /** Every app at its last good spec, sorted by name. */
  all(): LoadedApp[] {
    return [...this.apps.values()].sort((a, b) => compareStrings(a.manifest.metadata.name, b.manifest.metadata.name));
  }

  /** Errors that concern `name`: its own, plus whole-file errors of the file its last good spec came from. */
  errorsFor(name: string): ManifestError[] {
    const file = this.apps.get(name)?.file;
    return this.currentErrors.filter((e) => e.app === name || (e.app === undefined && e.document === undefined && e.file === file));
  }

  errorsForFile(file: string): ManifestError[] {
    return this.currentErrors.filter((e) => e.file === file);
  }

  /** Every error of the last apply. */
  errors(): ManifestError[] {
    return [...this.currentErrors];
  }
}

