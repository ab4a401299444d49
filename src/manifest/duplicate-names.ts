// An app name must be declared once across all files. When two documents claim a name, neither
// can be trusted to be the intended one: both get an error naming the other, and neither is
// loaded, so the desired-state registry keeps the app's last good spec until the clash is fixed.

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
  const claims = new Map<string, Occurrence[]>();
  const claim = (name: string, occurrence: Occurrence) => {
    const list = claims.get(name) ?? [];
    if (!list.some((o) => o.file === occurrence.file && o.document === occurrence.document)) list.push(occurrence);
    claims.set(name, list);
  };
  for (const app of apps) claim(app.manifest.metadata.name, { file: app.file, document: app.document });
  for (const error of errors) {
    if (error.app !== undefined && error.document !== undefined) claim(error.app, { file: error.file, document: error.document });
  }

  const unique = new Map<string, LoadedApp>();
  for (const app of apps) {
    const name = app.manifest.metadata.name;
    if ((claims.get(name)?.length ?? 0) <= 1) unique.set(name, app);
  }

  const duplicateErrors: ManifestError[] = [];
  for (const [name, occurrences] of claims) {
    if (occurrences.length <= 1) continue;
    for (const occurrence of occurrences) {
      const others = occurrences.filter((o) => o !== occurrence).map(describe).join(', ');
      duplicateErrors.push({
        ...occurrence,
        path: '/metadata/name',
        message: `app "${name}" is declared more than once: also in ${others}; neither is applied until one is removed`,
        app: name,
      });
    }
  }
  return { apps: unique, errors: [...errors, ...duplicateErrors] };
}

function describe(o: Occurrence): string {
  return o.document > 0 ? `${o.file} (document ${o.document})` : o.file;
}
