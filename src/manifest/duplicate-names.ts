// An app name must be declared once across all files. When two documents claim a name, the load
// alone cannot tell which one is meant: each gets an error naming another holder, and none is
// loaded. settleClashes then lets the document that held the name before keep it (a newcomer
// that copies a running app's name must not freeze that app), and only the newcomers stay in
// error; a name no document held before stays unloaded until the clash is fixed.
// Linear on purpose: 10,000 files claiming one name give 10,000 short errors, not 10,000 lists of
// 10,000 files.

import { printable } from '../core/printable.js';
import type { LoadedApp, LoadResult, ManifestError } from './types.js';

interface Occurrence {
  file: string;
  document: number;
}

/** Splits `apps` into unique ones and errors for every clash. Invalid documents count as claims too. */
export function rejectDuplicateNames(
  apps: LoadedApp[],
  errors: ManifestError[],
): { apps: Map<string, LoadedApp>; errors: ManifestError[]; clashes: Map<string, LoadedApp[]> } {
  const claims = new Map<string, Map<string, Occurrence>>();
  const claim = (name: string, occurrence: Occurrence) => {
    let byPlace = claims.get(name);
    if (!byPlace) claims.set(name, (byPlace = new Map()));
    byPlace.set(`${occurrence.document}\0${occurrence.file}`, occurrence);
  };
  for (const app of apps) claim(app.manifest.metadata.name, { file: app.file, document: app.document });
  for (const error of errors) {
    if (error.app !== undefined && error.document !== undefined) claim(error.app, { file: error.file, document: error.document });
  }

  const unique = new Map<string, LoadedApp>();
  const clashes = new Map<string, LoadedApp[]>();
  for (const app of apps) {
    const name = app.manifest.metadata.name;
    if ((claims.get(name)?.size ?? 0) <= 1) unique.set(name, app);
    else clashes.set(name, [...(clashes.get(name) ?? []), app]);
  }

  const duplicateErrors: ManifestError[] = [];
  for (const [name, byPlace] of claims) {
    if (byPlace.size <= 1) continue;
    const [first, second] = [...byPlace.values()];
    for (const occurrence of byPlace.values()) {
      // The first holder is named by everyone else; the first holder names the second.
      const named = occurrence === first ? second! : first!;
      const rest = byPlace.size - 2;
      const more = rest > 0 ? ` and ${rest.toLocaleString('en-US')} other document${rest === 1 ? '' : 's'}` : '';
      duplicateErrors.push({
        ...occurrence,
        path: '/metadata/name',
        message: `app "${name}" is declared more than once: also in ${printable(describe(named))}${more}; none is applied until only one remains`,
        app: name,
        duplicate: true,
      });
    }
  }
  return { apps: unique, errors: [...errors, ...duplicateErrors], clashes };
}

/**
 * The load with each clash settled for the document that held the name before (`holderOf` gives
 * that file, from the desired state): when exactly one valid declaration of the name is in that
 * file, it is loaded, its duplicate error goes, and every other claim gets an error naming it.
 * Other clashes stay as they are. Pure: `result` is not changed.
 */
export function settleClashes(result: LoadResult, holderOf: (app: string) => string | undefined): LoadResult {
  if (!result.clashes || result.clashes.size === 0) return result;
  const apps = new Map(result.apps);
  const settled = new Map<string, LoadedApp>();
  for (const [name, claims] of result.clashes) {
    const holderFile = holderOf(name);
    const held = claims.filter((c) => c.file === holderFile);
    if (held.length === 1) settled.set(name, held[0]!);
  }
  if (settled.size === 0) return result;
  const errors: ManifestError[] = [];
  for (const error of result.errors) {
    const holder = error.duplicate && error.app !== undefined ? settled.get(error.app) : undefined;
    if (!holder) errors.push(error);
    else if (error.file !== holder.file || error.document !== holder.document) {
      errors.push({ ...error, message: `app "${error.app}" is already declared in ${printable(describe(holder))}, which keeps it; this declaration is ignored` });
    }
  }
  for (const [name, app] of settled) apps.set(name, app);
  const clashes = new Map([...result.clashes].filter(([name]) => !settled.has(name)));
  return { ...result, apps, errors, clashes };
}

function describe(o: Occurrence): string {
  return o.document > 0 ? `${o.file} (document ${o.document})` : o.file;
}
