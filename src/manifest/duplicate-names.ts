// An app name must be declared once across all files. When two documents claim a name, neither
// can be trusted to be the intended one: each gets an error naming another holder, and none is
// loaded, so the desired-state registry keeps the app's last good spec until the clash is fixed.
// Linear on purpose: 10,000 files claiming one name give 10,000 short errors, not 10,000 lists of
// 10,000 files.

import { printable } from '../core/printable.js';
import type { LoadedApp, ManifestError } from './types.js';

interface Occurrence {
  file: string;
  document: number;
}

/** Splits `apps` into unique ones and errors for every clash. Invalid documents count as claims too. */
export function rejectDuplicateNames(
  apps: LoadedApp[],
  errors: ManifestError[],
): { apps: Map<string, LoadedApp>; errors: ManifestError[] } {
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
  for (const app of apps) {
    const name = app.manifest.metadata.name;
    if ((claims.get(name)?.size ?? 0) <= 1) unique.set(name, app);
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
      });
    }
  }
  return { apps: unique, errors: [...errors, ...duplicateErrors] };
}

function describe(o: Occurrence): string {
  return o.document > 0 ? `${o.file} (document ${o.document})` : o.file;
}
