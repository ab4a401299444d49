// createManifestSource: one onLoad callback for both modes.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { LoadResult } from '../../../src/manifest/types.js';
import { createManifestSource, DirectorySource } from '../../../src/source/manifest-source.js';
import { GitSource, type GitRevision } from '../../../src/source/git-source.js';
import { createGitRemote, type GitRemote } from './git-remote.js';
import { appManifest } from '../../support/app-manifest.js';

describe('createManifestSource', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('watches the directory by default and delivers the initial load from start()', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'autoserve-dirsource-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    await writeFile(join(dir, 'web.yaml'), appManifest('web'));
    const loads: [LoadResult, GitRevision | undefined][] = [];
    const source = createManifestSource({ manifestsDir: dir, stateDir: join(dir, 'state'), debounceMs: 50 }, { onLoad: (r, rev) => loads.push([r, rev]) }, pino({ level: 'silent' }));
    cleanups.push(() => source.stop());
    expect(source).toBeInstanceOf(DirectorySource);
    expect(source.syncNow).toBeUndefined();
    await source.start();
    expect(loads).toHaveLength(1);
    expect([...loads[0]![0].apps.keys()]).toEqual(['web']);
    expect(loads[0]![1]).toBeUndefined();
  });

  it('uses git when gitUrl is set, delivering the load with its revision', async () => {
    const remote: GitRemote = await createGitRemote('factory');
    cleanups.push(() => remote.cleanup());
    const sha = await remote.commit({ 'deploy/web.yaml': appManifest('web') }, 'web');
    await remote.push();
    const loads: [LoadResult, GitRevision | undefined][] = [];
    const source = createManifestSource(
      { manifestsDir: '/unused', stateDir: join(remote.root, 'state'), debounceMs: 50, gitUrl: remote.url, gitBranch: 'main', gitPath: 'deploy', gitIntervalMs: 1_000 },
      { onLoad: (r, rev) => loads.push([r, rev]) },
      pino({ level: 'silent' }),
    );
    cleanups.push(() => source.stop());
    expect(source).toBeInstanceOf(GitSource);
    await source.start();
    expect(loads).toHaveLength(1);
    expect([...loads[0]![0].apps.keys()]).toEqual(['web']);
    expect(loads[0]![1]?.commit).toBe(sha);
  });
});
