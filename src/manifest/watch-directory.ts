// Watches the manifest directory and reloads all of it after each burst of changes.
// Level-triggered: an event only says "something changed"; the whole tree is re-read, so a lost
// or reordered event cannot leave a stale app behind. Debounced: a `git pull` touching 50 files
// is one load, not 50. An initial load is delivered once the watcher is ready, so the caller needs
// no separate start-up load.

import { existsSync } from 'node:fs';
import path from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import type { LoadResult } from './types.js';
import { loadManifestDirectory } from './load-directory.js';
import { isHiddenPath, isManifestFileName } from './list-manifest-files.js';

export interface WatchOptions {
  /** Quiet time after the last change before reloading. Default 300 ms. */
  debounceMs?: number;
  /** Reload at the latest this long after the first change of a burst that never goes quiet. Default 10 × debounceMs. */
  maxWaitMs?: number;
  /** How often to check whether the directory appeared or vanished. Default 1000 ms. */
  missingPollMs?: number;
  /** Called when a load or onLoad throws, or the watcher reports an error. Default: ignored. */
  onError?: (err: unknown) => void;
}

export interface ManifestWatcher {
  /** Resolves after the watcher is ready and the initial load has been delivered. */
  ready: Promise<void>;
  /** Stops watching; no onLoad call starts after it resolves. */
  close(): Promise<void>;
}

export function watchManifestDirectory(
  dir: string,
  onLoad: (result: LoadResult) => void,
  opts: WatchOptions = {},
): ManifestWatcher {
  const debounceMs = opts.debounceMs ?? 300;
  const maxWaitMs = opts.maxWaitMs ?? debounceMs * 10;
  const onError = opts.onError ?? (() => {});
  const root = path.resolve(dir);

  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let burstStartedAt: number | undefined;
  let running: Promise<void> | undefined;
  let rerun = false;

  const ignored = (file: string, stats?: { isFile(): boolean }): boolean => {
    const relative = path.relative(root, path.resolve(file));
    if (relative === '' || relative.startsWith('..')) return false;
    if (isHiddenPath(relative)) return true;
    // Directories must pass (their files matter); only files are filtered by extension.
    return stats?.isFile() === true && !isManifestFileName(file);
  };

  // One load at a time; changes during a load trigger exactly one more.
  const load = (): Promise<void> => {
    if (running) {
      rerun = true;
      return running;
    }
    running = (async () => {
      do {
        rerun = false;
        try {
          const result = await loadManifestDirectory(root);
          if (!closed) onLoad(result);
        } catch (err) {
          if (!closed) onError(err);
        }
      } while (rerun && !closed);
    })().finally(() => {
      running = undefined;
    });
    return running;
  };

  const schedule = () => {
    if (closed) return;
    const now = Date.now();
    burstStartedAt ??= now;
    if (timer) clearTimeout(timer);
    const delay = Math.max(0, Math.min(debounceMs, burstStartedAt + maxWaitMs - now));
    timer = setTimeout(() => {
      timer = undefined;
      burstStartedAt = undefined;
      void load();
    }, delay);
  };

  const startWatcher = (): FSWatcher => {
    const w = watch(root, { ignoreInitial: true, ignored });
    w.on('all', (event, file) => {
      if ((event === 'add' || event === 'change' || event === 'unlink') && !isManifestFileName(file)) return;
      schedule();
    });
    w.on('error', (err) => onError(err));
    return w;
  };
  let watcher = startWatcher();

  // chokidar watches a missing root through its parent, but can miss the root being created right
  // after it starts. So while the root is missing, poll for it; when it appears, start a fresh
  // watcher on it and reload once that watcher is ready (covering anything written meanwhile).
  let rootExists = existsSync(root);
  const poll = setInterval(() => {
    const exists = existsSync(root);
    if (exists === rootExists || closed) return;
    rootExists = exists;
    if (!exists) return schedule();
    const old = watcher;
    watcher = startWatcher();
    watcher.once('ready', () => schedule());
    old.close().catch(onError);
  }, opts.missingPollMs ?? 1000);
  poll.unref();

  let openGate: () => void = () => {};
  const gate = new Promise<void>((resolve) => {
    openGate = resolve;
  });
  watcher.once('ready', () => openGate());
  const ready = gate.then(() => (closed ? undefined : load()));

  return {
    ready,
    async close() {
      closed = true;
      openGate(); // a close before 'ready' must not leave `ready` pending forever
      clearInterval(poll);
      if (timer) clearTimeout(timer);
      timer = undefined;
      await watcher.close();
      await running;
    },
  };
}
