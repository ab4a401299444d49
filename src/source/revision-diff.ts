// Which apps a new revision changed: a pure comparison of two loads, by the manifests themselves
// (stableJson), so a commit that only reorders keys or touches comments changes nothing.

import { stableJson } from '../core/stable-json.js';
import type { LoadResult } from '../manifest/types.js';

export interface RevisionDiff {
  /** Valid now, not valid before. */
  added: string[];
  /** Valid before and now, with a different manifest. */
  changed: string[];
  /** Declared before, not declared now by any document (valid or not) or unreadable file. */
  removed: string[];
  /** Named by an error now (or declared in a file that cannot be read now): they keep their last good spec. */
  invalid: string[];
}

/**
 * Compares the load a revision produced with the previous one. `previous` undefined (first
 * revision) makes every valid app "added". Removal here is what the commit says; whether the
 * daemon acts on it is DesiredState's call (the empty-tree prune guard).
 */
export function diffLoadResults(previous: LoadResult | undefined, next: LoadResult): RevisionDiff {
  const added: string[] = [];
  const changed: string[] = [];
  const invalid = new Set<string>();
  for (const error of next.errors) {
    if (error.app !== undefined && !next.apps.has(error.app)) invalid.add(error.app);
  }
  const unreadable = new Set(next.errors.filter((e) => e.document === undefined).map((e) => e.file));

  for (const [name, loaded] of next.apps) {
    const before = previous?.apps.get(name);
    if (!before) added.push(name);
    else if (stableJson(before.manifest) !== stableJson(loaded.manifest)) changed.push(name);
  }
  const removed: string[] = [];
  for (const [name, before] of previous?.apps ?? []) {
    if (next.apps.has(name) || invalid.has(name)) continue;
    if (unreadable.has(before.file)) invalid.add(name);
    else removed.push(name);
  }
  return { added: added.sort(), changed: changed.sort(), removed: removed.sort(), invalid: [...invalid].sort() };
}

/** Every app the revision touched (added, changed, removed or now invalid), sorted, no duplicates. */
export function changedApps(diff: RevisionDiff): string[] {
  return [...new Set([...diff.added, ...diff.changed, ...diff.removed, ...diff.invalid])].sort();
}
