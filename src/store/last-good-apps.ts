// The last good specs a run applied, as the desired-state registry takes them back after a
// restart (DesiredState.remember): the store is the memory of what the manifests said when they
// last made sense.
import type { LoadedApp } from '../manifest/types.js';
import type { StoreData } from './status-model.js';

/** Every app the store holds an applied spec for, with the file it came from. */
export function lastGoodApps(data: Pick<StoreData, 'apps'>): LoadedApp[] {
  return Object.values(data.apps).flatMap((status) =>
    status.spec && status.file
      ? [{ manifest: { apiVersion: 'v1', kind: 'App', metadata: { name: status.name }, spec: status.spec }, file: status.file, document: 0 }]
      : [],
  );
}
