import { mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { watchManifestDirectory, type ManifestWatcher, type WatchOptions } from '../../../src/manifest/watch-directory.js';
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

/** A temp directory with `files`, watched with `opts`, for the length of `fn`; loads in order. */
async function watching(
  files: Record<string, string>,
  opts: WatchOptions,
  fn: (ctx: { dir: string; watcher: ManifestWatcher; loads: LoadResult[] }) => Promise<void>,
): Promise<void> {
  await withTempDir(async (dir) => {
    for (const [name, text] of Object.entries(files)) await writeFile(path.join(dir, name), text);
    const loads: LoadResult[] = [];
    const watcher = watchManifestDirectory(dir, (r) => loads.push(r), opts);
    try {
      await watcher.ready;
      await fn({ dir, watcher, loads });
    } finally {
      await watcher.close();
    }
  });
}

describe('watchManifestDirectory', () => {
  it('does not follow a symlinked directory: a link to / or /proc, or a loop, costs nothing and is never watched', async () => {
    await withTempDir(async (dir) => {
      await writeFile(path.join(dir, 'a.yaml'), minimalYaml('a'));
      await mkdir(path.join(dir, 'team'));
      await writeFile(path.join(dir, 'team', 'b.yaml'), minimalYaml('b'));
      await symlink('/', path.join(dir, 'everything'));
      await symlink('/proc', path.join(dir, 'proc.yaml'));
      await symlink('..', path.join(dir, 'team', 'up'));
      const loads: LoadResult[] = [];
      const errors: unknown[] = [];
      const started = Date.now();
      const watcher = watchManifestDirectory(dir, (r) => loads.push(r), { debounceMs: 50, onError: (e) => errors.push(e) });
      try {
        await Promise.race([watcher.ready, sleep(5_000)]);
        // Following / took over 20 s and a gigabyte before it was ready, with an error per /proc entry.
        expect(Date.now() - started).toBeLessThan(3_000);
        expect(errors).toEqual([]);
        expect([...(loads[0]?.apps.keys() ?? [])]).toEqual(['a', 'b']);
        await writeFile(path.join(dir, 'team', 'b.yaml'), minimalYaml('b', 'nginx:2'));
        await waitFor(() => loads.length >= 2);
      } finally {
        await watcher.close();
      }
    });
  });

  it('delivers an initial load, then one load for a burst of 20 writes', async () => {
    // A debounce far longer than the burst's 5 ms gaps, so a pause of a busy runner does not split it.
    await watching({ 'seed.yaml': minimalYaml('seed') }, { debounceMs: 1_000 }, async ({ dir, loads }) => {
      expect(loads).toHaveLength(1);
      expect([...(loads[0]?.apps.keys() ?? [])]).toEqual(['seed']);

      for (let i = 0; i < 20; i++) {
        await writeFile(path.join(dir, `app-${i}.yaml`), minimalYaml(`app-${i}`));
        await sleep(5);
      }
      await waitFor(() => loads.length >= 2);
      await sleep(2_000); // a second load, if the burst were split, would land here
      expect(loads).toHaveLength(2);
      expect(loads[1]?.apps.size).toBe(21);
      expect(loads[1]?.fileCount).toBe(21);
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

  it('reload() re-reads the tree without any file event (a missed inotify event costs one resync)', async () => {
    // A debounce far longer than the test: only reload() can deliver the change in time.
    await watching({ 'a.yaml': minimalYaml('a') }, { debounceMs: 60_000 }, async ({ dir, watcher, loads }) => {
      await writeFile(path.join(dir, 'b.yaml'), minimalYaml('b'));
      await watcher.reload();
      expect([...loads.at(-1)!.apps.keys()]).toEqual(['a', 'b']);
    });
  });

  it('a load that would remove an app is read again after the debounce: a file caught mid-write prunes nothing', async () => {
    const confirm = (r: LoadResult) => !r.apps.has('a');
    await watching({ 'a.yaml': minimalYaml('a') }, { debounceMs: 300, confirm }, async ({ dir, watcher, loads }) => {
      const file = path.join(dir, 'a.yaml');
      await writeFile(file, ''); // an editor truncated the file and has not written it yet
      const reading = watcher.reload(); // a resync reads it now, empty
      await sleep(100);
      await writeFile(file, minimalYaml('a', 'nginx:2'));
      await reading;
      await sleep(700); // the change event's own load
      expect(loads.length).toBeGreaterThan(1);
      expect(loads.every((r) => r.apps.has('a'))).toBe(true);
      expect(loads.at(-1)!.apps.get('a')!.manifest.spec.image).toBe('nginx:2');

      // Emptied for good: delivered once two reads agree.
      await writeFile(file, '');
      await watcher.reload();
      expect(loads.at(-1)!.apps.has('a')).toBe(false);
    });
  });
});
