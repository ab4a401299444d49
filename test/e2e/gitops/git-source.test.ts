// GitOps end to end: a real local bare repository (file:// URL) pushed to from a work clone, the
// daemon polling it every second, real Docker and the daemon's own nginx.
//
// Written against the daemon's git wiring (DaemonOptions.gitUrl/gitBranch/gitPath/gitIntervalMs,
// createManifestSource + SourceStatusRecorder in daemon.ts; see docs/gitops.md).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DaemonOptions } from '../../../src/daemon/options.js';
import type { GitDaemonOptions } from '../../../src/source/manifest-source.js';
import { eventually } from '../../support/eventually.js';
import { httpGet } from '../../support/http-get.js';
import { createGitRemote, type GitRemote } from '../../unit/source/git-remote.js';
import { appManifest } from '../../support/app-manifest.js';
import { startTestDaemon, type TestDaemon } from '../harness.js';

const CONVERGE_MS = 40_000;

describe('gitops: a git branch drives the host', () => {
  let remote: GitRemote;
  let t: TestDaemon;
  let firstCommit = '';

  const version = async (app: string) => (await httpGet(t.options.lbPort, `${app}.localhost`, '/version')).body.trim();
  const condition = (app: string, type: string) => t.daemon.store.app(app)?.conditions.find((c) => c.type === type);
  const globalEvents = (reason: string) => t.daemon.store.events().filter((e) => e.reason === reason && e.app === undefined);

  beforeAll(async () => {
    remote = await createGitRemote('e2e');
    firstCommit = await remote.commit({ 'apps/web.yaml': appManifest('web'), 'README.md': 'apps live in apps/' }, 'add web');
    await remote.push();
    const git: Partial<DaemonOptions> & GitDaemonOptions = { gitUrl: remote.url, gitBranch: 'main', gitPath: 'apps', gitIntervalMs: 1_000 };
    t = await startTestDaemon('gitops', git);
  });
  afterAll(async () => {
    await t?.cleanup();
    await remote?.cleanup();
  });

  it('runs the apps of the branch and stamps the applied commit on their status', async () => {
    await eventually(async () => expect(await version('web')).toBe('v1'), { timeoutMs: CONVERGE_MS, message: 'web v1 through nginx' });
    expect(t.daemon.store.app('web')?.revision).toMatchObject({ commit: firstCommit, message: 'add web' });
    expect(globalEvents('NewRevision').some((e) => e.message.includes(firstCommit.slice(0, 12)) && e.message.includes('added web'))).toBe(true);
  });

  it('rolls out a pushed commit and records which apps it changed', async () => {
    const commit = await remote.commit({ 'apps/web.yaml': appManifest('web', { image: 'autoserve-demo:v2' }) }, 'web to v2');
    await remote.push();
    await eventually(async () => expect(await version('web')).toBe('v2'), { timeoutMs: CONVERGE_MS, message: 'web v2 through nginx' });
    // The old replica retires only after the new one has been ready for minReadySeconds: wait for
    // the end of the rollout, so that every later answer comes from v2.
    await eventually(async () => expect(await t.running('web')).toHaveLength(1), { timeoutMs: CONVERGE_MS, message: 'v1 retired' });
    await eventually(() => expect(t.daemon.store.app('web')?.revision?.commit).toBe(commit));
    const event = globalEvents('NewRevision').find((e) => e.message.includes(commit.slice(0, 12)));
    expect(event?.message).toMatch(/"web to v2": changed web/);
  });

  it('applies none of an invalid commit\'s bad files: the last good spec keeps serving, the errors are an event', async () => {
    const commit = await remote.commit(
      {
        'apps/web.yaml': appManifest('web', { image: 'autoserve-demo:v1' }).replace('replicas: 1', 'replicas: many'),
        'apps/api.yaml': appManifest('api'),
      },
      'break web, add api',
    );
    await remote.push();
    await eventually(async () => expect(await version('api')).toBe('v1'), { timeoutMs: CONVERGE_MS, message: 'api (valid in the same commit) serving' });
    const invalid = await eventually(() => {
      const e = globalEvents('RevisionInvalid').find((x) => x.message.includes(commit.slice(0, 12)));
      expect(e).toBeDefined();
      return e!;
    });
    expect(invalid.message).toMatch(/apps\/web\.yaml: \/spec\/replicas: /);
    expect(await version('web')).toBe('v2'); // still the last good spec
    expect(condition('web', 'ManifestInvalid')?.status).toBe('True');
    expect(t.daemon.store.app('web')?.revision?.message).toBe('web to v2');
    expect(t.daemon.store.app('api')?.revision?.commit).toBe(commit);
  });

  it('removes an app whose file a commit deletes', async () => {
    await remote.commit({ 'apps/api.yaml': null, 'apps/web.yaml': appManifest('web', { image: 'autoserve-demo:v2' }) }, 'drop api, fix web');
    await remote.push();
    await eventually(async () => expect(await t.containers('api')).toHaveLength(0), { timeoutMs: CONVERGE_MS, message: 'api removed' });
    await eventually(() => expect(condition('web', 'ManifestInvalid')).toBeUndefined());
    expect(await version('web')).toBe('v2');
  });

  it('removes nothing when a commit empties the manifests path: PruneBlocked event and condition instead', async () => {
    const before = (await t.running('web')).map((c) => c.id);
    await remote.commit({ apps: null }, 'oops: delete the apps directory');
    await remote.push();
    await eventually(() => expect(condition('web', 'PruneBlocked')?.status).toBe('True'), { timeoutMs: 15_000 });
    expect(t.daemon.store.events().some((e) => e.reason === 'PruneBlocked')).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 3_000)); // a few polls and resyncs
    expect((await t.running('web')).map((c) => c.id)).toEqual(before);
    expect(await version('web')).toBe('v2');

    await remote.commit({ 'apps/web.yaml': appManifest('web', { image: 'autoserve-demo:v2' }) }, 'restore apps');
    await remote.push();
    await eventually(() => expect(condition('web', 'PruneBlocked')).toBeUndefined(), { timeoutMs: 15_000 });
    expect((await t.running('web')).map((c) => c.id)).toEqual(before); // same spec: untouched
  });

  it('keeps serving through an unreachable remote with SourceFailed set, and recovers by itself', async () => {
    await remote.makeUnreachable();
    try {
      await eventually(() => expect(condition('web', 'SourceFailed')).toMatchObject({ status: 'True', reason: 'FetchFailed' }), { timeoutMs: 15_000 });
      expect(globalEvents('SourceFailed').length).toBeGreaterThan(0);
      expect(await version('web')).toBe('v2');
    } finally {
      await remote.makeReachable();
    }
    await eventually(() => expect(condition('web', 'SourceFailed')).toBeUndefined(), { timeoutMs: 20_000, message: 'SourceFailed cleared' });
    expect(globalEvents('SourceRecovered').length).toBeGreaterThan(0);
  });

  it('applies a force-pushed commit like any other', async () => {
    await remote.resetHard(firstCommit);
    const rewritten = await remote.commit({ 'apps/web.yaml': appManifest('web', { image: 'autoserve-demo:v1', replicas: 2 }) }, 'rewrite history');
    await remote.push({ force: true });
    await eventually(async () => {
      expect(await t.running('web')).toHaveLength(2);
      expect(await version('web')).toBe('v1');
    }, { timeoutMs: CONVERGE_MS, message: 'the force-pushed spec applied' });
    await eventually(() => expect(t.daemon.store.app('web')?.revision?.commit).toBe(rewritten));
  });
});
