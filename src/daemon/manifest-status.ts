import type { DesiredState } from '../manifest/desired-state.js';
import { formatManifestError } from '../manifest/validate-paths.js';
import type { LoadResult, ManifestError } from '../manifest/types.js';
import { removeCondition, setCondition } from '../store/conditions.js';
import type { Store } from '../store/store.js';

/**
 * Records what a manifest load found: a ManifestInvalid condition and a Warning event per app whose
 * document is bad (it keeps its last good spec), errors no app can be named for as events, and the
 * prune guard. Only changes are recorded, so an unchanged bad file is not re-reported every load.
 */
export class ManifestStatusRecorder {
  private lastReported = new Map<string, string>();

  constructor(private readonly store: Store) {}

  record(result: LoadResult, desired: DesiredState): void {
    const { store } = this;
    const byApp = new Map<string, ManifestError[]>();
    // An app kept at its last good spec: the errors that keep it (its own, or its file's).
    for (const app of desired.all()) {
      const name = app.manifest.metadata.name;
      const errors = result.apps.has(name) ? [] : desired.errorsFor(name);
      if (errors.length > 0) byApp.set(name, errors);
    }
    // An app that never had a good spec: its own errors.
    for (const error of result.errors) {
      if (error.app !== undefined && !desired.get(error.app)) byApp.set(error.app, [...(byApp.get(error.app) ?? []), error]);
    }
    const claimed = new Set([...byApp.values()].flat());
    const orphanErrors = result.errors.filter((e) => !claimed.has(e));

    const reported = new Map<string, string>();
    for (const [app, errors] of byApp) {
      const message = errors.map(formatManifestError).join('; ');
      reported.set(app, message);
      if (this.lastReported.get(app) === message) continue;
      const keptSpec = desired.get(app) !== undefined;
      store.updateApp(app, (status) => {
        setCondition(status.conditions, { type: 'ManifestInvalid', status: 'True', reason: 'ManifestInvalid', message });
        if (!keptSpec) status.phase = 'Failed';
      });
      store.addEvent({
        app,
        type: 'Warning',
        reason: 'ManifestInvalid',
        message: keptSpec ? `${message} (the last good spec keeps running)` : `${message} (the app is not created)`,
      });
    }
    for (const error of orphanErrors) {
      const key = `file:${error.file}`;
      const message = formatManifestError(error);
      reported.set(key, message);
      if (this.lastReported.get(key) !== message) store.addEvent({ type: 'Warning', reason: 'ManifestInvalid', message });
    }
    for (const app of this.lastReported.keys()) {
      if (reported.has(app) || app.startsWith('file:')) continue;
      if (desired.get(app)) {
        store.updateApp(app, (status) => removeCondition(status.conditions, 'ManifestInvalid'));
        store.addEvent({ app, type: 'Normal', reason: 'ManifestValid', message: 'manifest is valid again' });
      } else if (store.app(app) && !store.app(app)?.spec) {
        store.removeApp(app); // an app that never had a good spec and is no longer declared
      }
    }
    this.lastReported = reported;

    if (desired.pruneBlockedReason) {
      store.addEvent({ type: 'Warning', reason: 'PruneBlocked', message: desired.pruneBlockedReason });
    }
  }
}
