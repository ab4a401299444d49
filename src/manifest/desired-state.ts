// The desired-state registry: the last good spec of every declared app, plus the current errors.
// A bad edit must never take a running app down, so an app is removed only when a readable source
// says so: its file is gone from a directory that was read, or its file loads without any error and
// no longer declares it. Every other absence (a schema error, broken YAML, an unreadable file, a
// document whose name can't be read, a renamed app in a file that also has an error) keeps the
// app at its last good spec. An empty or missing directory removes nothing unless allowed: an
// unmounted volume or a half-finished checkout must not look like "delete everything".
//
// The last good specs outlive the process: the daemon (and `autoserve plan`) hand the ones a
// previous run applied to `remember` before the first load, so a restart with an invalid manifest
// keeps the app exactly as a live edit would.

import path from 'node:path';
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
  /** The last load, once there was one: until then nothing may be pruned. */
  private lastLoad: Pick<LoadResult, 'fileCount'> | undefined;
  /** Files of the last load with any error: what they declare is not known for sure. */
  private filesWithErrors = new Set<string>();
  /** Apps this registry removed because a readable source stopped declaring them. */
  private readonly removedApps = new Set<string>();
  /** Apps the last load declared validly. */
  private declared = new Set<string>();

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

  /**
   * Last good specs a previous run applied (from the store), taken as if they had been loaded:
   * the next apply keeps, changes or removes them by the usual rules. An app already known is left
   * as it is (what was loaded in this process is newer).
   */
  remember(apps: Iterable<LoadedApp>): void {
    for (const app of apps) {
      const name = app.manifest.metadata.name;
      if (!this.apps.has(name)) this.apps.set(name, app);
    }
  }

  apply(result: LoadResult): ApplyResult {
    const changed: string[] = [];
    const removed: string[] = [];
    this.currentErrors = [...result.errors];
    this.filesWithErrors = new Set(result.errors.map((e) => e.file));
    this.lastLoad = { fileCount: result.fileCount };
    this.declared = new Set(result.apps.keys());
    this.blockedReason = undefined;

    for (const [name, loaded] of result.apps) {
      const previous = this.apps.get(name);
      if (!previous || stableJson(previous.manifest) !== stableJson(loaded.manifest)) changed.push(name);
      this.apps.set(name, loaded);
      this.removedApps.delete(name);
    }

    const { kept: invalid, toRemove } = this.sortOut(result);

    if (result.fileCount === 0 && toRemove.length > 0 && !this.allowEmptyPrune) {
      this.blockedReason =
        `no manifest files found; keeping ${toRemove.length} app(s) (${toRemove.join(', ')}) instead of removing them. `
        + 'Restore the manifests, or start with allowEmptyPrune to let an empty directory remove every app.';
    } else {
      for (const name of toRemove) {
        this.apps.delete(name);
        this.removedApps.add(name);
        removed.push(name);
      }
    }

    return { changed: changed.sort(), removed: removed.sort(), invalid: [...invalid].sort() };
  }

  /** The apps applying `result` would remove (a dry run: nothing changes). */
  wouldRemove(result: LoadResult): string[] {
    if (result.fileCount === 0 && !this.allowEmptyPrune) return [];
    return this.sortOut(result).toRemove.sort();
  }

  /** Of the apps held now, which `result` keeps at their last good spec and which it removes. */
  private sortOut(result: LoadResult): { kept: Set<string>; toRemove: string[] } {
    const kept = new Set<string>();
    // Errors that name an app (schema violations, duplicate names): keep its last good spec.
    for (const error of result.errors) {
      if (error.app !== undefined && !result.apps.has(error.app)) kept.add(error.app);
    }
    // An app missing from the load whose file has any error (it does not parse, can't be read, a
    // document has no readable name, or the app was renamed there in an invalid document): we can't
    // tell whether the file still declares it, so its last good spec stays.
    // A directory that could not be read is an error on the directory: every file under it counts.
    const filesWithErrors = new Set(result.errors.map((e) => e.file));
    const gone = [...this.apps.keys()].filter((name) => !result.apps.has(name) && !kept.has(name));
    for (const name of gone) {
      const app = this.apps.get(name);
      if (app && hasErrorOnPath(filesWithErrors, app.file)) kept.add(name);
    }
    return { kept, toRemove: gone.filter((name) => !kept.has(name)) };
  }

  /**
   * Whether replicas of `name`, an app this registry does not hold, may be removed now. Never
   * before the first load, nor while the prune guard holds (no manifest files), nor while an error
   * names the app. An app this registry itself removed may go; one it never knew (replicas whose
   * spec no run remembers) only when every file loaded cleanly, since a file with an error might
   * declare it.
   */
  mayPrune(name: string): boolean {
    if (this.apps.has(name) || !this.lastLoad) return false;
    if (this.lastLoad.fileCount === 0 && !this.allowEmptyPrune) return false;
    if (this.currentErrors.some((e) => e.app === name)) return false;
    return this.removedApps.has(name) || this.filesWithErrors.size === 0;
  }

  get(name: string): LoadedApp | undefined {
    return this.apps.get(name);
  }

  /** Every app at its last good spec, sorted by name. */
  all(): LoadedApp[] {
    return [...this.apps.values()].sort((a, b) => compareStrings(a.manifest.metadata.name, b.manifest.metadata.name));
  }

  /**
   * Errors that concern `name`: its own, plus, when the last load did not declare it, every error
   * of the file its last good spec came from (what keeps it at that spec).
   */
  errorsFor(name: string): ManifestError[] {
    const file = this.declared.has(name) ? undefined : this.apps.get(name)?.file;
    const around = file === undefined ? new Set<string>() : new Set(pathAndParents(file));
    return this.currentErrors.filter((e) => e.app === name || around.has(e.file));
  }

  errorsForFile(file: string): ManifestError[] {
    return this.currentErrors.filter((e) => e.file === file);
  }

  /** Every error of the last apply. */
  errors(): ManifestError[] {
    return [...this.currentErrors];
  }
}

/** Whether `errorFiles` holds `file` or a directory it is in. */
function hasErrorOnPath(errorFiles: ReadonlySet<string>, file: string): boolean {
  return pathAndParents(file).some((p) => errorFiles.has(p));
}

/** `file`, then each directory it is in, up to the root. */
function pathAndParents(file: string): string[] {
  const out = [file];
  for (let parent = path.dirname(file); parent !== out[out.length - 1]; parent = path.dirname(parent)) out.push(parent);
  return out;
}
