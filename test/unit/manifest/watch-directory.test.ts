import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { watchManifestDirectory } from '../../../src/manifest/watch-directory.js';
import type { LoadResult } from '../../../src/manifest/types.js';
import { minimalYaml, withTempDir } from './fixtures.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls until `check` passes or `timeoutMs` runs out (then fails with the last state). */
async function waitFor(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await sleep(25);
  }
}

describe('watchManifestDirectory', () => {
  it('delivers an initial load, then one load for a burst of 20 writes', async () => {
    await withTempDir(async (dir) => {
      await writeFile(path.join(dir, 'seed.yaml'), minimalYaml('seed'));
      const loads: LoadResult[] = [];
      const watcher = watchManifestDirectory(dir, (r) => loads.push(r), { debounceMs: 300 });
      try {
        await watcher.ready;
        expect(loads).toHaveLength(1);
        expect([...(loads[0]?.apps.keys() ?? [])]).toEqual(['seed']);

        for (let i = 0; i < 20; i++) {
          await writeFile(path.join(dir, `app-${i}.yaml`), minimalYaml(`app-${i}`));
          await sleep(5);
        }
        await waitFor(() => loads.length >= 2);
        await sleep(800); // a second load, if the burst were split, would land here
        expect(loads).toHaveLength(2);
        expect(loads[1]?.apps.size).toBe(21);
        expect(loads[1]?.fileCount).toBe(21);
      } finally {
        await watcher.close();
      }
    });
  });

  it('ignores dotfiles and non-manifest files, and reloads on deletion', async () => {
    await withTempDir(async (dir) => {
      await writeFile(path.join(dir, 'a.yaml'), minimalYaml('a'));
      const loads: LoadResult[] = [];
      const watcher = watchManifestDirectory(dir, (r) => loads.push(r), { debounceMs: 100 });
      try {
        await watcher.ready;
        await writeFile(path.join(dir, '.a.yaml.swp'), 'junk');
        await writeFile(path.join(dir, 'notes.txt'), 'junk');
        await sleep(600);
        expect(loads).toHaveLength(1);

        await rm(path.join(dir, 'a.yaml'));
        await waitFor(() => loads.length === 2);
        expect(loads[1]?.fileCount).toBe(0);
      } finally {
        await watcher.close();
      }
    });
  });

  it('survives a directory that does not exist yet and picks it up when it appears', async () => {
    await withTempDir(async (parent) => {
      const dir = path.join(parent, 'manifests');
      const loads: LoadResult[] = [];
      const errors: unknown[] = [];
      const watcher = watchManifestDirectory(dir, (r) => loads.push(r), { debounceMs: 100, missingPollMs: 200, onError: (e) => errors.push(e) });
      try {
        await watcher.ready;
        expect(loads[0]?.fileCount).toBe(0);
        await mkdir(dir);
        await sleep(200);
        await writeFile(path.join(dir, 'a.yaml'), minimalYaml('a'));
        await waitFor(() => loads.some((r) => r.apps.has('a')));
        expect(errors).toEqual([]);
      } finally {
        await watcher.close();
      }
    });
  });

  it('makes no onLoad call after close', async () => {
    await withTempDir(async (dir) => {
      const loads: LoadResult[] = [];
      const watcher = watchManifestDirectory(dir, (r) => loads.push(r), { debounceMs: 50 });
      await watcher.ready;
      await writeFile(path.join(dir, 'a.yaml'), minimalYaml('a'));
      await watcher.close();
      const count = loads.length;
      await sleep(300);
      expect(loads.length).toBe(count);
    });
  });
});
