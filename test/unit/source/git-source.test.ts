// GitSource against real local repositories (file:// URLs): clone, new commits, atomic switch,
// invalid and deleted manifests, empty trees, an unreachable remote, force-push, a deleted branch,
// restart and syncNow. No Docker.
import { readdir, readFile, readlink, stat } from 'node:fs/promises';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GitSource, type GitRevision, type GitSourceFailure, type GitSourceOptions } from '../../../src/source/git-source.js';
import { createGitRemote, type GitRemote } from './git-remote.js';
import { appManifest } from '../../support/app-manifest.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

interface Harness {
  source: GitSource;
  revisions: GitRevision[];
  failures: GitSourceFailure[];
  recoveries: number;
  last(): GitRevision;
}

describe('GitSource', () => {
  let remote: GitRemote;
  const sources: GitSource[] = [];

  beforeEach(async () => {
    remote = await createGitRemote();
  });
  afterEach(async () => {
    for (const s of sources.splice(0)) await s.stop();
    await remote.cleanup();
  });

  function startSource(overrides: Partial<GitSourceOptions> = {}): Harness {
    const h: Harness = {
      source: undefined as unknown as GitSource,
      revisions: [],
      failures: [],
      recoveries: 0,
      last() {
        const rev = h.revisions.at(-1);
        if (!rev) throw new Error('no revision yet');
        return rev;
      },
    };
    h.source = new GitSource({
      url: remote.url,
      branch: 'main',
      intervalMs: 100,
      maxBackoffMs: 300,
      stateDir: join(remote.root, 'state'),
      logger: pino({ level: 'silent' }),
      onRevision: (rev) => h.revisions.push(rev),
      onError: (failure) => h.failures.push(failure),
      onRecovered: () => h.recoveries++,
      ...overrides,
    });
    sources.push(h.source);
    return h;
  }

  it('clones the branch, checks the commit out and points current at it', async () => {
    const sha = await remote.commit({ 'web.yaml': appManifest('web'), 'api.yaml': appManifest('api') }, 'first apps');
    await remote.push();
    const h = startSource();
    await h.source.start();

    expect(h.revisions).toHaveLength(1);
    const rev = h.last();
    expect(rev).toMatchObject({ commit: sha, message: 'first apps', restored: false, changedApps: ['api', 'web'] });
    expect(Date.parse(rev.time)).toBeGreaterThan(Date.now() - 60_000);
    expect([...rev.load.apps.keys()].sort()).toEqual(['api', 'web']);
    expect(rev.load.errors).toEqual([]);
    expect(rev.dir).toBe(join(remote.root, 'state', 'git', 'current'));
    expect(await readlink(join(remote.root, 'state', 'git', 'current'))).toBe(join('checkouts', sha));
    expect(await readFile(join(rev.dir, 'web.yaml'), 'utf8')).toBe(appManifest('web'));
    expect(h.failures).toEqual([]);
  });

  it('works on its own checkout even when started from inside another git (GIT_DIR and GIT_WORK_TREE inherited)', async () => {
    const decoy = await createGitRemote('decoy');
    const decoyHead = await decoy.commit({ 'other.yaml': appManifest('other') }, 'decoy');
    const saved = { dir: process.env.GIT_DIR, tree: process.env.GIT_WORK_TREE };
    process.env.GIT_DIR = join(decoy.root, 'work', '.git');
    process.env.GIT_WORK_TREE = join(decoy.root, 'work');
    try {
      const sha = await remote.commit({ 'web.yaml': appManifest('web') }, 'web');
      await remote.push();
      const h = startSource();
      await h.source.start();
      expect(h.failures).toEqual([]);
      expect(h.last()).toMatchObject({ commit: sha, changedApps: ['web'] });
      expect(h.failures).toEqual([]);
    } finally {
      if (saved.dir === undefined) delete process.env.GIT_DIR; else process.env.GIT_DIR = saved.dir;
      if (saved.tree === undefined) delete process.env.GIT_WORK_TREE; else process.env.GIT_WORK_TREE = saved.tree;
    }
    expect(await decoy.git('rev-parse', 'HEAD')).toBe(decoyHead); // the decoy repository is untouched
    expect(await decoy.git('status', '--porcelain')).toBe('');
    await decoy.cleanup();
  });

  it('delivers each new commit with the apps it changed, keeping only the current and previous checkouts', async () => {
    await remote.commit({ 'web.yaml': appManifest('web'), 'api.yaml': appManifest('api') }, 'one');
    await remote.push();
    const h = startSource();
    await h.source.start();

    const second = await remote.commit({ 'web.yaml': appManifest('web', { replicas: 3 }), 'docs/README.md': '# not a manifest' }, 'scale web');
    await remote.push();
    await waitFor(() => h.revisions.length === 2, 'second revision');
    expect(h.last()).toMatchObject({ commit: second, message: 'scale web', changedApps: ['web'] });
    expect(h.last().diff).toEqual({ added: [], changed: ['web'], removed: [], invalid: [] });

    const third = await remote.commit({ 'api.yaml': appManifest('api', { image: 'autoserve-demo:v2' }) }, 'api v2');
    await remote.push();
    await waitFor(() => h.revisions.length === 3, 'third revision');
    expect(h.last()).toMatchObject({ commit: third, changedApps: ['api'], previousCommit: second });
    // Old checkouts are pruned right after the revision is delivered: wait for it.
    const checkoutsDir = join(remote.root, 'state', 'git', 'checkouts');
    await waitFor(async () => (await readdir(checkoutsDir)).length === 2, 'old checkouts pruned');
    expect((await readdir(checkoutsDir)).sort()).toEqual([second, third].sort());
    expect(await readlink(join(remote.root, 'state', 'git', 'previous'))).toBe(join('checkouts', second));

    // A commit that changes no manifest is still a revision, with no app changed.
    await remote.commit({ 'docs/README.md': '# still not a manifest' }, 'docs only');
    await remote.push();
    await waitFor(() => h.revisions.length === 4, 'fourth revision');
    expect(h.last().changedApps).toEqual([]);
  });

  it('never lets a reader of current see a half-written tree', async () => {
    const FILES = 30;
    const generation = (n: number) =>
      Object.fromEntries(Array.from({ length: FILES }, (_, i) => [`apps/app-${i}.yaml`, `${appManifest(`app-${i}`, { replicas: n })}`]));
    await remote.commit(generation(1), 'gen 1');
    await remote.push();
    const h = startSource({ intervalMs: 20, path: 'apps' });
    await h.source.start();

    const current = join(remote.root, 'state', 'git', 'current');
    let reading = true;
    let samples = 0;
    const problems: string[] = [];
    const reader = (async () => {
      while (reading) {
        let dir: string;
        try {
          dir = join(remote.root, 'state', 'git', await readlink(current), 'apps');
        } catch {
          problems.push('current link missing');
          continue;
        }
        try {
          const files = await readdir(dir);
          const texts = await Promise.all(files.map((f) => readFile(join(dir, f), 'utf8')));
          const gens = new Set(texts.map((t) => /replicas: (\d+)/.exec(t)?.[1]));
          await stat(dir); // still there: the sample counts (a pruned old checkout is skipped)
          if (files.length !== FILES || gens.size !== 1) problems.push(`${dir}: ${files.length} files, generations ${[...gens].join(',')}`);
          samples++;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') problems.push(String(err));
        }
      }
    })();

    for (let n = 2; n <= 8; n++) {
      await remote.commit(generation(n), `gen ${n}`);
      await remote.push();
      await waitFor(() => h.revisions.length === n, `generation ${n}`);
    }
    reading = false;
    await reader;
    expect(problems).toEqual([]);
    expect(samples).toBeGreaterThan(10);
    // The loader saw each generation whole, too.
    for (const rev of h.revisions) {
      expect(rev.load.apps.size).toBe(FILES);
      expect(new Set([...rev.load.apps.values()].map((a) => a.manifest.spec.replicas)).size).toBe(1);
    }
  });

  it('delivers a commit with invalid manifests with its errors, by file and field', async () => {
    await remote.commit({ 'web.yaml': appManifest('web'), 'api.yaml': appManifest('api') }, 'good');
    await remote.push();
    const h = startSource();
    await h.source.start();

    await remote.commit(
      { 'web.yaml': appManifest('web').replace('replicas: 1', 'replicas: many'), 'broken.yaml': 'kind: App\nmetadata: [unclosed\n' },
      'break things',
    );
    await remote.push();
    await waitFor(() => h.revisions.length === 2, 'the invalid revision');
    const rev = h.last();
    expect(h.failures).toEqual([]); // invalid manifests are not a source failure
    expect([...rev.load.apps.keys()]).toEqual(['api']);
    expect(rev.diff.invalid).toEqual(['web']);
    expect(rev.diff.removed).toEqual([]);
    expect(rev.load.errors.some((e) => e.file.endsWith('web.yaml') && e.path === '/spec/replicas')).toBe(true);
    expect(rev.load.errors.some((e) => e.file.endsWith('broken.yaml'))).toBe(true);
  });

  it('reports an app whose file a commit deletes as removed', async () => {
    await remote.commit({ 'web.yaml': appManifest('web'), 'api.yaml': appManifest('api') }, 'two apps');
    await remote.push();
    const h = startSource();
    await h.source.start();
    await remote.commit({ 'api.yaml': null }, 'drop api');
    await remote.push();
    await waitFor(() => h.revisions.length === 2, 'the deleting revision');
    expect(h.last().diff).toEqual({ added: [], changed: [], removed: ['api'], invalid: [] });
    expect(h.last().load.fileCount).toBe(1);
  });

  it('treats a missing or emptied manifests path as an empty load (fileCount 0), not an error', async () => {
    await remote.commit({ 'README.md': 'nothing here yet' }, 'no apps dir');
    await remote.push();
    const h = startSource({ path: 'deploy/apps/' });
    await h.source.start();
    expect(h.failures).toEqual([]);
    expect(h.last().load).toMatchObject({ fileCount: 0, errors: [] });
    expect(h.last().path).toBe('deploy/apps');

    await remote.commit({ 'deploy/apps/web.yaml': appManifest('web') }, 'add web');
    await remote.push();
    await waitFor(() => h.revisions.length === 2, 'web added');
    expect(h.last().changedApps).toEqual(['web']);

    await remote.commit({ deploy: null }, 'remove the whole directory');
    await remote.push();
    await waitFor(() => h.revisions.length === 3, 'the empty revision');
    expect(h.last().load).toMatchObject({ fileCount: 0, errors: [] });
    expect(h.last().diff.removed).toEqual(['web']); // DesiredState's guard decides whether it goes
    expect(h.failures).toEqual([]);
  });

  it('keeps the current checkout while the remote is unreachable, backs off, and recovers by itself', async () => {
    const first = await remote.commit({ 'web.yaml': appManifest('web') }, 'one');
    await remote.push();
    const h = startSource();
    await h.source.start();

    await remote.makeUnreachable();
    await waitFor(() => h.failures.length >= 3, 'three failed polls');
    expect(h.failures[0]).toMatchObject({ kind: 'fetch', attempt: 1, currentCommit: first });
    expect(h.failures[0]!.message).toMatch(/git ls-remote failed/);
    expect(h.failures.map((f) => f.retryInMs).slice(0, 3)).toEqual([100, 200, 300]);
    expect(await readlink(join(remote.root, 'state', 'git', 'current'))).toBe(join('checkouts', first));
    expect(h.source.commit).toBe(first);

    await remote.makeReachable();
    const second = await remote.commit({ 'web.yaml': appManifest('web', { replicas: 2 }) }, 'two');
    await remote.push();
    await waitFor(() => h.revisions.length === 2, 'the revision after recovery');
    expect(h.recoveries).toBe(1);
    expect(h.last().commit).toBe(second);
  });

  it('checks out a force-pushed (non-fast-forward) commit like any other', async () => {
    const base = await remote.commit({ 'web.yaml': appManifest('web') }, 'base');
    await remote.push();
    await remote.commit({ 'web.yaml': appManifest('web', { replicas: 2 }) }, 'two');
    await remote.push();
    const h = startSource();
    await h.source.start();
    expect(h.last().message).toBe('two');

    await remote.resetHard(base);
    const rewritten = await remote.commit({ 'web.yaml': appManifest('web', { replicas: 5 }) }, 'rewritten');
    await remote.push({ force: true });
    await waitFor(() => h.revisions.length === 2, 'the force-pushed revision');
    expect(h.last()).toMatchObject({ commit: rewritten, message: 'rewritten', changedApps: ['web'] });
    expect(h.failures).toEqual([]);
  });

  it('reports a deleted branch as missing-branch, keeps the checkout, and recovers when it is back', async () => {
    const first = await remote.commit({ 'web.yaml': appManifest('web') }, 'one');
    await remote.push();
    const h = startSource();
    await h.source.start();

    await remote.deleteBranch('main');
    await waitFor(() => h.failures.length >= 1, 'a failed poll');
    expect(h.failures[0]).toMatchObject({ kind: 'missing-branch', currentCommit: first });
    expect(h.source.commit).toBe(first);

    await remote.push();
    await waitFor(() => h.recoveries === 1, 'recovery');
    expect(h.revisions).toHaveLength(1); // same commit: nothing new to deliver
  });

  it('comes up with an unreachable remote: restores the last checkout, then reports the failure', async () => {
    const first = await remote.commit({ 'web.yaml': appManifest('web') }, 'one');
    await remote.push();
    const a = startSource();
    await a.source.start();
    await a.source.stop();

    await remote.makeUnreachable();
    const b = startSource();
    await b.source.start();
    expect(b.revisions).toHaveLength(1);
    expect(b.revisions[0]).toMatchObject({ commit: first, message: 'one', restored: true });
    expect([...b.revisions[0]!.load.apps.keys()]).toEqual(['web']);
    expect(b.failures[0]).toMatchObject({ kind: 'fetch', currentCommit: first });
  });

  it('fails the first poll without a revision when nothing was ever fetched', async () => {
    await remote.commit({ 'web.yaml': appManifest('web') }, 'one');
    await remote.push();
    await remote.makeUnreachable();
    const h = startSource();
    await h.source.start(); // resolves: the daemon comes up without manifests
    expect(h.revisions).toEqual([]);
    expect(h.failures[0]).toMatchObject({ kind: 'fetch', attempt: 1 });
    expect(h.failures[0]!.currentCommit).toBeUndefined();
  });

  it('syncNow fetches at once instead of waiting for the interval', async () => {
    await remote.commit({ 'web.yaml': appManifest('web') }, 'one');
    await remote.push();
    const h = startSource({ intervalMs: 60_000 });
    await h.source.start();
    const second = await remote.commit({ 'web.yaml': appManifest('web', { replicas: 2 }) }, 'two');
    await remote.push();
    await sleep(300);
    expect(h.revisions).toHaveLength(1);
    h.source.syncNow();
    await waitFor(() => h.revisions.length === 2, 'the synced revision', 5_000);
    expect(h.last().commit).toBe(second);
  });

  it('stop() ends polling: no callback afterwards', async () => {
    await remote.commit({ 'web.yaml': appManifest('web') }, 'one');
    await remote.push();
    const h = startSource({ intervalMs: 20 });
    await h.source.start();
    await h.source.stop();
    await remote.commit({ 'web.yaml': appManifest('web', { replicas: 2 }) }, 'two');
    await remote.push();
    await sleep(300);
    expect(h.revisions).toHaveLength(1);
  });

  it('writes repository symlinks as plain files, so a commit cannot make the loader read outside its tree', async () => {
    await remote.commit({ 'web.yaml': appManifest('web') }, 'one');
    await remote.git('config', 'core.symlinks', 'true');
    const { symlink } = await import('node:fs/promises');
    await symlink('/etc/hostname', join(remote.work, 'host.yaml'));
    await remote.commit({}, 'add a symlink');
    await remote.push();
    const h = startSource();
    await h.source.start();
    expect(await readFile(join(h.last().dir, 'host.yaml'), 'utf8')).toBe('/etc/hostname');
  });

  it('rejects URLs, branches and paths that could be read as options or escape the checkout', () => {
    const base = { stateDir: '/tmp/x', logger: pino({ level: 'silent' }), onRevision: () => {}, onError: () => {} };
    expect(() => new GitSource({ ...base, url: '--upload-pack=touch /tmp/pwned' })).toThrow(/not a git URL/);
    expect(() => new GitSource({ ...base, url: remote.url, branch: '-x' })).toThrow(/not a branch/);
    expect(() => new GitSource({ ...base, url: remote.url, branch: 'a..b' })).toThrow(/not a branch/);
    expect(() => new GitSource({ ...base, url: remote.url, path: '../outside' })).toThrow(/inside the repository/);
    expect(() => new GitSource({ ...base, url: remote.url, path: '/etc' })).toThrow(/inside the repository/);
    expect(new GitSource({ ...base, url: remote.url, path: './deploy//apps/' }).path).toBe('deploy/apps');
  });

  it('backs off exponentially from the interval, capped', () => {
    const source = new GitSource({
      url: remote.url,
      intervalMs: 1_000,
      maxBackoffMs: 10_000,
      stateDir: '/tmp/x',
      logger: pino({ level: 'silent' }),
      onRevision: () => {},
      onError: () => {},
    });
    expect([1, 2, 3, 4, 5, 50].map((n) => source.backoffMs(n))).toEqual([1_000, 2_000, 4_000, 8_000, 10_000, 10_000]);
  });
});
