// SourceStatusRecorder against a real Store on disk and a real DesiredState.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DesiredState } from '../../../src/manifest/desired-state.js';
import type { AppManifest, LoadResult, ManifestError } from '../../../src/manifest/types.js';
import type { GitRevision } from '../../../src/source/git-source.js';
import { diffLoadResults, changedApps } from '../../../src/source/revision-diff.js';
import { SourceStatusRecorder } from '../../../src/source/source-status.js';
import { Store } from '../../../src/store/store.js';
import { GitSourceError } from '../../../src/source/git-command.js';

const ROOT = '/state/git/current';
function load(apps: [string, number][], errors: ManifestError[] = [], fileCount = apps.length + errors.length): LoadResult {
  return {
    apps: new Map(apps.map(([name, replicas]) => [name, {
      manifest: { apiVersion: 'v1', kind: 'App', metadata: { name }, spec: { replicas } } as unknown as AppManifest,
      file: `${ROOT}/apps/${name}.yaml`,
      document: 0,
    }])),
    errors,
    fileCount,
  };
}
function revision(commit: string, message: string, next: LoadResult, previous?: LoadResult): GitRevision {
  const diff = diffLoadResults(previous, next);
  return { commit: commit.repeat(40).slice(0, 40), message, time: '2025-01-01T00:00:00.000Z', dir: `${ROOT}/apps`, root: ROOT, path: 'apps', load: next, diff, changedApps: changedApps(diff), restored: false };
}

describe('SourceStatusRecorder', () => {
  let dir: string;
  let store: Store;
  let desired: DesiredState;
  let recorder: SourceStatusRecorder;
  const apply = (rev: GitRevision) => recorder.recordRevision(rev, desired.apply(rev.load), desired);

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'autoserve-source-status-'));
    store = await Store.open(join(dir, 'store.json'), pino({ level: 'silent' }));
    desired = new DesiredState();
    recorder = new SourceStatusRecorder(store);
  });
  afterEach(async () => {
    await store.flush();
    await rm(dir, { recursive: true, force: true });
  });

  it('stamps the applied commit on every valid app and records the revision with the apps it changed', () => {
    const first = load([['web', 1], ['api', 1]]);
    apply(revision('a', 'first', first));
    const second = load([['web', 2], ['api', 1]]);
    apply(revision('b', 'scale web', second, first));
    expect(store.app('web')?.revision).toEqual({ commit: 'b'.repeat(40), message: 'scale web', time: '2025-01-01T00:00:00.000Z' });
    expect(store.app('api')?.revision?.commit).toBe('b'.repeat(40));
    const events = store.events().filter((e) => e.reason === 'NewRevision').map((e) => e.message);
    expect(events).toEqual([
      `commit ${'a'.repeat(12)} "first": added api, web (2 manifest file(s) in apps)`,
      `commit ${'b'.repeat(12)} "scale web": changed web (2 manifest file(s) in apps)`,
    ]);
    expect(store.events({ app: 'web' }).map((e) => e.reason)).toEqual(['RevisionApplied', 'RevisionApplied']);
  });

  it('records an invalid commit as one event listing file:field errors relative to the repository; the app keeps its revision', () => {
    const first = load([['web', 1]]);
    apply(revision('a', 'good', first));
    const bad = load([], [{ file: `${ROOT}/apps/web.yaml`, path: '/spec/replicas', message: 'must be integer', app: 'web', document: 0 }], 1);
    apply(revision('b', 'bad', bad, first));
    expect(desired.get('web')?.manifest.spec.replicas).toBe(1);
    expect(store.app('web')?.revision?.commit).toBe('a'.repeat(40));
    const invalid = store.events().find((e) => e.reason === 'RevisionInvalid');
    expect(invalid?.message).toBe(
      `commit ${'b'.repeat(12)} "bad": invalid manifests are not applied (each affected app keeps its last good spec): apps/web.yaml: /spec/replicas: must be integer`,
    );
  });

  it('marks apps an emptied manifests path would remove with PruneBlocked, and clears it when manifests return', () => {
    const first = load([['web', 1]]);
    apply(revision('a', 'one', first));
    const empty = load([], [], 0);
    apply(revision('b', 'oops', empty, first));
    expect(desired.get('web')).toBeDefined();
    expect(store.app('web')?.conditions.find((c) => c.type === 'PruneBlocked')).toMatchObject({ status: 'True', reason: 'EmptySource' });
    apply(revision('c', 'restored', first, empty));
    expect(store.app('web')?.conditions.find((c) => c.type === 'PruneBlocked')).toBeUndefined();
  });

  it('sets SourceFailed on every app while polls fail (one event row per outage), and clears it on recovery', () => {
    apply(revision('a', 'one', load([['web', 1], ['api', 1]])));
    const failure = { kind: 'auth' as const, message: 'git ls-remote failed: Permission denied (publickey)', attempt: 1, retryInMs: 30_000, currentCommit: 'a'.repeat(40), error: new GitSourceError('auth', 'x') };
    recorder.recordFailure(failure, desired);
    recorder.recordFailure({ ...failure, attempt: 2, retryInMs: 60_000 }, desired);
    expect(store.app('web')?.conditions.find((c) => c.type === 'SourceFailed')).toMatchObject({ status: 'True', reason: 'AuthFailed' });
    const failed = store.events().filter((e) => e.reason === 'SourceFailed');
    expect(failed).toHaveLength(1);
    expect(failed[0]?.count).toBe(2);
    expect(failed[0]?.message).toMatch(/stays applied/);
    recorder.recordRecovered();
    expect(store.app('web')?.conditions.some((c) => c.type === 'SourceFailed')).toBe(false);
    expect(store.events().at(-1)?.reason).toBe('SourceRecovered');
  });
});
