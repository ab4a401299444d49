// Watches the manifest directory and reloads all of it after each burst of changes.
// Level-triggered: an event only says "something changed"; the whole tree is re-read, so a lost
// or reordered event cannot leave a stale app behind. Debounced: a `git pull` touching 50 files
// is one load, not 50. An initial load is delivered once the watcher is ready, so the caller needs
// no separate start-up load. `reload()` re-reads the tree without an event (the periodic resync),
// so a missed inotify event or an exhausted watch limit costs one resync period at most.
//
// A file caught mid-write (empty, or cut short) can read as "this app is gone". A load that
// `confirm` flags (it would remove an app) is therefore read again after the debounce and
// delivered only once two reads in a row agree.

import { existsSync, lstatSync } from 'node:fs';
import path from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import type { LoadResult } from './types.js';
import { stableJson } from '../core/stable-json.js';
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
  /** True for a load that must be read again before it is delivered (it would remove an app). */
  confirm?: (result: LoadResult) => boolean;
}

/** Reads of a load that keeps changing before it is delivered anyway. */
const MAX_CONFIRM_READS = 10;

export interface ManifestWatcher {
  /** Resolves after the watcher is ready and the initial load has been delivered. */
  ready: Promise<void>;
  /** Re-reads the whole tree now, as a change would (a resync); resolves once it was delivered. */
  reload(): Promise<void>;
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

  const ignored = (file: string, stats?: { isFile(): boolean; isDirectory(): boolean }): boolean => {
    const relative = path.relative(root, path.resolve(file));
    if (relative === '' || relative.startsWith('..')) return false;
    if (isHiddenPath(relative)) return true;
    // A symlinked directory is not followed, as the loader does not follow it: a link to / or
    // /proc would have the watcher walk (and watch) the whole machine. The root may be a link.
    if (stats?.isDirectory() === true) return isSymlink(file);
    // Directories must pass (their files matter); only files are filtered by extension.
    return stats?.isFile() === true && !isManifestFileName(file);
  };

  /** A load; one that `confirm` flags is re-read after the debounce until two reads agree. */
  const confirmedLoad = async (): Promise<LoadResult | undefined> => {
    let result = await loadManifestDirectory(root);
    for (let reads = 1; opts.confirm?.(result) && reads < MAX_CONFIRM_READS && !closed; reads++) {
      await new Promise((resolve) => setTimeout(resolve, debounceMs));
      const again = await loadManifestDirectory(root);
      const agreed = sameLoad(result, again);
      result = again;
      if (agreed) break;
    }
    return closed ? undefined : result;
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
          const result = await confirmedLoad();
          if (result && !closed) onLoad(result);
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
    // Unreadable directories are the loader's to report (by name, as an error of the load).
    const w = watch(root, { ignoreInitial: true, ignored, ignorePermissionErrors: true });
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
    closeWatcher(old).catch(onError);
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
    reload: async () => {
      await ready;
      if (!closed) await load();
    },
    async close() {
      closed = true;
      openGate(); // a close before 'ready' must not leave `ready` pending forever
      clearInterval(poll);
      if (timer) clearTimeout(timer);
      timer = undefined;
      await closeWatcher(watcher);
      await running;
    },
  };
}

/**
 * Closes a chokidar watcher. Its close drops every listener, yet a stat still under way may fail
 * afterwards and emit 'error': with no listener that would end the process.
 */
function closeWatcher(w: FSWatcher): Promise<void> {
  const closing = w.close();
  w.on('error', () => {});
  return closing;
}

function isSymlink(file: string): boolean {
  try {
    return lstatSync(file).isSymbolicLink();
  } catch {
    return false; // gone meanwhile: the next load sees what is there
  }
}

/** Two reads of the tree that say the same (apps with their files, errors, file count). */
function sameLoad(a: LoadResult, b: LoadResult): boolean {
  const key = (r: LoadResult) => stableJson({ apps: [...r.apps.values()], clashes: [...(r.clashes?.values() ?? [])], errors: r.errors, fileCount: r.fileCount });
  return key(a) === key(b);
}
